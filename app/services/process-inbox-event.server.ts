// The worker's unit of work: one inbox row, applied in one transaction, exactly once.
import { getPool, withTransaction } from "../db.server";
import { mapWebhook } from "../shopify/webhook-payloads";
import { applyCrmEvent } from "./apply-crm-event.server";
import { ensureShop } from "./crm-store.server";

export type ProcessOutcome =
  | { outcome: "processed"; topic: string; shop: string; receivedAt: Date }
  | { outcome: "ignored"; topic: string; shop: string; reason: string }
  | { outcome: "skipped"; reason: "already done" | "not found" };

type InboxRow = {
  id: string;
  shop: string;
  topic: string;
  payload: string;
  status: string;
  triggered_at: Date | null;
  received_at: Date;
};

/**
 * Locks the inbox row, skips it if it was already handled (duplicate job, replay of a
 * done event), maps it, applies it, and marks it processed, all in one transaction:
 * a crash anywhere leaves the row as it was, to be retried.
 */
export async function processInboxEvent(inboxId: string): Promise<ProcessOutcome> {
  return withTransaction(async (db) => {
    const { rows } = await db.query<InboxRow>({ name: "crm-lock-inbox-row", text: `SELECT id, shop, topic, payload, status, triggered_at, received_at FROM webhook_events WHERE id = $1 FOR UPDATE`, values: [inboxId] });
    const row = rows[0];
    if (!row) return { outcome: "skipped", reason: "not found" };
    if (row.status === "processed" || row.status === "ignored") return { outcome: "skipped", reason: "already done" };

    const mapped = mapWebhook(row.topic, row.payload);
    if (!mapped.ok) {
      await db.query({ name: "crm-mark-ignored", text: `UPDATE webhook_events SET status = 'ignored', last_error = $2, attempts = attempts + 1, processed_at = now() WHERE id = $1`, values: [inboxId, mapped.reason] });
      return { outcome: "ignored", topic: row.topic, shop: row.shop, reason: mapped.reason };
    }
    const eventTime = row.triggered_at ?? row.received_at;
    await ensureShop(db, row.shop, eventTime);
    await applyCrmEvent(db, mapped.event, { shop: row.shop, inboxId, eventTime });
    await db.query({ name: "crm-mark-processed", text: `UPDATE webhook_events SET status = 'processed', last_error = NULL, attempts = attempts + 1, processed_at = now() WHERE id = $1`, values: [inboxId] });
    return { outcome: "processed", topic: row.topic, shop: row.shop, receivedAt: row.received_at };
  });
}

/** Records a failed attempt; the last one dead-letters the event with its reason. */
export async function recordInboxFailure(inboxId: string, error: unknown, final: boolean): Promise<void> {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  await getPool().query(
    `UPDATE webhook_events SET status = $2, last_error = $3, attempts = attempts + 1
      WHERE id = $1 AND status NOT IN ('processed', 'ignored')`,
    [inboxId, final ? "dead" : "failed", reason.slice(0, 2000)],
  );
}

/**
 * Dead-letters a row still waiting ('received' or 'failed') whose job BullMQ failed for good
 * without the processor recording it. Returns whether the row changed.
 */
export async function deadLetterUnrecorded(inboxId: string, reason: string): Promise<boolean> {
  const result = await getPool().query(
    `UPDATE webhook_events SET status = 'dead', last_error = $2 WHERE id = $1 AND status IN ('received', 'failed')`,
    [inboxId, reason.slice(0, 2000)],
  );
  return (result.rowCount ?? 0) > 0;
}

/** Inbox rows persisted but never picked up (Redis was down, or a job was lost). */
export async function findUnqueuedInboxRows(olderThanMs: number, limit: number): Promise<{ id: string; replays: number }[]> {
  const { rows } = await getPool().query<{ id: string; replays: number }>(
    `SELECT id, replays FROM webhook_events
      WHERE status IN ('received', 'failed') AND received_at < now() - make_interval(secs => $1::double precision / 1000)
      ORDER BY id LIMIT $2`,
    [olderThanMs, limit],
  );
  return rows;
}
