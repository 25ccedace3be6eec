// Server-side limits on what one segment query may cost (decision 026): a statement timeout
// for previews and recomputes, enforced by PostgreSQL (which cancels the statement, error
// 57014), and a cap on the previews of one shop running at once in this process.
import { getEnv } from "../../env.server";
import { sqlState } from "./broken.server";
import type { Db } from "./membership.server";

/** PostgreSQL's "canceling statement due to statement timeout" (query_canceled). */
export function isStatementTimeout(error: unknown): boolean {
  return sqlState(error) === "57014";
}

/**
 * Limits the statements of the current transaction to `ms` milliseconds each (set_config is
 * transaction-local, like SET LOCAL) and returns the value in force before, for
 * restoreStatementTimeout. Call it inside a transaction.
 */
export async function setStatementTimeout(db: Db, ms: number): Promise<string> {
  const { rows } = await db.query<{ previous: string }>({
    name: "crm-segments-set-statement-timeout",
    text: `SELECT p.previous, set_config('statement_timeout', $1, true) AS now_set
             FROM (SELECT current_setting('statement_timeout') AS previous OFFSET 0) p`,
    values: [`${Math.max(1, Math.ceil(ms))}ms`],
  });
  return rows[0]?.previous ?? "0";
}

/** Puts back the timeout setStatementTimeout replaced (before a lock wait that must not count against it). */
export async function restoreStatementTimeout(db: Db, previous: string): Promise<void> {
  await db.query({ name: "crm-segments-restore-statement-timeout", text: `SELECT set_config('statement_timeout', $1, true)`, values: [previous] });
}

export const previewTimeoutMs = () => getEnv().SEGMENT_PREVIEW_TIMEOUT_MS;
export const recomputeTimeoutMs = () => getEnv().SEGMENT_RECOMPUTE_TIMEOUT_MS;

/** How long a preview waits for one of its shop's slots before it is refused as busy. */
export const PREVIEW_SLOT_WAIT_MS = 1_000;

const inFlight = new Map<string, number>();
const waiters = new Map<string, (() => void)[]>();

/**
 * Takes one of the shop's preview slots (SEGMENT_PREVIEW_CONCURRENCY per process), waiting up
 * to PREVIEW_SLOT_WAIT_MS for one; returns the release function, or null when none came free.
 * In this process only: each web process has its own pool, which bounds its connections
 * anyway, and a preview is also bounded in time.
 */
export async function acquirePreviewSlot(shop: string, waitMs = PREVIEW_SLOT_WAIT_MS): Promise<(() => void) | null> {
  const limit = getEnv().SEGMENT_PREVIEW_CONCURRENCY;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    const queue = waiters.get(shop);
    const next = queue?.shift();
    if (queue && queue.length === 0) waiters.delete(shop);
    // The slot passes straight to the next waiter; otherwise it is given back.
    if (next) next();
    else if ((inFlight.get(shop) ?? 0) <= 1) inFlight.delete(shop);
    else inFlight.set(shop, (inFlight.get(shop) ?? 1) - 1);
  };
  const running = inFlight.get(shop) ?? 0;
  if (running < limit) {
    inFlight.set(shop, running + 1);
    return release;
  }
  if (waitMs <= 0) return null;
  return new Promise((resolve) => {
    const queue = waiters.get(shop) ?? [];
    const wake = () => {
      clearTimeout(timer);
      resolve(release);
    };
    const timer = setTimeout(() => {
      const current = waiters.get(shop);
      const index = current?.indexOf(wake) ?? -1;
      if (current && index >= 0) current.splice(index, 1);
      if (current && current.length === 0) waiters.delete(shop);
      resolve(null);
    }, waitMs);
    queue.push(wake);
    waiters.set(shop, queue);
  });
}

/** Previews of this shop running now in this process (tests). */
export const previewsInFlight = (shop: string) => inFlight.get(shop) ?? 0;
