import { freshDatabase, flushBenchRedis, appEnv, prng, BENCH_SECRET, finishBench, percentiles } from "./lib/common";
const db = await freshDatabase("exp");
await flushBenchRedis();
Object.assign(process.env, appEnv(db.url), { CRM_INBOX_IN_FLIGHT: process.env.INFL ?? "2" });
const { closeDb, getPool } = await import("../../app/db.server");
const { closeQueues, getWebhookQueue } = await import("../../jobs/queues");
const { receiveWebhook } = await import("../../app/services/webhook-ingress.server");
const { orderCreate, BENCH_SHOP } = await import("./lib/deliveries");
const { hmacOf } = await import("../support/webhooks");
const pool = getPool();
const q = getWebhookQueue();
const tq: number[] = [], tb: number[] = [], sizes: number[] = [];
const oq = pool.query.bind(pool) as (...a: unknown[]) => Promise<unknown>;
(pool as unknown as { query: unknown }).query = async (...a: unknown[]) => { const t = performance.now(); try { return await oq(...a); } finally { tq.push(performance.now() - t); if (Array.isArray((a[1] as unknown[])?.[0])) sizes.push(((a[1] as unknown[][])[0]!).length); else sizes.push(1); } };
const ob = q.addBulk.bind(q);
(q as unknown as { addBulk: unknown }).addBulk = async (...a: Parameters<typeof ob>) => { const t = performance.now(); try { return await ob(...a); } finally { tb.push(performance.now() - t); } };
const rand = prng(1);
const bodies = Array.from({ length: 2000 }, (_, i) => orderCreate(i, rand, { customers: 100, orderIdBase: 1 }).body);
const hm = bodies.map((b) => hmacOf(b, BENCH_SECRET));
await pool.query("select 1"); await q.waitUntilReady();
async function conc(name: string, n: number, c: number, fn: (i: number) => Promise<unknown>) {
  let next = 0; const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, async () => { while (next < n) { const i = next++; await fn(i); } }));
  const s = (performance.now() - t0) / 1000;
  console.log(name, Math.round(n / s), "/s", "insert ms", JSON.stringify(percentiles(tq)), "rows/batch", (sizes.reduce((a, b) => a + b, 0) / sizes.length).toFixed(1), "addBulk ms", JSON.stringify(percentiles(tb)));
  tq.length = 0; tb.length = 0; sizes.length = 0;
}
for (const c of [1, 16, 50]) await conc("c=" + c, c === 1 ? 300 : 4000, c, async (i) => {
  const body = bodies[i % 2000]!;
  const req = new Request("http://x/webhooks/orders", { method: "POST", headers: { "content-type": "application/json", "x-shopify-topic": "orders/create", "x-shopify-hmac-sha256": hm[i % 2000]!, "x-shopify-shop-domain": BENCH_SHOP, "x-shopify-api-version": "2026-07", "x-shopify-webhook-id": `w${c}-${i}` }, body });
  const r = await receiveWebhook(req);
  if (r.status !== 200) throw new Error("status " + r.status);
});
await closeQueues(); await closeDb(); await db.drop(); await finishBench();
