// Moments found from stored history in a time window, for one rule. Two users:
//  - the runner's scans (scanTimeTriggers): the triggers that no webhook carries (no order for
//    N days in the shop's time zone, points about to expire, feedback answered on the answer
//    page, birthdays in the shop's time zone) and the changes made by time passing (segment refresh, tier refresh), read from a
//    per-shop-and-rule cursor with an overlap (keys make a moment found twice fire once);
//  - the dry run (dry-run.server.ts), over the last N days, for every trigger kind.
// Safety: segment changes of cause `created`/`edited` (a recompute after a segment edit) and
// `import`, and tier changes of any cause but `order`/`refresh`, are never moments.
import { getPool, type Queryable } from "../../db.server";
import { logger } from "../../logger.server";
import { automationKeys, DAY_MS, orderMatches, scoreMatches, type TriggerKind } from "../../domain/automations/rules";
import { latestVersion } from "../../domain/loyalty/program";
import { loadProgramVersions } from "../loyalty/store.server";
import { insertFirings, tierChangesToFirings, tierRank, type NewFiring } from "./moments.server";
import { loadActiveRules, type StoredRule } from "./rules.server";

/** Trigger kinds the runner scans for (the others come from the apply step). */
export const SCANNED_KINDS: readonly TriggerKind[] = ["no_order_for", "points_expiring", "feedback_answered", "segment_entered", "segment_left", "tier_changed", "birthday"];
/** How often one shop and rule is scanned, and how far back each scan looks before its cursor. */
const SCAN_EVERY_MS = 60_000;
const OVERLAP_MS = 5 * 60_000;
/** A rule scanned for the first time looks back this far (not to the beginning of time). */
const FIRST_LOOKBACK_MS = DAY_MS;

async function shopTimeZone(db: Queryable, shop: string): Promise<string> {
  const { rows } = await db.query<{ tz: string | null }>({ name: "automation-shop-tz", text: `SELECT "ianaTimezone" AS tz FROM shops WHERE domain = $1`, values: [shop] });
  return rows[0]?.tz ?? "UTC";
}

/**
 * The moments of `stored`'s trigger in (from, to]. `sources` "scan" limits segment and tier
 * changes to those time made (the apply step fired the others); "all" takes every cause
 * that may fire (the dry run).
 */
export async function momentsInWindow(db: Queryable, stored: StoredRule, from: Date, to: Date, sources: "scan" | "all"): Promise<NewFiring[]> {
  const trigger = stored.rule.trigger;
  const shop = stored.shop;
  const base = { ruleId: stored.id, version: stored.version };
  switch (trigger.kind) {
    case "no_order_for": {
      const tz = await shopTimeZone(db, shop);
      // Due at local midnight, N days after the local day of the last order.
      const { rows } = await db.query<{ gid: string; last_order_at: Date; due: Date }>(
        `SELECT gid, last_order_at AT TIME ZONE 'UTC' AS last_order_at, due FROM (
           SELECT gid, last_order_at, (date_trunc('day', (last_order_at AT TIME ZONE 'UTC') AT TIME ZONE $2) + make_interval(days => $3)) AT TIME ZONE $2 AS due
             FROM customers WHERE shop = $1 AND last_order_at IS NOT NULL AND deleted_at IS NULL AND redacted_at IS NULL) x
          WHERE due > $4 AND due <= $5`,
        [shop, tz, trigger.days, from, to],
      );
      return rows.map((r) => ({ ...base, customerGid: r.gid, eventKey: automationKeys.inactivity(r.gid, r.last_order_at), trigger: { kind: "no_order_for", days: trigger.days, lastOrderAt: r.last_order_at.toISOString() }, occurredAt: r.due }));
    }
    case "points_expiring": {
      const program = latestVersion(await loadProgramVersions(db, shop));
      const inactivityDays = program?.settings.expiry?.inactivityDays;
      if (!inactivityDays) return [];
      // The expiry outlook (app/domain/loyalty/expiry.ts) in SQL: last activity + inactivity days.
      const { rows } = await db.query<{ gid: string; expires_at: Date; remind_at: Date }>(
        `SELECT customer_gid AS gid, last + make_interval(days => $2) AS expires_at, last + make_interval(days => $2 - $3) AS remind_at FROM (
           SELECT customer_gid, max(occurred_at) AS last FROM loyalty_ledger
            WHERE shop = $1 AND (kind IN ('earn', 'redeem') OR (kind = 'bonus' AND idempotency_key NOT LIKE 'bonus:birthday:%'))
            GROUP BY customer_gid) x
          WHERE last + make_interval(days => $2 - $3) > $4 AND last + make_interval(days => $2 - $3) <= $5`,
        [shop, inactivityDays, trigger.daysBefore, from, to],
      );
      return rows.map((r) => ({ ...base, customerGid: r.gid, eventKey: automationKeys.expiry(r.gid, r.expires_at), trigger: { kind: "points_expiring", daysBefore: trigger.daysBefore, expiresAt: r.expires_at.toISOString() }, occurredAt: r.remind_at }));
    }
    case "feedback_answered": {
      const { rows } = await db.query<{ id: string; customer_gid: string; nps: number; submitted_at: Date }>(
        `SELECT id::text AS id, customer_gid, nps, submitted_at FROM feedback_responses
          WHERE shop = $1 AND customer_gid IS NOT NULL AND redacted_at IS NULL AND submitted_at > $2 AND submitted_at <= $3`,
        [shop, from, to],
      );
      return rows
        .filter((r) => scoreMatches(trigger, r.nps))
        .map((r) => ({ ...base, customerGid: r.customer_gid, eventKey: automationKeys.feedback(r.id), trigger: { kind: "feedback_answered", responseId: r.id, score: r.nps }, occurredAt: r.submitted_at }));
    }
    case "segment_entered":
    case "segment_left": {
      const causes = sources === "scan" ? ["refresh"] : ["event", "refresh"];
      const { rows } = await db.query<{ id: string; customer_gid: string; occurred_at: Date }>(
        `SELECT ch.id::text AS id, ch.customer_gid, ch.occurred_at FROM segments s JOIN segment_membership_changes ch ON ch.segment_id = s.id
          WHERE s.shop = $1 AND s.name = $2 AND ch.change::text = $3 AND ch.cause::text = ANY($4::text[]) AND ch.occurred_at > $5 AND ch.occurred_at <= $6`,
        [shop, trigger.segment, trigger.kind === "segment_entered" ? "entered" : "exited", causes, from, to],
      );
      return rows.map((r) => ({ ...base, customerGid: r.customer_gid, eventKey: automationKeys.segmentChange(r.id), trigger: { kind: trigger.kind, segment: trigger.segment, changeId: r.id }, occurredAt: r.occurred_at }));
    }
    case "tier_changed": {
      const causes = sources === "scan" ? ["refresh"] : ["order", "refresh"];
      const { rows } = await db.query<{ id: string; customer_gid: string; from_tier: string | null; to_tier: string | null; occurred_at: Date }>(
        `SELECT id::text AS id, customer_gid, from_tier, to_tier, occurred_at FROM loyalty_tier_changes WHERE shop = $1 AND cause = ANY($2::text[]) AND occurred_at > $3 AND occurred_at <= $4`,
        [shop, causes, from, to],
      );
      return tierChangesToFirings(rows, [stored], await tierRank(db, shop));
    }
    case "order_placed":
    case "order_paid": {
      if (sources === "scan") return [];
      const { rows } = await db.query<{ gid: string; customer_gid: string; currency: string; total: string; financial_status: string | null; cancelled: boolean; test: boolean; discount_codes: string[]; at: Date; product_types: (string | null)[]; nth: number }>(
        `SELECT o.gid, o.customer_gid, o.currency, o.total_price_minor::text AS total, o.financial_status, o.cancelled_at IS NOT NULL AS cancelled, o.test,
                COALESCE(o.discount_codes, '{}') AS discount_codes, COALESCE(${trigger.kind === "order_paid" ? "o.processed_at" : "o.shopify_created_at"}, o.shopify_created_at) AT TIME ZONE 'UTC' AS at,
                COALESCE((SELECT array_agg(p.product_type) FROM line_items li LEFT JOIN products p ON p.shop = li.shop AND p.gid = li.product_gid WHERE li.shop = o.shop AND li.order_gid = o.gid), '{}') AS product_types,
                (SELECT count(*) FROM orders o2 WHERE o2.shop = o.shop AND o2.customer_gid = o.customer_gid AND o2.cancelled_at IS NULL AND NOT o2.test
                   AND (o2.shopify_created_at < o.shopify_created_at OR (o2.shopify_created_at = o.shopify_created_at AND o2.gid <= o.gid)))::int AS nth
           FROM orders o WHERE o.shop = $1 AND o.customer_gid IS NOT NULL AND (o.shopify_created_at AT TIME ZONE 'UTC') > $2 AND (o.shopify_created_at AT TIME ZONE 'UTC') <= $3`,
        [shop, from, to],
      );
      return rows
        .filter((r) => (trigger.kind === "order_placed" || r.financial_status === "paid") && orderMatches(trigger, { currency: r.currency, totalPriceMinor: BigInt(r.total), productTypes: r.product_types, discountCodes: r.discount_codes, nth: r.nth, test: r.test, cancelled: r.cancelled }))
        .map((r) => ({ ...base, customerGid: r.customer_gid, eventKey: automationKeys.order(trigger.kind, r.gid), trigger: { kind: trigger.kind, orderGid: r.gid, total: r.total, currency: r.currency, nth: r.nth }, occurredAt: r.at }));
    }
    case "birthday": {
      // The birthday is a whole local day (shop time zone): a window that touches it finds it,
      // so a birth date the daily birthday job stores later that day still fires that day. The
      // moment is the day's start; 29 February is 28 February in other years (segment_anniversary,
      // as the segment attribute anniversary()). Once a year: the key holds the birthday's year.
      const tz = await shopTimeZone(db, shop);
      const { rows } = await db.query<{ gid: string; year: number; starts: Date }>(
        `SELECT gid, year, starts FROM (
           SELECT c.gid, y.year, segment_anniversary(c.birth_date, y.year)::timestamp AT TIME ZONE $2 AS starts,
                  (segment_anniversary(c.birth_date, y.year) + 1)::timestamp AT TIME ZONE $2 AS ends
             FROM customers c
            CROSS JOIN generate_series(extract(year FROM $3::timestamptz AT TIME ZONE $2)::int, extract(year FROM $4::timestamptz AT TIME ZONE $2)::int) AS y(year)
            WHERE c.shop = $1 AND c.birth_date IS NOT NULL AND c.deleted_at IS NULL AND c.redacted_at IS NULL) x
          WHERE ends > $3 AND starts <= $4`,
        [shop, tz, from, to],
      );
      return rows.map((r) => ({ ...base, customerGid: r.gid, eventKey: automationKeys.birthday(r.gid, r.year), trigger: { kind: "birthday", year: r.year }, occurredAt: r.starts }));
    }
    case "customer_created": {
      if (sources === "scan") return [];
      const { rows } = await db.query<{ gid: string; at: Date }>(
        `SELECT gid, shopify_created_at AT TIME ZONE 'UTC' AS at FROM customers WHERE shop = $1 AND deleted_at IS NULL AND redacted_at IS NULL AND (shopify_created_at AT TIME ZONE 'UTC') > $2 AND (shopify_created_at AT TIME ZONE 'UTC') <= $3`,
        [shop, from, to],
      );
      return rows.map((r) => ({ ...base, customerGid: r.gid, eventKey: automationKeys.customerCreated(r.gid), trigger: { kind: "customer_created" }, occurredAt: r.at }));
    }
  }
}

/**
 * The runner's scans: for each enabled rule with a scanned trigger whose cursor is older than
 * SCAN_EVERY_MS, the moments since its cursor (minus an overlap) become firings, and the
 * cursor moves to `now`. Returns how many firings were new.
 */
export async function scanTimeTriggers(now: Date, { force = false }: { force?: boolean } = {}): Promise<number> {
  const pool = getPool();
  const { rows: shops } = await pool.query<{ shop: string }>({
    name: "automation-scan-shops",
    text: `SELECT DISTINCT shop FROM automation_rules WHERE enabled AND trigger_kind = ANY($1::text[])`,
    values: [SCANNED_KINDS],
  });
  let fired = 0;
  for (const { shop } of shops) {
    for (const stored of await loadActiveRules(pool, shop)) {
      if (!SCANNED_KINDS.includes(stored.rule.trigger.kind)) continue;
      const source = `rule:${stored.id}`;
      const { rows } = await pool.query<{ position: Date }>(`SELECT position FROM automation_cursors WHERE shop = $1 AND source = $2`, [shop, source]);
      const position = rows[0]?.position ?? null;
      if (!force && position && now.getTime() - position.getTime() < SCAN_EVERY_MS) continue;
      const from = position ? new Date(position.getTime() - OVERLAP_MS) : new Date(now.getTime() - FIRST_LOOKBACK_MS);
      try {
        const moments = await momentsInWindow(pool, stored, from, now, "scan");
        fired += await insertFirings(pool, shop, moments, now);
        await pool.query(
          `INSERT INTO automation_cursors (shop, source, position) VALUES ($1, $2, $3) ON CONFLICT (shop, source) DO UPDATE SET position = GREATEST(automation_cursors.position, EXCLUDED.position), updated_at = now()`,
          [shop, source, now],
        );
      } catch (error) {
        // One rule's scan failing never stops the others; its cursor stays, so it is read again.
        logger.error({ shop, ruleId: stored.id, err: error }, "automation.scan_failed");
      }
    }
  }
  return fired;
}
