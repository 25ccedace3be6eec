// Feedback scheduling benchmark (issue 12): schedule --requests feedback requests through the
// apply step's function (scheduleFeedbackForOrders, --per-tx orders per transaction, as a
// worker batch would) and show that Redis does not grow with them (key count and used_memory
// before and after, with the scheduler's repeating job installed); then let the scheduler send
// --send of them (render + queueEmail into the outbox, batches of --batch) and report sends/s.
//   npm run bench:feedback-schedule -- [--requests 100000] [--per-tx 100] [--send 2000] [--batch 200]
import { Redis } from "ioredis";
import { BENCH_REDIS_URL, finishBench, flushBenchRedis, freshDatabase, leaseBenchRedis, numberFlag, parseFlags, releaseBenchRedis, report, round, useAppEnvInThisProcess } from "./lib/common";

const flags = parseFlags();
const requests = numberFlag(flags, "requests", 100_000);
const perTx = numberFlag(flags, "per-tx", 100);
const toSend = numberFlag(flags, "send", 2_000);
const batch = numberFlag(flags, "batch", 200);
const SHOP = "feedback-bench.myshopify.com";

async function redisFootprint(redis: Redis) {
  const info = await redis.info("memory");
  const used = Number(/used_memory:(\d+)/.exec(info)![1]);
  return { keys: await redis.dbsize(), usedMemoryBytes: used };
}

async function main() {
  const db = await freshDatabase("feedback");
  await leaseBenchRedis();
  await flushBenchRedis();
  await useAppEnvInThisProcess(db.url);
  const { getPool, withTransaction, closeDb } = await import("../../app/db.server");
  const { setFeedbackRules } = await import("../../app/services/feedback/rules.server");
  const { scheduleFeedbackForOrders } = await import("../../app/services/feedback/schedule.server");
  const { runFeedbackScheduler } = await import("../../app/services/feedback/scheduler.server");
  const { scheduleFeedbackScheduler, closeFeedbackSchedulerQueue } = await import("../../jobs/feedback-scheduler");
  const redis = new Redis(BENCH_REDIS_URL);
  try {
    const pool = getPool();
    await pool.query(`INSERT INTO shops (domain, name, "currencyCode") VALUES ($1, 'Bench Shop', 'USD')`, [SHOP]);
    await pool.query(
      `INSERT INTO customers (shop, gid, email, first_name) SELECT $1, 'gid://shopify/Customer/' || i, 'c' || i || '@bench.example', 'C' || i FROM generate_series(1, $2) i`,
      [SHOP, requests],
    );
    await pool.query(
      `INSERT INTO orders (shop, gid, legacy_id, customer_gid, name, currency, total_price_minor, financial_status, shopify_created_at, shopify_updated_at)
       SELECT $1, 'gid://shopify/Order/' || i, i::text, 'gid://shopify/Customer/' || i, '#' || i, 'USD', 5000, 'paid', now(), now() FROM generate_series(1, $2) i`,
      [SHOP, requests],
    );
    await pool.query(
      `INSERT INTO line_items (shop, gid, order_gid, product_gid, title, quantity, price_minor)
       SELECT $1, 'gid://shopify/LineItem/' || i, 'gid://shopify/Order/' || i, 'gid://shopify/Product/' || (i % 50), 'Product ' || (i % 50), 1, 5000 FROM generate_series(1, $2) i`,
      [SHOP, requests],
    );
    await pool.query(`ANALYZE`);
    await setFeedbackRules(SHOP, { rules: [{ name: "bench", trigger: "order_paid", delayDays: 0, reminders: { count: 1, spacingDays: 3 } }] });
    await scheduleFeedbackScheduler(60_000);
    const before = await redisFootprint(redis);

    const started = performance.now();
    const at = new Date();
    for (let first = 1; first <= requests; first += perTx) {
      const orders = new Map<string, Date>();
      for (let i = first; i < Math.min(first + perTx, requests + 1); i++) orders.set(`gid://shopify/Order/${i}`, at);
      await withTransaction((client) => scheduleFeedbackForOrders(client, SHOP, orders));
    }
    const scheduleSeconds = (performance.now() - started) / 1000;
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM feedback_requests WHERE status = 'scheduled'`);
    const after = await redisFootprint(redis);

    const sendStarted = performance.now();
    const sent = await runFeedbackScheduler({ now: new Date(), batchSize: batch, maxBatches: Math.ceil(toSend / batch) });
    const sendSeconds = (performance.now() - sendStarted) / 1000;
    const { rows: outbox } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM email_outbox`);
    const afterSend = await redisFootprint(redis);

    const result = {
      requests,
      scheduled: rows[0]!.n,
      scheduleSeconds: round(scheduleSeconds, 2),
      scheduledPerSecond: round(rows[0]!.n / scheduleSeconds, 0),
      redisBefore: before,
      redisAfterScheduling: after,
      redisAfterSending: afterSend,
      sent: sent.sent,
      outboxRows: outbox[0]!.n,
      sendSeconds: round(sendSeconds, 2),
      sentPerSecond: round(sent.sent / sendSeconds, 0),
      failed: sent.failed,
    };
    report("feedback-schedule", result, [
      `scheduled ${result.scheduled} requests in ${result.scheduleSeconds} s (${result.scheduledPerSecond}/s, ${perTx} orders per transaction)`,
      `Redis keys ${before.keys} -> ${after.keys} after scheduling -> ${afterSend.keys} after sending; used_memory ${before.usedMemoryBytes} -> ${after.usedMemoryBytes} -> ${afterSend.usedMemoryBytes} bytes`,
      `sent ${result.sent} (rendered + queued in the outbox) in ${result.sendSeconds} s: ${result.sentPerSecond}/s, batches of ${batch}`,
    ]);
    if (rows[0]!.n !== requests || outbox[0]!.n !== sent.sent || sent.failed > 0) process.exitCode = 1;
  } finally {
    redis.disconnect();
    await closeFeedbackSchedulerQueue();
    await closeDb();
    await releaseBenchRedis();
    await db.drop();
    await finishBench();
  }
}

void main();
