// The automations step of the worker's apply (process-inbox-event.server.ts calls
// recordAutomationMoments once per batch and shop, last, in the batch's transaction): the
// moments the batch produced (orders placed or paid, segment entries and exits caused by these
// events, tier changes, new customers), for the trigger kinds the shop's enabled rules use, are
// written as rows with the facts rules test (automation_moments, keyed by shop and event key).
// One row per moment however many rules there are: the runner meets them with the rules
// (expandMoments) and inserts the firings, keyed by rule and event key (ON CONFLICT DO NOTHING:
// a duplicate, replayed or reordered event fires nothing twice). The apply step pays one
// indexed read for a shop without rules, and a few set-based statements for a shop with some.
//
// Safety (issue 14): segment changes count only with cause `event` (not `created`, `edited`:
// a recompute after a segment edit, nor an `import`), tier changes only with cause `order`.
import { withTransaction, type Queryable } from "../../db.server";
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

export async function recordAutomationMoments(db: Queryable, shop: string, batch: BatchMoments): Promise<{ moments: number }> {
  const rules = await loadActiveRules(db, shop);
  if (rules.length === 0) return { moments: 0 };
  const kinds = new Set(rules.map((r) => r.rule.trigger.kind));
  const moments: Moment[] = [];
  if (kinds.has("order_placed") || kinds.has("order_paid")) moments.push(...(await orderMoments(db, shop, kinds, batch)));
  if (kinds.has("segment_entered") || kinds.has("segment_left")) moments.push(...(await segmentMoments(db, shop, rules, batch)));
  if (kinds.has("tier_changed") && batch.customers.length > 0) moments.push(...(await tierMoments(db, shop, batch)));
  if (kinds.has("customer_created")) moments.push(...(await createdMoments(db, shop, batch)));
  return { moments: await insertMoments(db, shop, moments) };
}

/** A moment of one customer, with the facts a rule's trigger is tested on (the trigger's own fields). */
export type Moment = { kind: Trigger["kind"]; eventKey: string; customerGid: string; facts: Record<string, unknown>; occurredAt: Date };

async function insertMoments(db: Queryable, shop: string, moments: readonly Moment[]): Promise<number> {
  if (moments.length === 0) return 0;
  const result = await db.query({
    name: "automation-insert-moments",
    text: `INSERT INTO automation_moments (shop, event_key, kind, customer_gid, facts, occurred_at)
           SELECT $1, k, n, c, f, o FROM unnest($2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[]) AS x(k, n, c, f, o)
           ORDER BY k
           ON CONFLICT (shop, event_key) DO NOTHING`,
    values: [shop, moments.map((m) => m.eventKey), moments.map((m) => m.kind), moments.map((m) => m.customerGid), moments.map((m) => JSON.stringify(m.facts)), moments.map((m) => m.occurredAt)],
  });
  return result.rowCount ?? 0;
}

/** Inserts firings (due at `dueAt`), skipping any rule + event key already there. Returns how many are new. */
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

/** Whether a moment meets a rule's trigger (same kind, the trigger's conditions on the moment's facts). */
export function momentMeets(moment: Pick<Moment, "kind" | "facts">, trigger: Trigger, rank: (tier: string | null) => number): boolean {
  if (trigger.kind !== moment.kind) return false;
  const f = moment.facts;
  switch (trigger.kind) {
    case "order_placed":
    case "order_paid":
      return orderMatches(trigger, {
        currency: f.currency as string,
        totalPriceMinor: BigInt(f.total as string),
        productTypes: f.productTypes as (string | null)[],
        discountCodes: f.discountCodes as string[],
        nth: f.nth as number,
        test: f.test as boolean,
        cancelled: f.cancelled as boolean,
      });
    case "segment_entered":
    case "segment_left":
      return trigger.segment === f.segment;
    case "tier_changed":
      return tierChangeMatches(trigger, { from: f.from as string | null, to: f.to as string | null }, rank);
    case "customer_created":
      return true;
    default:
      return false;
  }
}

/**
 * The runner's first step: takes up to `limit` moments (deleting them, in one transaction with
 * the firings they become: a crash leaves both as they were), meets them with each shop's
 * enabled rules as they are now and inserts the firings (keyed: a moment seen twice fires once).
 */
export async function expandMoments({ now, limit = 2_000 }: { now: Date; limit?: number }): Promise<{ moments: number; fired: number }> {
  return withTransaction(async (db) => {
    const { rows } = await db.query<{ shop: string; event_key: string; kind: Trigger["kind"]; customer_gid: string; facts: Record<string, unknown>; occurred_at: Date }>({
      name: "automation-take-moments",
      text: `DELETE FROM automation_moments m USING (SELECT shop, event_key FROM automation_moments ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED) t
              WHERE m.shop = t.shop AND m.event_key = t.event_key
              RETURNING m.shop, m.event_key, m.kind, m.customer_gid, m.facts, m.occurred_at`,
      values: [limit],
    });
    const byShop = new Map<string, typeof rows>();
    for (const row of rows) byShop.set(row.shop, [...(byShop.get(row.shop) ?? []), row]);
    let fired = 0;
    for (const [shop, moments] of byShop) {
      const rules = await loadActiveRules(db, shop);
      if (rules.length === 0) continue;
      const rank = rules.some((r) => r.rule.trigger.kind === "tier_changed") ? await tierRank(db, shop) : () => -1;
      const firings: NewFiring[] = [];
      for (const m of moments) {
        for (const stored of rules) {
          if (!momentMeets({ kind: m.kind, facts: m.facts }, stored.rule.trigger, rank)) continue;
          firings.push({ ruleId: stored.id, version: stored.version, customerGid: m.customer_gid, eventKey: m.event_key, trigger: { kind: m.kind, ...m.facts }, occurredAt: m.occurred_at });
        }
      }
      fired += await insertFirings(db, shop, firings, now);
    }
    if (fired > 0) logger.debug({ moments: rows.length, fired }, "automation.fired");
    return { moments: rows.length, fired };
  });
}

async function orderMoments(db: Queryable, shop: string, kinds: ReadonlySet<Trigger["kind"]>, batch: BatchMoments): Promise<Moment[]> {
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
                  COALESCE(o.discount_codes, '{}') AS discount_codes, o.shopify_created_at AT TIME ZONE 'UTC' AS created_at,
                  COALESCE((SELECT array_agg(p.product_type) FROM line_items li LEFT JOIN products p ON p.shop = li.shop AND p.gid = li.product_gid
                             WHERE li.shop = o.shop AND li.order_gid = o.gid), '{}') AS product_types,
                  (SELECT count(*) FROM orders o2 WHERE o2.shop = o.shop AND o2.customer_gid = o.customer_gid AND o2.cancelled_at IS NULL AND NOT o2.test
                      AND (o2.shopify_created_at < o.shopify_created_at OR (o2.shopify_created_at = o.shopify_created_at AND o2.gid <= o.gid)))::int AS nth
             FROM orders o
            WHERE o.shop = $1 AND o.gid = ANY($2::text[]) AND o.customer_gid IS NOT NULL AND NOT o.test AND o.cancelled_at IS NULL`,
    values: [shop, [...eventTimes.keys()]],
  });
  const moments: Moment[] = [];
  for (const row of rows) {
    const at = eventTimes.get(row.gid)!;
    const facts = { orderGid: row.gid, total: row.total, currency: row.currency, productTypes: row.product_types, discountCodes: row.discount_codes, nth: row.nth, test: row.test, cancelled: row.cancelled };
    if (kinds.has("order_placed") && at.getTime() - row.created_at.getTime() <= FRESH_MS) moments.push({ kind: "order_placed", eventKey: automationKeys.order("order_placed", row.gid), customerGid: row.customer_gid, facts, occurredAt: at });
    if (kinds.has("order_paid") && row.financial_status === "paid") moments.push({ kind: "order_paid", eventKey: automationKeys.order("order_paid", row.gid), customerGid: row.customer_gid, facts, occurredAt: at });
  }
  return moments;
}

async function segmentMoments(db: Queryable, shop: string, rules: StoredRule[], batch: BatchMoments): Promise<Moment[]> {
  const inboxIds = [...new Set(batch.events.map((e) => e.inboxId))];
  const names = [...new Set(rules.flatMap((r) => (r.rule.trigger.kind === "segment_entered" || r.rule.trigger.kind === "segment_left" ? [r.rule.trigger.segment] : [])))];
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
  return rows.map((row) => ({
    kind: row.change === "entered" ? "segment_entered" : "segment_left",
    eventKey: automationKeys.segmentChange(row.id),
    customerGid: row.customer_gid,
    facts: { segment: row.name, changeId: row.id },
    occurredAt: row.occurred_at,
  }));
}

async function tierMoments(db: Queryable, shop: string, batch: BatchMoments): Promise<Moment[]> {
  const { rows } = await db.query<{ id: string; customer_gid: string; from_tier: string | null; to_tier: string | null; occurred_at: Date }>({
    name: "automation-tier-changes",
    text: `SELECT id::text AS id, customer_gid, from_tier, to_tier, occurred_at FROM loyalty_tier_changes
            WHERE shop = $1 AND customer_gid = ANY($2::text[]) AND cause = 'order' AND occurred_at >= transaction_timestamp() - interval '1 minute'`,
    values: [shop, [...batch.customers]],
  });
  return rows.map((row) => ({ kind: "tier_changed", eventKey: automationKeys.tierChange(row.id), customerGid: row.customer_gid, facts: { from: row.from_tier, to: row.to_tier, changeId: row.id }, occurredAt: row.occurred_at }));
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

async function createdMoments(db: Queryable, shop: string, batch: BatchMoments): Promise<Moment[]> {
  const created = new Map<string, Date>();
  for (const { event, eventTime } of batch.events) {
    const customer = event.kind === "customer" ? event.customer : event.kind === "order" ? event.order.customer : null;
    if (!customer?.createdAt || eventTime.getTime() - customer.createdAt.getTime() > FRESH_MS) continue;
    if (!created.has(customer.gid)) created.set(customer.gid, customer.createdAt);
  }
  if (created.size === 0) return [];
  const { rows } = await db.query<{ gid: string }>({
    name: "automation-live-customers",
    text: `SELECT gid FROM customers WHERE shop = $1 AND gid = ANY($2::text[]) AND deleted_at IS NULL AND redacted_at IS NULL`,
    values: [shop, [...created.keys()]],
  });
  return rows.map(({ gid }) => ({ kind: "customer_created", eventKey: automationKeys.customerCreated(gid), customerGid: gid, facts: {}, occurredAt: created.get(gid)! }));
}
