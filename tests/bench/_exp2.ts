import { freshDatabase, flushBenchRedis, appEnv, prng, BENCH_SECRET } from "./lib/common";
const db = await freshDatabase("exp");
await flushBenchRedis();
Object.assign(process.env, appEnv(db.url));
const { closeDb } = await import("../../app/db.server");
const { closeQueues } = await import("../../jobs/queues");
const { receiveWebhook } = await import("../../app/services/webhook-ingress.server");
const { orderCreate, BENCH_SHOP } = await import("./lib/deliveries");
const { hmacOf } = await import("../support/webhooks");
const rand = prng(1);
const bodies = Array.from({ length: 2000 }, (_, i) => orderCreate(i, rand, { customers: 100, orderIdBase: 1 }).body);
const hm = bodies.map((b) => hmacOf(b, BENCH_SECRET));
async function conc(name: string, n: number, c: number, fn: (i: number) => Promise<unknown>) {
  let next = 0; const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, async () => { while (next < n) { const i = next++; await fn(i); } }));
  const s = (performance.now() - t0) / 1000;
  console.log(name, Math.round(n / s), "/s");
}
for (const c of [1, 50]) await conc("receiveWebhook c=" + c, c === 1 ? 300 : 4000, c, async (i) => {
  const body = bodies[i % 2000]!;
  const req = new Request("http://x/webhooks/orders", { method: "POST", headers: { "content-type": "application/json", "x-shopify-topic": "orders/create", "x-shopify-hmac-sha256": hm[i % 2000]!, "x-shopify-shop-domain": BENCH_SHOP, "x-shopify-api-version": "2026-07", "x-shopify-webhook-id": `w${c}-${i}` }, body });
  const r = await receiveWebhook(req);
  if (r.status !== 200) throw new Error("status " + r.status);
});
await closeQueues(); await closeDb(); await db.drop();
