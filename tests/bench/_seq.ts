import { freshDatabase, flushBenchRedis, startRealServer, waitForPort, runLoadgen, finishBench } from "./lib/common";
const db = await freshDatabase("seq");
await flushBenchRedis();
const s = startRealServer(db.url, 39105, process.env.INFL ? { CRM_INBOX_IN_FLIGHT: process.env.INFL } : {});
await waitForPort(39105, s);
for (const c of [1, 4, 16]) {
  const r = await runLoadgen({ port: 39105, path: process.env.P ?? "/webhooks/orders", mode: "closed", connections: c, durationMs: 3000, maxRequests: 100000, warmupMs: 500, source: { kind: "orders", distinct: 5000, seed: 1, customers: 100, webhookPrefix: "s" + c + Date.now(), orderIdBase: 1 } }, 60000);
  console.log(c, r.ackPerSecond, JSON.stringify(r.latencyMs), JSON.stringify(r.statuses));
}
await s.stop(); await db.drop(); await finishBench();
