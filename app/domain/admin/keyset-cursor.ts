// Opaque cursors for keyset pagination in the admin: a sort name, the sort key of the
// row at the page's edge (as PostgreSQL prints it) and that row's id. A cursor that does
// not parse, or belongs to another sort, is no cursor (the list starts at its first page).
import { z } from "zod";

export type KeysetCursor = { sort: string; key: string; id: string };

// Keys are PostgreSQL's text form of a timestamptz (or +/-infinity) or of a bigint.
const TIMESTAMP_KEY = /^(-?infinity|\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2})$/;
const INTEGER_KEY = /^-?\d{1,19}$/;

export type KeyKind = "timestamp" | "integer";

const CursorSchema = z.tuple([z.string().min(1).max(40), z.string().min(1).max(40), z.string().regex(/^\d{1,19}$/)]);

export function encodeCursor({ sort, key, id }: KeysetCursor): string {
  return Buffer.from(JSON.stringify([sort, key, id]), "utf8").toString("base64url");
}

/** The cursor, or null when it is malformed, of another sort, or its key is not of `kind`. */
export function decodeCursor({ cursor, sort, kind }: { cursor: string | null | undefined; sort: string; kind: KeyKind }): KeysetCursor | null {
  if (!cursor || cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  const parsed = CursorSchema.safeParse(raw);
  if (!parsed.success) return null;
  const [cursorSort, key, id] = parsed.data;
  if (cursorSort !== sort) return null;
  if (!(kind === "timestamp" ? TIMESTAMP_KEY : INTEGER_KEY).test(key)) return null;
  return { sort, key, id };
}
