import { Worker } from "bullmq";
import { createRedis } from "../../app/redis.server";
import { getPool } from "../../app/db.server";
import { applyWebhookProcessor } from "../../jobs/apply-webhook.processor";
import { WEBHOOK_QUEUE, type ApplyWebhookJob } from "../../jobs/queues";

/** The real worker processor, in this process, on the test's Redis database. */
export function startInProcessWorker(concurrency = 8) {
  const connection = createRedis("worker");
  const worker = new Worker<ApplyWebhookJob>(WEBHOOK_QUEUE, applyWebhookProcessor, { connection, concurrency });
  worker.on("error", () => undefined);
  return {
    worker,
    close: async () => {
      await worker.close();
      connection.disconnect();
    },
  };
}

/** Waits until no inbox row is waiting or retrying (or fails after timeoutMs). */
export async function waitForInboxSettled(timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await getPool().query<{ n: string }>(
      `SELECT count(*) AS n FROM webhook_events WHERE status IN ('received', 'failed')`,
    );
    if (rows[0]!.n === "0") return;
    if (Date.now() > deadline) throw new Error(`inbox not settled after ${timeoutMs} ms: ${rows[0]!.n} rows pending`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export async function customerRow(shop: string, gid: string) {
  const { rows } = await getPool().query(
    `SELECT gid, email, first_name, last_name, phone, orders_count, total_spent_minor, refunded_minor, aov_minor,
            first_order_at, last_order_at, deleted_at, redacted_at, tags, email_marketing_state
       FROM customers WHERE shop = $1 AND gid = $2`,
    [shop, gid],
  );
  return rows[0] ?? null;
}
