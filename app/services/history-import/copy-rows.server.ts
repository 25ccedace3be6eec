// COPY ... FROM STDIN (text format) for the history import's staging tables, through
// pg-copy-streams: rows are encoded here and sent in one COPY per batch and table.
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import type { PoolClient } from "pg";
import { from as copyFrom } from "pg-copy-streams";

export type CopyValue = string | number | bigint | boolean | Date | null | undefined | readonly string[] | CopyJson;
/** A value written as JSON (a jsonb column). */
export class CopyJson {
  constructor(readonly value: unknown) {}
}

// COPY text format: backslash, newline, carriage return and tab are escaped; \N is NULL.
const escapeText = (s: string) => (/[\\\n\r\t]/.test(s) ? s.replace(/[\\\n\r\t]/g, (c) => (c === "\\" ? "\\\\" : c === "\n" ? "\\n" : c === "\r" ? "\\r" : "\\t")) : s);

/** A PostgreSQL array literal: every element double-quoted with " and \ escaped. */
const arrayLiteral = (items: readonly string[]) => `{${items.map((item) => `"${item.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(",")}}`;

export function encodeCopyValue(value: CopyValue): string {
  if (value === null || value === undefined) return "\\N";
  if (typeof value === "string") return escapeText(value);
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "boolean") return value ? "t" : "f";
  if (value instanceof Date) return value.toISOString();
  if (value instanceof CopyJson) return escapeText(JSON.stringify(value.value));
  return escapeText(arrayLiteral(value as readonly string[]));
}

/** Appends one encoded row (values in column order) to `out`. */
export function encodeCopyRow(values: readonly CopyValue[]): string {
  let line = "";
  for (let i = 0; i < values.length; i++) line += (i === 0 ? "" : "\t") + encodeCopyValue(values[i]);
  return `${line}\n`;
}

/**
 * Copies encoded rows (each ending in a newline) into `table (columns)`. Table and column
 * names come from the caller's constants, never from input.
 */
export async function copyRows(client: PoolClient, table: string, columns: readonly string[], rows: readonly string[]): Promise<void> {
  if (rows.length === 0) return;
  const stream = client.query(copyFrom(`COPY ${table} (${columns.map((c) => `"${c}"`).join(", ")}) FROM STDIN`));
  // Chunks of about 64 KB: few writes, and never one string the size of the batch.
  async function* chunks() {
    let chunk = "";
    for (const row of rows) {
      chunk += row;
      if (chunk.length >= 65_536) {
        yield chunk;
        chunk = "";
      }
    }
    if (chunk) yield chunk;
  }
  await pipeline(Readable.from(chunks()), stream);
}
