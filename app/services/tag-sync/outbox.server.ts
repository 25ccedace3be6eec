// The tag write outbox (tables tag_writes and app_added_tags; migration
// 20261123032000_tag_sync_outbox). Every transition of a write's state machine is one
// guarded SQL statement here:
//
//   pending --claim--> in_flight --answer--> done | skipped | failed
//                          |  \--THROTTLED / transient / shop halted--> pending (later)
//                          \--crash (found in_flight when the next drain starts)--> verified against
//                             Shopify: done if the change is already there, else pending (re-sent)
//   pending --reconcile: no longer wanted--> skipped (superseded)
//
// A transition only applies to a row still in the state it expects (`status = 'in_flight'`),
// so an answer is recorded at most once; `done` changes app_added_tags in the same statement,
// so the record of the tags the app added never disagrees with the outbox.
import type pg from "pg";
import { getPool, withTransaction, type Queryable } from "../../db.server";
import { logger } from "../../logger.server";

export type TagWriteAction = "add" | "remove";
export type TagWriteStatus = "pending" | "in_flight" | "done" | "failed" | "skipped";

export type TagWrite = {
  id: string;
  shop: string;
  customerGid: string;
  tag: string;
  action: TagWriteAction;
  source: string;
  attempts: number;
  bulkLine: number | null;
  bulkOperationGid: string | null;
};

type TagWriteRow = {
  id: string;
  shop: string;
  customer_gid: string;
  tag: string;
  action: TagWriteAction;
  source: string;
  attempts: number;
  bulk_line: number | null;
  bulk_operation_gid: string | null;
};

const ROW = `id, shop, customer_gid, tag, action, source, attempts, bulk_line, bulk_operation_gid`;
const toWrite = (r: TagWriteRow): TagWrite => ({
  id: r.id,
  shop: r.shop,
  customerGid: r.customer_gid,
  tag: r.tag,
  action: r.action,
  source: r.source,
  attempts: r.attempts,
  bulkLine: r.bulk_line,
  bulkOperationGid: r.bulk_operation_gid,
});

/** Attempts (answered requests other than THROTTLED) after which a write is failed for good. */
export const MAX_ATTEMPTS = 10;

export type Outcome =
  | { id: string; kind: "done"; outcome: Record<string, unknown> }
  | { id: string; kind: "skipped"; outcome: Record<string, unknown> }
  | { id: string; kind: "failed"; error: string; outcome: Record<string, unknown> }
  /** Back to pending after delayMs; `attempt` says whether a request was answered (not THROTTLED). */
  | { id: string; kind: "retry"; error: string | null; delayMs: number; attempt: boolean };

// ------------------------------------------------------------------ claiming

/** Claims due pending writes of a shop (oldest first) for the paced writer. */
export async function claimDue(shop: string, limit: number, db: Queryable = getPool()): Promise<TagWrite[]> {
  const { rows } = await db.query<TagWriteRow>(
    `UPDATE tag_writes SET status = 'in_flight', claimed_at = now(), updated_at = now()
      WHERE id IN (SELECT id FROM tag_writes
                    WHERE shop = $1 AND status = 'pending' AND next_attempt_at <= now()
                    ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING ${ROW}`,
    [shop, limit],
  );
  return rows.map(toWrite).sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
}

/** Due pending writes per action (to choose between the paced and the bulk path). */
export async function countDue(shop: string, db: Queryable = getPool()): Promise<Record<TagWriteAction, number>> {
  const { rows } = await db.query<{ action: TagWriteAction; n: string }>(
    `SELECT action, count(*) AS n FROM tag_writes WHERE shop = $1 AND status = 'pending' AND next_attempt_at <= now() GROUP BY action`,
    [shop],
  );
  const out: Record<TagWriteAction, number> = { add: 0, remove: 0 };
  for (const r of rows) out[r.action] = Number(r.n);
  return out;
}

/**
 * Claims up to `limit` due writes of one action for a bulk operation, numbering them
 * 0..n-1 in `bulk_line` (the line of the JSONL file, echoed back as __lineNumber).
 */
export async function claimForBulk(shop: string, action: TagWriteAction, batch: string, limit: number, db: Queryable = getPool()): Promise<TagWrite[]> {
  const { rows } = await db.query<TagWriteRow>(
    `WITH picked AS (
       SELECT id FROM tag_writes
        WHERE shop = $1 AND status = 'pending' AND action = $2 AND next_attempt_at <= now()
        ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED
     ), numbered AS (
       SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS line FROM picked
     )
     UPDATE tag_writes w SET status = 'in_flight', bulk_batch = $3, bulk_line = n.line, claimed_at = now(), updated_at = now()
       FROM numbered n WHERE w.id = n.id
     RETURNING ${ROW.split(", ").map((c) => `w.${c}`).join(", ")}`,
    [shop, action, batch, limit],
  );
  return rows.map(toWrite).sort((a, b) => a.bulkLine! - b.bulkLine!);
}

export async function attachBulkOperation(shop: string, batch: string, gid: string, db: Queryable = getPool()): Promise<number> {
  const r = await db.query(`UPDATE tag_writes SET bulk_operation_gid = $3, updated_at = now() WHERE shop = $1 AND bulk_batch = $2 AND status = 'in_flight'`, [
    shop,
    batch,
    gid,
  ]);
  return r.rowCount ?? 0;
}

/** In-flight writes of a bulk operation, by line. */
export async function bulkWrites(shop: string, gid: string, lines: number[] | null, db: Queryable = getPool()): Promise<TagWrite[]> {
  const { rows } = await db.query<TagWriteRow>(
    `SELECT ${ROW} FROM tag_writes WHERE shop = $1 AND bulk_operation_gid = $2 AND status = 'in_flight' AND ($3::int[] IS NULL OR bulk_line = ANY($3))`,
    [shop, gid, lines],
  );
  return rows.map(toWrite);
}

/** Bulk operations with writes still in flight. */
export async function openBulkOperations(shop: string, db: Queryable = getPool()): Promise<string[]> {
  const { rows } = await db.query<{ gid: string }>(
    `SELECT DISTINCT bulk_operation_gid AS gid FROM tag_writes WHERE shop = $1 AND status = 'in_flight' AND bulk_operation_gid IS NOT NULL`,
    [shop],
  );
  return rows.map((r) => r.gid);
}

/**
 * Writes left in flight by a drainer that stopped without recording an answer (crash, kill,
 * lost connection). Only call while holding the shop's drain lock: then no live drainer
 * owns them. Writes of a submitted bulk operation are not orphans (they are followed).
 */
export async function orphanedWrites(shop: string, db: Queryable = getPool()): Promise<TagWrite[]> {
  const { rows } = await db.query<TagWriteRow>(
    `SELECT ${ROW} FROM tag_writes WHERE shop = $1 AND status = 'in_flight' AND bulk_operation_gid IS NULL ORDER BY id`,
    [shop],
  );
  return rows.map(toWrite);
}

/**
 * A remove the app may not make: the tag is not recorded as added by the app (the merchant
 * or another app added it). Skipped before anything is sent.
 */
export async function skipRemovalsOfTagsNotAdded(shop: string, db: Queryable = getPool()): Promise<number> {
  const r = await db.query(
    `UPDATE tag_writes w SET status = 'skipped', completed_at = now(), updated_at = now(),
            outcome = jsonb_build_object('reason', 'not_added_by_app', 'message', 'the app only removes tags it added itself')
      WHERE w.shop = $1 AND w.status = 'pending' AND w.action = 'remove'
        AND NOT EXISTS (SELECT 1 FROM app_added_tags a WHERE a.shop = w.shop AND a.customer_gid = w.customer_gid AND a.tag_key = w.tag_key)`,
    [shop],
  );
  return r.rowCount ?? 0;
}

/** Pushes every due pending write of a shop back (the shop cannot be written to for now). */
export async function deferShop(shop: string, delayMs: number, error: string, db: Queryable = getPool()): Promise<number> {
  const r = await db.query(
    `UPDATE tag_writes SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000), last_error = $3, updated_at = now()
      WHERE shop = $1 AND status = 'pending' AND next_attempt_at <= now() + make_interval(secs => $2::double precision / 1000)`,
    [shop, delayMs, error],
  );
  return r.rowCount ?? 0;
}

// ------------------------------------------------------------------ recording answers

/**
 * Records answers in one transaction. Only rows still in_flight change (an answer is never
 * recorded twice). `done` adds to / removes from app_added_tags in the same statement.
 * Returns how many rows each kind changed.
 */
export async function recordOutcomes(outcomes: readonly Outcome[]): Promise<Record<Outcome["kind"], number>> {
  const counts: Record<Outcome["kind"], number> = { done: 0, skipped: 0, failed: 0, retry: 0 };
  if (outcomes.length === 0) return counts;
  return withTransaction(async (client) => {
    const done = outcomes.filter((o): o is Extract<Outcome, { kind: "done" }> => o.kind === "done");
    if (done.length) {
      const r = await client.query<{ n: string }>(
        `WITH u AS (SELECT * FROM unnest($1::bigint[], $2::jsonb[]) AS u(id, outcome)),
         done AS (
           UPDATE tag_writes w SET status = 'done', attempts = w.attempts + 1, outcome = u.outcome, last_error = NULL,
                  completed_at = now(), updated_at = now()
             FROM u WHERE w.id = u.id AND w.status = 'in_flight'
           RETURNING w.id, w.shop, w.customer_gid, w.tag, w.tag_key, w.action, w.source
         ),
         added AS (
           INSERT INTO app_added_tags (shop, customer_gid, tag_key, tag, source, write_id, added_at)
           SELECT shop, customer_gid, tag_key, tag, source, id, now() FROM done WHERE action = 'add'
           ON CONFLICT (shop, customer_gid, tag_key) DO NOTHING
           RETURNING 1
         ),
         removed AS (
           DELETE FROM app_added_tags a USING done d
            WHERE d.action = 'remove' AND a.shop = d.shop AND a.customer_gid = d.customer_gid AND a.tag_key = d.tag_key
           RETURNING 1
         )
         -- (data-modifying CTEs always run, read or not)
         SELECT count(*) AS n FROM done`,
        [done.map((o) => o.id), done.map((o) => JSON.stringify(o.outcome))],
      );
      counts.done = Number(r.rows[0]!.n);
    }
    for (const kind of ["skipped", "failed"] as const) {
      const list = outcomes.filter((o): o is Extract<Outcome, { kind: "skipped" | "failed" }> => o.kind === kind);
      if (list.length === 0) continue;
      // A write skipped before anything was sent for it (outcome.attempted === false) does not count an attempt.
      const r = await client.query(
        `UPDATE tag_writes w SET status = $2::"TagWriteStatus", attempts = w.attempts + u.attempt, outcome = u.outcome,
                last_error = u.error, completed_at = now(), updated_at = now()
           FROM unnest($1::bigint[], $3::jsonb[], $4::text[], $5::int[]) AS u(id, outcome, error, attempt)
          WHERE w.id = u.id AND w.status = 'in_flight'`,
        [
          list.map((o) => o.id),
          kind,
          list.map((o) => JSON.stringify(o.outcome)),
          list.map((o) => (o.kind === "failed" ? o.error : null)),
          list.map((o) => (o.outcome.attempted === false ? 0 : 1)),
        ],
      );
      counts[kind] = r.rowCount ?? 0;
    }
    const retry = outcomes.filter((o): o is Extract<Outcome, { kind: "retry" }> => o.kind === "retry");
    if (retry.length) {
      // A retry that runs out of attempts is failed, with its last error.
      const r = await client.query(
        `UPDATE tag_writes w SET
                attempts = w.attempts + u.attempt,
                status = CASE WHEN w.attempts + u.attempt >= $5 THEN 'failed'::"TagWriteStatus" ELSE 'pending'::"TagWriteStatus" END,
                completed_at = CASE WHEN w.attempts + u.attempt >= $5 THEN now() END,
                outcome = CASE WHEN w.attempts + u.attempt >= $5 THEN jsonb_build_object('reason', 'attempts_exhausted', 'message', u.error) ELSE w.outcome END,
                last_error = COALESCE(u.error, w.last_error),
                next_attempt_at = now() + make_interval(secs => u.delay_ms::double precision / 1000),
                bulk_batch = NULL, bulk_line = NULL, bulk_operation_gid = NULL, claimed_at = NULL, updated_at = now()
           FROM unnest($1::bigint[], $2::text[], $3::int[], $4::double precision[]) AS u(id, error, attempt, delay_ms)
          WHERE w.id = u.id AND w.status = 'in_flight'`,
        [retry.map((o) => o.id), retry.map((o) => o.error), retry.map((o) => (o.attempt ? 1 : 0)), retry.map((o) => o.delayMs), MAX_ATTEMPTS],
      );
      counts.retry = r.rowCount ?? 0;
    }
    return counts;
  });
}

// ------------------------------------------------------------------ the shop's drain lock

/**
 * One drainer per shop at a time (across worker processes): a session advisory lock on a
 * dedicated connection. A crashed process loses its connection and with it the lock.
 */
export async function tryLockShop(shop: string): Promise<{ release: () => Promise<void> } | null> {
  const client: pg.PoolClient = await getPool().connect();
  // Held while the drainer talks to Shopify: if the server ends the session meanwhile, pg emits
  // 'error' on the client (an uncaught exception without a listener); the unlock then fails
  // and the connection is destroyed.
  const onError = (error: Error) => logger.warn({ err: error, shop }, "tag_sync.lock_connection_error");
  client.on("error", onError);
  const giveBack = (destroy: boolean) => {
    client.off("error", onError);
    client.release(destroy);
  };
  try {
    const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended('crm-tag-sync:' || $1, 0)) AS ok`, [shop]);
    if (!rows[0]!.ok) {
      giveBack(false);
      return null;
    }
  } catch (error) {
    giveBack(true);
    throw error;
  }
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      try {
        await client.query(`SELECT pg_advisory_unlock(hashtextextended('crm-tag-sync:' || $1, 0))`, [shop]);
        giveBack(false);
      } catch {
        giveBack(true); // a broken connection: destroying it releases the lock
      }
    },
  };
}

// ------------------------------------------------------------------ queries for the sweeper and the UI

/** Shops with writes due now or in flight (the sweeper enqueues a drain for each). */
export async function shopsWithWorkDue(db: Queryable = getPool()): Promise<string[]> {
  const { rows } = await db.query<{ shop: string }>(
    `SELECT DISTINCT shop FROM tag_writes WHERE status = 'in_flight' OR (status = 'pending' AND next_attempt_at <= now())`,
  );
  return rows.map((r) => r.shop);
}

/** When the shop's next pending write is due (null: none pending). */
export async function nextDueAt(shop: string, db: Queryable = getPool()): Promise<Date | null> {
  const { rows } = await db.query<{ at: Date | null }>(`SELECT min(next_attempt_at) AS at FROM tag_writes WHERE shop = $1 AND status = 'pending'`, [shop]);
  return rows[0]?.at ?? null;
}

export type OutboxSummary = Record<TagWriteStatus, number>;

export async function outboxSummary(shop: string, source?: string, db: Queryable = getPool()): Promise<OutboxSummary> {
  const { rows } = await db.query<{ status: TagWriteStatus; n: string }>(
    `SELECT status, count(*) AS n FROM tag_writes WHERE shop = $1 AND ($2::text IS NULL OR source = $2) GROUP BY status`,
    [shop, source ?? null],
  );
  const out: OutboxSummary = { pending: 0, in_flight: 0, done: 0, failed: 0, skipped: 0 };
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}
