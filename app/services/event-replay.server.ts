// Operator replay of dead-lettered (or ignored) events: the row goes back to
// `received` with a new job id, and the usual exactly-once processing applies.
import { getPool } from "../db.server";
import { enqueueApplyWebhooks } from "../../jobs/queues";

export type ReplayableStatus = "dead" | "ignored" | "failed";

export async function replayEvents({ shop, status, ids }: { shop: string; status: ReplayableStatus; ids?: string[] }) {
  const { rows } = await getPool().query<{ id: string; replays: number }>(
    `UPDATE webhook_events SET status = 'received', replays = replays + 1, last_error = NULL, processed_at = NULL
      WHERE shop = $1 AND status = $2::"WebhookStatus" AND ($3::bigint[] IS NULL OR id = ANY($3::bigint[]))
      RETURNING id, replays`,
    [shop, status, ids ?? null],
  );
  let enqueued = true;
  try {
    await enqueueApplyWebhooks(rows.map((r) => ({ inboxId: r.id, replays: r.replays })));
  } catch {
    // The rows are back to `received`: the worker's sweeper enqueues them once Redis answers.
    enqueued = false;
  }
  return { replayed: rows.length, ids: rows.map((r) => r.id), enqueued };
}
