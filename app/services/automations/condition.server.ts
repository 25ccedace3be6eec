// A rule's condition (or a wait's `until`) on one customer now: the segment language through
// the segment checker and compiler (one data model with segments), one indexed row.
import type { Queryable } from "../../db.server";
import { analyzeSegmentQuery } from "../segments/definition";
import { compileTargets, LIVE_CUSTOMER } from "../segments/membership.server";

const cache = new Map<string, ReturnType<typeof analyzeSegmentQuery>>();

export async function customerMatches(db: Queryable, shop: string, customerGid: string, query: string, now: Date): Promise<boolean> {
  let definition = cache.get(query);
  if (!definition) {
    definition = analyzeSegmentQuery(query);
    if (cache.size > 500) cache.clear();
    cache.set(query, definition);
  }
  // Checked when the rule was saved; a query the catalogue no longer accepts matches nobody.
  if (!definition.ok) return false;
  const { rows: shopRows } = await db.query<{ currency: string | null }>({ name: "automation-shop-currency", text: `SELECT "currencyCode" AS currency FROM shops WHERE domain = $1`, values: [shop] });
  const { filters, values } = compileTargets([{ id: "0", ast: definition.ast }], 3, { now, currency: shopRows[0]?.currency ?? null });
  const { rows } = await db.query(`SELECT 1 FROM customers c WHERE ${LIVE_CUSTOMER} AND c.gid = $2 AND (${filters[0]})`, [shop, customerGid, ...values]);
  return rows.length > 0;
}
