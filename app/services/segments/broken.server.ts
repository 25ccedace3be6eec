// Broken segments (decision 026): a segment whose evaluation fails for a reason that will not
// go away by itself (its stored query no longer checks or compiles, or PostgreSQL rejects its
// filter with a data or syntax error) is marked broken instead of failing the caller. The
// worker's apply step and the scheduled refresh skip broken segments; the admin and the CLI
// show them; saving the segment with a valid query clears the mark.
import type { Db } from "./membership.server";

/** Longest reason stored (the admin shows it; a database message may quote a long value). */
const MAX_REASON_LENGTH = 300;

/**
 * SQLSTATE classes that say the statement itself is at fault and will fail the same way
 * again: data exceptions (22: a date or number out of range, a division by zero), syntax or
 * access errors (42), features not supported (0A), cardinality violations (21) and program
 * limits (54: a statement too complex). Everything else (a timeout or cancellation, a
 * deadlock or serialization failure, a lost connection, out of memory) is transient: the
 * caller's retry is the right answer and the segment is not blamed.
 */
const SEGMENT_FAULT_CLASSES = new Set(["22", "42", "0A", "21", "54"]);

/** The SQLSTATE of an error PostgreSQL reported (pg's DatabaseError), if it is one. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("severity" in error)) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Whether a database error raised by a segment's statement is the segment's own fault. */
export function isSegmentFault(error: unknown): boolean {
  const code = sqlState(error);
  return code !== undefined && SEGMENT_FAULT_CLASSES.has(code.slice(0, 2));
}

/** A short reason to store and show: what failed, never a stack. */
export function brokenReason(stage: "check" | "compile" | "database", error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const what =
    stage === "check"
      ? "its query no longer passes the checker"
      : stage === "compile"
        ? "its query cannot be compiled"
        : `the database rejected its filter${sqlState(error) ? ` (SQLSTATE ${sqlState(error)})` : ""}`;
  const reason = `${what}: ${message.replace(/\s+/g, " ").trim()}`;
  return reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH - 1)}…` : reason;
}

export type BrokenMark = { id: string; query: string; reason: string };

/**
 * Marks segments broken, in the caller's transaction. A mark applies only while the stored
 * query is still the one that failed (an edit in between wins) and only once (an existing
 * mark keeps its time and reason). Returns how many rows it changed: 0 means every mark is
 * already stored (or moot), so a caller that retries marks until then can stop.
 */
export async function markSegmentsBroken(db: Db, shop: string, marks: readonly BrokenMark[], now: Date): Promise<number> {
  if (marks.length === 0) return 0;
  const { rowCount } = await db.query({
    name: "crm-segments-mark-broken",
    text: `UPDATE segments s SET broken_at = $2, broken_reason = m.reason
             FROM unnest($3::bigint[], $4::text[], $5::text[]) AS m(id, query, reason)
            WHERE s.shop = $1 AND s.id = m.id AND s.query = m.query AND s.broken_at IS NULL`,
    values: [shop, now, marks.map((m) => m.id), marks.map((m) => m.query), marks.map((m) => m.reason)],
  });
  return rowCount ?? 0;
}
