// The product rating outbox (tables product_rating_writes and shop_metafield_definitions;
// migration 20261207070000_product_rating_writes; decision 037). A row says "this product's
// published rating must be rewritten"; the writer (writer.server.ts) computes the average and
// count when it sends, so changes coalesce into one pending row per shop and product.
//
//   pending --claim--> in_flight --answer--> done | skipped | failed
//                          |  \--THROTTLED / transient / shop halted--> pending (later)
//                          \--left by a crashed writer (claimed long ago)--> pending again, or
//                             skipped (superseded) when a newer pending row exists
//
// Every transition is one guarded statement (`WHERE status = 'in_flight'`), so an answer is
// recorded once. Sending twice is harmless: metafieldsSet with the current values is idempotent.
import { getPool, withTransaction, type Queryable } from "../../db.server";
import { logger } from "../../logger.server";
import { enqueueProductRatingsDrain } from "../../queues.server";
import type { ProductRatingAggregate } from "../../domain/feedback/product-ratings";

export type RatingWrite = { id: string; shop: string; productGid: string; attempts: number };

/** Attempts (answered requests other than THROTTLED) after which a write is failed for good. */
export const MAX_ATTEMPTS = 10;

export type RatingOutcome =
  | { id: string; kind: "done"; rating: string; count: number }
  | { id: string; kind: "skipped" | "failed"; reason: string; message: string; attempted: boolean }
  | { id: string; kind: "retry"; error: string | null; delayMs: number; attempt: boolean };

/**
 * Marks products as changed (in the caller's transaction: the answer, its edit, its erasure).
 * A product with a pending row already is left alone: the writer reads the ratings when it sends.
 */
export async function markProductRatingsDirty(db: Queryable, shop: string, productGids: readonly string[]): Promise<number> {
  const gids = [...new Set(productGids)].sort();
  if (gids.length === 0) return 0;
  const r = await db.query(
    `INSERT INTO product_rating_writes (shop, product_gid) SELECT $1, g FROM unnest($2::text[]) AS g
     ON CONFLICT (shop, product_gid) WHERE status = 'pending' DO NOTHING`,
    [shop, gids],
  );
  return r.rowCount ?? 0;
}

/**
 * Rows left in flight by a writer that stopped without recording an answer (claimed more than
 * `staleMs` ago; a pass never runs that long): back to pending, or skipped when a newer
 * pending row for the same product exists.
 */
export async function releaseStale(shop: string, staleMs: number, db: Queryable = getPool()): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `WITH stale AS (
       SELECT w.id, EXISTS (SELECT 1 FROM product_rating_writes p WHERE p.shop = w.shop AND p.product_gid = w.product_gid AND p.status = 'pending') AS superseded
         FROM product_rating_writes w
        WHERE w.shop = $1 AND w.status = 'in_flight' AND w.claimed_at < now() - make_interval(secs => $2::double precision / 1000)
        FOR UPDATE OF w SKIP LOCKED
     ), skipped AS (
       UPDATE product_rating_writes w SET status = 'skipped', completed_at = now(), updated_at = now(),
              outcome = jsonb_build_object('reason', 'superseded', 'message', 'a newer change of the product is pending')
         FROM stale s WHERE w.id = s.id AND s.superseded RETURNING 1
     ), requeued AS (
       UPDATE product_rating_writes w SET status = 'pending', claimed_at = NULL, next_attempt_at = now(), updated_at = now()
         FROM stale s WHERE w.id = s.id AND NOT s.superseded RETURNING 1
     )
     SELECT ((SELECT count(*) FROM skipped) + (SELECT count(*) FROM requeued))::text AS n`,
    [shop, staleMs],
  );
  return Number(rows[0]!.n);
}

/** Claims due pending rows of a shop, oldest first. */
export async function claimDue(shop: string, limit: number, db: Queryable = getPool()): Promise<RatingWrite[]> {
  const { rows } = await db.query<{ id: string; shop: string; product_gid: string; attempts: number }>(
    `UPDATE product_rating_writes SET status = 'in_flight', claimed_at = now(), updated_at = now()
      WHERE id IN (SELECT id FROM product_rating_writes
                    WHERE shop = $1 AND status = 'pending' AND next_attempt_at <= now()
                    ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING id::text AS id, shop, product_gid, attempts`,
    [shop, limit],
  );
  return rows.map((r) => ({ id: r.id, shop: r.shop, productGid: r.product_gid, attempts: r.attempts })).sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
}

/** Sum and count of every star rating of the products (anonymous ones of erased customers included). */
export async function ratingAggregates(shop: string, productGids: readonly string[], db: Queryable = getPool()): Promise<Map<string, ProductRatingAggregate>> {
  const { rows } = await db.query<{ product_gid: string; sum: string; count: string }>(
    `SELECT product_gid, sum(rating)::text AS sum, count(*)::text AS count FROM feedback_product_ratings
      WHERE shop = $1 AND product_gid = ANY($2::text[]) GROUP BY product_gid`,
    [shop, [...productGids]],
  );
  const out = new Map<string, ProductRatingAggregate>();
  for (const g of productGids) out.set(g, { productGid: g, sum: 0, count: 0 });
  for (const r of rows) out.set(r.product_gid, { productGid: r.product_gid, sum: Number(r.sum), count: Number(r.count) });
  return out;
}

/** Records answers in one transaction; only rows still in flight change. */
export async function recordOutcomes(outcomes: readonly RatingOutcome[]): Promise<Record<RatingOutcome["kind"], number>> {
  const counts: Record<RatingOutcome["kind"], number> = { done: 0, skipped: 0, failed: 0, retry: 0 };
  if (outcomes.length === 0) return counts;
  return withTransaction(async (db) => {
    const done = outcomes.filter((o): o is Extract<RatingOutcome, { kind: "done" }> => o.kind === "done");
    if (done.length) {
      const r = await db.query(
        `UPDATE product_rating_writes w SET status = 'done', attempts = w.attempts + 1, rating = u.rating, rating_count = u.count, last_error = NULL,
                outcome = jsonb_build_object('rating', u.rating, 'count', u.count), completed_at = now(), updated_at = now()
           FROM unnest($1::bigint[], $2::text[], $3::int[]) AS u(id, rating, count)
          WHERE w.id = u.id AND w.status = 'in_flight'`,
        [done.map((o) => o.id), done.map((o) => o.rating), done.map((o) => o.count)],
      );
      counts.done = r.rowCount ?? 0;
    }
    for (const kind of ["skipped", "failed"] as const) {
      const list = outcomes.filter((o): o is Extract<RatingOutcome, { kind: "skipped" | "failed" }> => o.kind === kind);
      if (!list.length) continue;
      const r = await db.query(
        `UPDATE product_rating_writes w SET status = $2, attempts = w.attempts + u.attempt, last_error = CASE WHEN $2 = 'failed' THEN u.message END,
                outcome = jsonb_build_object('reason', u.reason, 'message', u.message), completed_at = now(), updated_at = now()
           FROM unnest($1::bigint[], $3::text[], $4::text[], $5::int[]) AS u(id, reason, message, attempt)
          WHERE w.id = u.id AND w.status = 'in_flight'`,
        [list.map((o) => o.id), kind, list.map((o) => o.reason), list.map((o) => o.message), list.map((o) => (o.attempted ? 1 : 0))],
      );
      counts[kind] = r.rowCount ?? 0;
    }
    const retry = outcomes.filter((o): o is Extract<RatingOutcome, { kind: "retry" }> => o.kind === "retry");
    if (retry.length) {
      // Back to pending, unless a newer pending row took its place (then this one is superseded);
      // a retry that runs out of attempts is failed.
      const r = await db.query(
        `UPDATE product_rating_writes w SET
                attempts = w.attempts + u.attempt,
                status = CASE WHEN w.attempts + u.attempt >= $5 THEN 'failed'
                              WHEN EXISTS (SELECT 1 FROM product_rating_writes p WHERE p.shop = w.shop AND p.product_gid = w.product_gid AND p.status = 'pending') THEN 'skipped'
                              ELSE 'pending' END,
                completed_at = CASE WHEN w.attempts + u.attempt >= $5 OR EXISTS (SELECT 1 FROM product_rating_writes p WHERE p.shop = w.shop AND p.product_gid = w.product_gid AND p.status = 'pending') THEN now() END,
                outcome = CASE WHEN w.attempts + u.attempt >= $5 THEN jsonb_build_object('reason', 'attempts_exhausted', 'message', u.error)
                               WHEN EXISTS (SELECT 1 FROM product_rating_writes p WHERE p.shop = w.shop AND p.product_gid = w.product_gid AND p.status = 'pending') THEN jsonb_build_object('reason', 'superseded')
                               ELSE w.outcome END,
                last_error = COALESCE(u.error, w.last_error),
                next_attempt_at = now() + make_interval(secs => u.delay_ms::double precision / 1000),
                claimed_at = NULL, updated_at = now()
           FROM unnest($1::bigint[], $2::text[], $3::int[], $4::double precision[]) AS u(id, error, attempt, delay_ms)
          WHERE w.id = u.id AND w.status = 'in_flight'`,
        [retry.map((o) => o.id), retry.map((o) => o.error), retry.map((o) => (o.attempt ? 1 : 0)), retry.map((o) => o.delayMs), MAX_ATTEMPTS],
      );
      counts.retry = r.rowCount ?? 0;
    }
    return counts;
  });
}

/** Pushes the shop's due pending rows back (the shop cannot be written to for now). */
export async function deferShop(shop: string, delayMs: number, error: string, db: Queryable = getPool()): Promise<number> {
  const r = await db.query(
    `UPDATE product_rating_writes SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000), last_error = $3, updated_at = now()
      WHERE shop = $1 AND status = 'pending' AND next_attempt_at <= now() + make_interval(secs => $2::double precision / 1000)`,
    [shop, delayMs, error],
  );
  return r.rowCount ?? 0;
}

// ---------------------------------------------------------------- standard definitions

export type DefinitionRecord = { ownerType: string; namespace: string; key: string; status: "enabled" | "existing" | "failed"; attemptedAt: Date };

export async function definitionRecords(shop: string, db: Queryable = getPool()): Promise<DefinitionRecord[]> {
  const { rows } = await db.query<{ owner_type: string; namespace: string; key: string; status: DefinitionRecord["status"]; attempted_at: Date }>(
    `SELECT owner_type, namespace, key, status, attempted_at FROM shop_metafield_definitions WHERE shop = $1`,
    [shop],
  );
  return rows.map((r) => ({ ownerType: r.owner_type, namespace: r.namespace, key: r.key, status: r.status, attemptedAt: r.attempted_at }));
}

export async function recordDefinition(
  shop: string,
  d: { ownerType: string; namespace: string; key: string; status: DefinitionRecord["status"]; definitionGid: string | null; outcome: Record<string, unknown> },
  db: Queryable = getPool(),
): Promise<void> {
  await db.query(
    `INSERT INTO shop_metafield_definitions (shop, owner_type, namespace, key, status, definition_gid, outcome, attempted_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now())
     ON CONFLICT (shop, owner_type, namespace, key) DO UPDATE SET status = EXCLUDED.status, definition_gid = COALESCE(EXCLUDED.definition_gid, shop_metafield_definitions.definition_gid),
            outcome = EXCLUDED.outcome, attempted_at = now()`,
    [shop, d.ownerType, d.namespace, d.key, d.status, d.definitionGid, JSON.stringify(d.outcome)],
  );
}

// ---------------------------------------------------------------- sweeper

/** Shops with rows due now or left in flight. */
export async function shopsWithWorkDue(db: Queryable = getPool()): Promise<string[]> {
  const { rows } = await db.query<{ shop: string }>(
    `SELECT DISTINCT shop FROM product_rating_writes WHERE status = 'in_flight' OR (status = 'pending' AND next_attempt_at <= now())`,
  );
  return rows.map((r) => r.shop);
}

export async function nextDueAt(shop: string, db: Queryable = getPool()): Promise<Date | null> {
  const { rows } = await db.query<{ at: Date | null }>(`SELECT min(next_attempt_at) AS at FROM product_rating_writes WHERE shop = $1 AND status = 'pending'`, [shop]);
  return rows[0]?.at ?? null;
}

// ---------------------------------------------------------------- wake-up

/** How long a wake-up waits for Redis before leaving the rows to the periodic sweep. */
const WAKE_TIMEOUT_MS = 1_000;

/**
 * After the caller's transaction commits: asks for a drain of the shop (a BullMQ job; losing
 * it loses nothing, the sweep finds due rows). Never throws.
 */
export async function wakeProductRatingsWriter(shop: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const adding = enqueueProductRatingsDrain(shop);
    adding.catch(() => undefined);
    await Promise.race([
      adding,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from Redis within ${WAKE_TIMEOUT_MS} ms`)), WAKE_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    logger.warn({ shop, err: (error as Error).message }, "product_ratings.wake_failed");
  } finally {
    clearTimeout(timer);
  }
}
