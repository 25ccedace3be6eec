// The automations step of the worker's apply (process-inbox-event.server.ts calls
// recordAutomationMoments once per batch and shop, last, in the batch's transaction): the
// moments the batch produced (orders placed or paid, segment entries and exits caused by these
// events, tier changes, new customers) meet the shop's enabled rules, and each match becomes a
// firing row, keyed by rule and event key (ON CONFLICT DO NOTHING: a duplicate, replayed or
// reordered event fires nothing twice). Nothing else happens here: the condition, re-entry and
// the actions are the runner's (runner.server.ts), so the apply step pays one indexed read for
// a shop without rules and a few set-based statements for a shop with some.
//
// Safety (issue 14): segment changes count only with cause `event` (not `created`, `edited`:
// a recompute after a segment edit, nor an `import`), tier changes only with cause `order`.
import type { Queryable } from "../../db.server";
import { logger } from "../../logger.server";
import type { CrmEvent } from "../../domain/crm-events";
import { automationKeys, orderMatches, tierChangeMatches, type Trigger } from "../../domain/automations/rules";
import { latestVersion } from "../../domain/loyalty/program";
import { loadProgramVersions } from "../loyalty/store.server";
import { loadActiveRules, type StoredRule } from "./rules.server";

export type BatchMoments = { events: readonly { inboxId: string; event: CrmEvent; eventTime: Date }[]; customers: readonly string[] };

/** A moment older than this when first seen (a late first delivery, an old order updated) is not "placed" or "created" any more. */
export const FRESH_MS = 2 * 86_400_000;

export type NewFiring = { ruleId: string; version: number; customerGid: string; eventKey: string; trigger: Record<string, unknown>; occurredAt: Date };

type OrderRow = {
  gid: string;
  customer_gid: string;
  currency: string;
  total: string;
  financial_status: string | null;
  cancelled: boolean;
  test: boolean;
  discount_codes: string[];
  created_at: Date;
  product_types: (string | null)[];
  nth: number;
};

export async function recordAutomationMoments(db: Queryable, shop: string, batch: BatchMoments): Promise<{ fired: number }> {
  const rules = await loadActiveRules(db, shop);
  if (rules.length === 0) return { fired: 0 };
  const byKind = (kinds: readonly Trigger["kind"][]) => rules.filter((r) => kinds.includes(r.rule.trigger.kind));
  const firings: NewFiring[] = [];

  const orderRules = byKind(["order_placed", "order_paid"]);
  if (orderRules.length > 0) firings.push(...(await orderFirings(db, shop, orderRules, batch)));
  const segmentRules = byKind(["segment_entered", "segment_left"]);
  if (segmentRules.length > 0) firings.push(...(await segmentFirings(db, shop, segmentRules, batch)));
  const tierRules = byKind(["tier_changed"]);
  if (tierRules.length > 0 && batch.customers.length > 0) firings.push(...(await tierFirings(db, shop, tierRules, batch)));
  const createdRules = byKind(["customer_created"]);
  if (createdRules.length > 0) firings.push(...(await createdFirings(db, shop, createdRules, batch)));

  const fired = await insertFirings(db, shop, firings, new Date());
  if (fired > 0) logger.debug({ shop, fired }, "automation.fired");
  return { fired };
}

/** Inserts firings (due now), skipping any rule + event key already there. Returns how many are new. */
export async function insertFirings(db: Queryable, shop: string, firings: readonly NewFiring[], dueAt: Date): Promise<number> {
  if (firings.length === 0) return 0;
  const result = await db.query({
    name: "automation-insert-firings",
    text: `INSERT INTO automation_firings (shop, rule_id, rule_version, customer_gid, event_key, trigger, occurred_at, due_at)
           SELECT $1, r, v, c, k, t, o, $8 FROM unnest($2::bigint[], $3::int[], $4::text[], $5::text[], $6::jsonb[], $7::timestamptz[]) AS x(r, v, c, k, t, o)
           ORDER BY r, k
           ON CONFLICT (rule_id, event_key) DO NOTHING`,
    values: [
      shop,
      firings.map((f) => f.ruleId),
      firings.map((f) => f.version),
      firings.map((f) => f.customerGid),
      firings.map((f) => f.eventKey),
      firings.map((f) => JSON.stringify(f.trigger)),
      firings.map((f) => f.occurredAt),
      dueAt,
    ],
  });
  return result.rowCount ?? 0;
}

async function orderFirings(db: Queryable, shop: string, rules: StoredRule[], batch: BatchMoments): Promise<NewFiring[]> {
  const eventTimes = new Map<string, Date>();
  for (const { event, eventTime } of batch.events) {
    if (event.kind !== "order") continue;
    const previous = eventTimes.get(event.order.gid);
    if (!previous || previous < eventTime) eventTimes.set(event.order.gid, eventTime);
  }
  if (eventTimes.size === 0) return [];
  const { rows } = await db.query<OrderRow>({
    name: "automation-orders",
    text: `SELECT o.gid, o.customer_gid, o.currency, o.total_price_minor::text AS total, o.financial_status, o.cancelled_at IS NOT NULL AS cancelled, o.test,
                  COALESCE(o.discount_codes, '{}') AS discount_codes, o.shopify_created_at AS created_at,
                  COALESCE((SELECT array_agg(p.product_type) FROM line_items li LEFT JOIN products p ON p.shop = li.shop AND p.gid = li.product_gid
                             WHERE li.shop = o.shop AND li.order_gid = o.gid), '{}') AS product_types,
                  (SELECT count(*) FROM orders o2 WHERE o2.shop = o.shop AND o2.customer_gid = o.customer_gid AND NOT o2.test
                      AND (o2.shopify_created_at, o2.gid) <= (o.shopify_created_at, o.gid))::int AS nth
             FROM orders o JOIN customers c ON c.shop = o.shop AND c.gid = o.customer_gid AND c.deleted_at IS NULL AND c.redacted_at IS NULL
            WHERE o.shop = $1 AND o.gid = ANY($2::text[])`,
    values: [shop, [...eventTimes.keys()]],
  });
  const firings: NewFiring[] = [];
  for (const row of rows) {
    const facts = {
      currency: row.currency,
      totalPriceMinor: BigInt(row.total),
      productTypes: row.product_types,
      discountCodes: row.discount_codes,
      nth: row.nth,
      test: row.test,
      cancelled: row.cancelled,
    };
    const at = eventTimes.get(row.gid)!;
    for (const stored of rules) {
      const trigger = stored.rule.trigger;
      if (trigger.kind !== "order_placed" && trigger.kind !== "order_paid") continue;
      if (trigger.kind === "order_placed" && at.getTime() - row.created_at.getTime() > FRESH_MS) continue;
      if (trigger.kind === "order_paid" && row.financial_status !== "paid") continue;
      if (!orderMatches(trigger, facts)) continue;
      firings.push({
        ruleId: stored.id,
        version: stored.version,
        customerGid: row.customer_gid,
        eventKey: automationKeys.order(trigger.kind, row.gid),
        trigger: { kind: trigger.kind, orderGid: row.gid, total: row.total, currency: row.currency, nth: row.nth },
        occurredAt: at,
      });
    }
  }
  return firings;
}

async function segmentFirings(db: Queryable, shop: string, rules: StoredRule[], batch: BatchMoments): Promise<NewFiring[]> {
  const inboxIds = [...new Set(batch.events.map((e) => e.inboxId))];
  const names = [...new Set(rules.map((r) => (r.rule.trigger as { segment: string }).segment))];
  // The (segment_id, occurred_at) index: the batch's own changes were written moments ago,
  // inside this transaction (the margin covers the app's clock against the database's).
  const { rows } = await db.query<{ id: string; name: string; customer_gid: string; change: "entered" | "exited"; occurred_at: Date }>({
    name: "automation-segment-changes",
    text: `SELECT ch.id::text AS id, s.name, ch.customer_gid, ch.change::text AS change, ch.occurred_at
             FROM segments s JOIN segment_membership_changes ch ON ch.segment_id = s.id
            WHERE s.shop = $1 AND s.name = ANY($2::text[]) AND ch.occurred_at >= transaction_timestamp() - interval '1 minute'
              AND ch.cause = 'event' AND ch.inbox_id = ANY($3::bigint[])`,
    values: [shop, names, inboxIds],
  });
  const firings: NewFiring[] = [];
  for (const row of rows) {
    for (const stored of rules) {
      const trigger = stored.rule.trigger;
      if (trigger.kind !== "segment_entered" && trigger.kind !== "segment_left") continue;
      if (trigger.segment !== row.name || (trigger.kind === "segment_entered") !== (row.change === "entered")) continue;
      firings.push({
        ruleId: stored.id,
        version: stored.version,
        customerGid: row.customer_gid,
        eventKey: automationKeys.segmentChange(row.id),
        trigger: { kind: trigger.kind, segment: row.name, changeId: row.id },
        occurredAt: row.occurred_at,
      });
    }
  }
  return firings;
}

async function tierFirings(db: Queryable, shop: string, rules: StoredRule[], batch: BatchMoments): Promise<NewFiring[]> {
  const { rows } = await db.query<{ id: string; customer_gid: string; from_tier: string | null; to_tier: string | null; occurred_at: Date }>({
    name: "automation-tier-changes",
    text: `SELECT id::text AS id, customer_gid, from_tier, to_tier, occurred_at FROM loyalty_tier_changes
            WHERE shop = $1 AND customer_gid = ANY($2::text[]) AND cause = 'order' AND occurred_at >= transaction_timestamp() - interval '1 minute'`,
    values: [shop, [...batch.customers]],
  });
  if (rows.length === 0) return [];
  return tierChangesToFirings(rows, rules, await tierRank(db, shop));
}

/** Orders the program's tiers by threshold (higher is better; no tier is lowest). */
export async function tierRank(db: Queryable, shop: string): Promise<(tier: string | null) => number> {
  const levels = latestVersion(await loadProgramVersions(db, shop))?.settings.tiers?.levels ?? [];
  const sorted = [...levels].sort((a, b) => Number(a.threshold) - Number(b.threshold)).map((l) => l.name.toLowerCase());
  return (tier) => (tier === null ? -1 : sorted.indexOf(tier.toLowerCase()));
}

export function tierChangesToFirings(rows: readonly { id: string; customer_gid: string; from_tier: string | null; to_tier: string | null; occurred_at: Date }[], rules: readonly StoredRule[], rank: (tier: string | null) => number): NewFiring[] {
  const firings: NewFiring[] = [];
  for (const row of rows) {
    for (const stored of rules) {
      const trigger = stored.rule.trigger;
      if (trigger.kind !== "tier_changed" || !tierChangeMatches(trigger, { from: row.from_tier, to: row.to_tier }, rank)) continue;
      firings.push({
        ruleId: stored.id,
        version: stored.version,
        customerGid: row.customer_gid,
        eventKey: automationKeys.tierChange(row.id),
        trigger: { kind: "tier_changed", from: row.from_tier, to: row.to_tier, changeId: row.id },
        occurredAt: row.occurred_at,
      });
    }
  }
  return firings;
}

async function createdFirings(db: Queryable, shop: string, rules: StoredRule[], batch: BatchMoments): Promise<NewFiring[]> {
  const created = new Map<string, { createdAt: Date; eventTime: Date }>();
  for (const { event, eventTime } of batch.events) {
    const customer = event.kind === "customer" ? event.customer : event.kind === "order" ? event.order.customer : null;
    if (!customer?.createdAt || eventTime.getTime() - customer.createdAt.getTime() > FRESH_MS) continue;
    if (!created.has(customer.gid)) created.set(customer.gid, { createdAt: customer.createdAt, eventTime });
  }
  if (created.size === 0) return [];
  const { rows } = await db.query<{ gid: string }>({
    name: "automation-live-customers",
    text: `SELECT gid FROM customers WHERE shop = $1 AND gid = ANY($2::text[]) AND deleted_at IS NULL AND redacted_at IS NULL`,
    values: [shop, [...created.keys()]],
  });
  const firings: NewFiring[] = [];
  for (const { gid } of rows) {
    for (const stored of rules) {
      firings.push({
        ruleId: stored.id,
        version: stored.version,
        customerGid: gid,
        eventKey: automationKeys.customerCreated(gid),
        trigger: { kind: "customer_created" },
        occurredAt: created.get(gid)!.createdAt,
      });
    }
  }
  return firings;
}
