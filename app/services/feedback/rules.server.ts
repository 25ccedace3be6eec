// The shop's feedback rules and settings (tables feedback_rules, feedback_settings).
//
// `rules set` replaces the shop's whole rules file: rules are matched by name and updated in
// place, so a change (delay, filters, reminders, enabled) applies to every request of the rule
// not yet sent: the send time of scheduled requests moves with the new delay, and everything
// else is read again at send time. A rule left out of the file is marked removed; its
// scheduled requests are skipped (rule_removed) when they come due. Requests already sent keep
// their link and, while unanswered, follow the rule's current reminder settings.
import { withTransaction, getPool, type Queryable } from "../../db.server";
import { logger } from "../../logger.server";
import { parseFeedbackRules, readStoredRule, type FeedbackRule, type FeedbackSettings } from "../../domain/feedback/rules";

export class FeedbackError extends Error {
  constructor(
    readonly kind: "invalid" | "not_found" | "conflict",
    message: string,
  ) {
    super(message);
    this.name = "FeedbackError";
  }
}

export type StoredRule = { id: string; name: string; removed: boolean; rule: FeedbackRule; updatedAt: Date };

type RuleRow = { id: string; name: string; definition: unknown; removed_at: Date | null; updated_at: Date };

const toStored = (r: RuleRow): StoredRule => ({ id: r.id, name: r.name, removed: r.removed_at !== null, rule: readStoredRule(r.definition), updatedAt: r.updated_at });

/** The rules the apply step schedules with: enabled and not removed. One indexed read. */
export async function loadSchedulingRules(db: Queryable, shop: string): Promise<StoredRule[]> {
  const { rows } = await db.query<RuleRow>({
    name: "feedback-scheduling-rules",
    text: `SELECT id::text AS id, name, definition, removed_at, updated_at FROM feedback_rules WHERE shop = $1 AND removed_at IS NULL AND enabled ORDER BY id`,
    values: [shop],
  });
  return rows.map(toStored);
}

export async function loadRuleById(db: Queryable, ruleId: string): Promise<StoredRule | null> {
  const { rows } = await db.query<RuleRow>({
    name: "feedback-rule-by-id",
    text: `SELECT id::text AS id, name, definition, removed_at, updated_at FROM feedback_rules WHERE id = $1`,
    values: [ruleId],
  });
  return rows[0] ? toStored(rows[0]) : null;
}

export async function getFeedbackSettings(db: Queryable, shop: string): Promise<FeedbackSettings> {
  const { rows } = await db.query<{ tag_negative: boolean; staff_alert: boolean }>({
    name: "feedback-settings",
    text: `SELECT tag_negative, staff_alert FROM feedback_settings WHERE shop = $1`,
    values: [shop],
  });
  return { tagNegative: rows[0]?.tag_negative ?? false, staffAlert: rows[0]?.staff_alert ?? false };
}

export type RulesListing = { settings: FeedbackSettings; rules: (FeedbackRule & { id: string })[] };

/** The shop's current rules file (removed rules left out), in the format `rules set` reads. */
export async function listFeedbackRules(shop: string, db: Queryable = getPool()): Promise<RulesListing> {
  const { rows } = await db.query<RuleRow>(
    `SELECT id::text AS id, name, definition, removed_at, updated_at FROM feedback_rules WHERE shop = $1 AND removed_at IS NULL ORDER BY id`,
    [shop],
  );
  return { settings: await getFeedbackSettings(db, shop), rules: rows.map((r) => ({ id: r.id, ...readStoredRule(r.definition) })) };
}

export type SetRulesResult = RulesListing & { created: number; updated: number; removed: number; rescheduled: number };

/** Replaces the shop's rules file (see the header). Throws FeedbackError("invalid") with every problem found. */
export async function setFeedbackRules(shop: string, input: unknown): Promise<SetRulesResult> {
  const parsed = parseFeedbackRules(input);
  if (!parsed.ok) throw new FeedbackError("invalid", `invalid feedback rules:\n${parsed.errors.map((e) => `  ${e}`).join("\n")}`);
  const { rules, settings } = parsed.file;
  const outcome = await withTransaction(async (db) => {
    // One writer of a shop's rules at a time (two `rules set` never interleave).
    await db.query(`SELECT pg_advisory_xact_lock(hashtextextended('feedback-rules:' || $1, 0))`, [shop]);
    const { rows: existing } = await db.query<{ id: string; name: string; removed_at: Date | null }>(`SELECT id::text AS id, name, removed_at FROM feedback_rules WHERE shop = $1`, [shop]);
    const byName = new Map(existing.map((r) => [r.name, r]));
    let created = 0;
    let updated = 0;
    let rescheduled = 0;
    for (const rule of rules) {
      const { rows } = await db.query<{ id: string; inserted: boolean }>(
        `INSERT INTO feedback_rules (shop, name, enabled, definition) VALUES ($1, $2, $3, $4::jsonb)
         ON CONFLICT (shop, name) DO UPDATE SET enabled = EXCLUDED.enabled, definition = EXCLUDED.definition, removed_at = NULL, updated_at = now()
         RETURNING id::text AS id, (xmax = 0) AS inserted`,
        [shop, rule.name, rule.enabled, JSON.stringify(rule)],
      );
      const row = rows[0]!;
      if (row.inserted || byName.get(rule.name)?.removed_at) created += 1;
      else updated += 1;
      // Requests not yet sent follow the rule's new delay (from their trigger time).
      const moved = await db.query(
        `UPDATE feedback_requests r
            SET send_at = r.triggered_at + make_interval(days => CASE WHEN o.source_name = 'pos' AND $3::int IS NOT NULL THEN $3::int ELSE $2::int END),
                updated_at = now()
           FROM orders o
          WHERE r.rule_id = $1 AND r.status = 'scheduled' AND o.shop = r.shop AND o.gid = r.order_gid
            AND r.send_at IS DISTINCT FROM r.triggered_at + make_interval(days => CASE WHEN o.source_name = 'pos' AND $3::int IS NOT NULL THEN $3::int ELSE $2::int END)`,
        [row.id, rule.delayDays, rule.posDelayDays],
      );
      rescheduled += moved.rowCount ?? 0;
    }
    const keep = rules.map((r) => r.name);
    const removed = await db.query(`UPDATE feedback_rules SET removed_at = now(), updated_at = now() WHERE shop = $1 AND removed_at IS NULL AND NOT (name = ANY($2::text[]))`, [shop, keep]);
    await db.query(
      `INSERT INTO feedback_settings (shop, tag_negative, staff_alert) VALUES ($1, $2, $3)
       ON CONFLICT (shop) DO UPDATE SET tag_negative = EXCLUDED.tag_negative, staff_alert = EXCLUDED.staff_alert, updated_at = now()`,
      [shop, settings.tagNegative, settings.staffAlert],
    );
    return { created, updated, removed: removed.rowCount ?? 0, rescheduled, listing: await listFeedbackRules(shop, db) };
  });
  logger.info({ shop, created: outcome.created, updated: outcome.updated, removed: outcome.removed, rescheduled: outcome.rescheduled }, "feedback.rules_set");
  return { ...outcome.listing, created: outcome.created, updated: outcome.updated, removed: outcome.removed, rescheduled: outcome.rescheduled };
}
