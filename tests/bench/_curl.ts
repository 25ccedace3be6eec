import { freshDatabase, flushBenchRedis, startRealServer, waitForPort } from "./lib/common";
import { execFileSync } from "node:child_process";
import { hmacOf } from "../support/webhooks";
import { BENCH_SECRET } from "./lib/common";
const db = await freshDatabase("curl");
await flushBenchRedis();
const s = startRealServer(db.url, 39104);
await waitForPort(39104, s);
const body = '{"id":1}';
for (let i = 0; i < 2; i++) {
const t0 = performance.now();
const out = execFileSync("curl", ["-s", "-i", "-w", "\n%{time_total}", "http://127.0.0.1:39104/webhooks/orders", "-H", "content-type: application/json", "-H", `x-shopify-hmac-sha256: ${hmacOf(body, BENCH_SECRET)}`, "-H", "x-shopify-topic: orders/create", "-H", "x-shopify-shop-domain: a.myshopify.com", "-H", "x-shopify-api-version: 2026-07", "-H", "x-shopify-webhook-id: abc" + i, "--data", body]).toString();
console.log(JSON.stringify(out), performance.now() - t0);
}
await s.stop(); await db.drop(); await (await import("./lib/common")).finishBench();
