import { freshDatabase, flushBenchRedis, appEnv } from "./lib/common";
const db = await freshDatabase("exp");
await flushBenchRedis();
Object.assign(process.env, appEnv(db.url));
const { getPool, closeDb } = await import("../../app/db.server");
const { enqueueApplyWebhook, closeQueues } = await import("../../jobs/queues");
const { getShopifyApi } = await import("../../app/shopify.server");
const { orderCreate } = await import("./lib/deliveries");
const { prng, BENCH_SECRET } = await import("./lib/common");
const { hmacOf } = await import("../support/webhooks");
const rand = prng(1);
const bodies = Array.from({ length: 2000 }, (_, i) => orderCreate(i, rand, { customers: 100, orderIdBase: 1 }).body);
async function conc(name: string, n: number, c: number, fn: (i: number) => Promise<unknown>) {
  let next = 0; const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, async () => { while (next < n) { const i = next++; await fn(i); } }));
  const s = (performance.now() - t0) / 1000;
  console.log(name, Math.round(n / s), "/s");
}
await getPool().query("select 1");
let k = 0;
await conc("pg insert", 4000, 50, (i) => getPool().query(`INSERT INTO webhook_events (shop, webhook_id, event_id, topic, api_version, triggered_at, payload) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (shop, webhook_id) DO NOTHING RETURNING id`, ["x.myshopify.com", `w${k++}`, null, "orders/create", "2026-07", null, bodies[i % 2000]]));
await enqueueApplyWebhook("0");
await conc("bullmq add", 4000, 50, (i) => enqueueApplyWebhook(String(i + 1)));
const api = getShopifyApi();
await conc("validate", 4000, 50, async (i) => {
  const body = bodies[i % 2000]!;
  const req = new Request("http://x/webhooks/orders", { method: "POST", headers: { "content-type": "application/json", "x-shopify-topic": "orders/create", "x-shopify-hmac-sha256": hmacOf(body, BENCH_SECRET), "x-shopify-shop-domain": "x.myshopify.com", "x-shopify-api-version": "2026-07", "x-shopify-webhook-id": "w" + i }, body });
  const r = await api.webhooks.validate({ rawBody: body, rawRequest: req });
  if (!r.valid) throw new Error("invalid");
});
await closeQueues(); await closeDb(); await db.drop();
