// The Automations admin pages' service (issue 14, "Admin UI and CLI"): the rules list with
// each rule's firings in the last 7 days and failures, the rule editor's load and save (the
// same rule schema as `crm automations set`, its problems returned by field path), the on/off
// switch, the dry run with the customers' names, and the firing log filtered and paged.
// Rules are stored by automation_rules (decision 049); the editor addresses them by id, so a
// rename keeps the rule (and its firings) instead of making a second one.
import { z } from "zod";
import { getPool, withTransaction } from "../db.server";
import { logger } from "../logger.server";
import { RuleSchema, type Rule } from "../domain/automations/rules";
import { AUTOMATION_TEMPLATES } from "../domain/automations/templates";
import { createFormatter, type Formatter } from "../domain/format";
import {
  FIRING_STATUSES,
  TRIGGER_LABELS,
  blankTrigger,
  errorsByPath,
  type AutomationsListView,
  type DryRunView,
  type FiringLogFilters,
  type FiringLogView,
  type RuleDraft,
  type RuleEditorView,
  type RuleFormResult,
} from "../domain/admin/automation-view-models";
import { listRules, loadRuleById, setRule } from "./automations/rules.server";
import { ruleStats } from "./automations/log.server";
import { dryRunRule } from "./automations/dry-run.server";
import { legacyIdOf } from "./admin-format.server";

export const FIRING_LOG_PAGE_SIZE = 25;
export const DRY_RUN_DAYS = 30;
export const DRY_RUN_CUSTOMERS = 50;

const triggerLabel = (kind: string) => TRIGGER_LABELS[kind as keyof typeof TRIGGER_LABELS] ?? kind;

const customerName = (c: { first_name: string | null; last_name: string | null; email: string | null; redacted: boolean | null }) => {
  if (c.redacted) return "Redacted customer";
  const name = [c.first_name, c.last_name].filter(Boolean).join(" ").trim();
  return name || c.email || "No name";
};

const isId = (id: string) => /^\d{1,18}$/.test(id);

// ---------------------------------------------------------------- list

export async function getAutomationsList({ shop, now = new Date(), fmt = createFormatter() }: { shop: string; now?: Date; fmt?: Formatter }): Promise<AutomationsListView> {
  const rules = await listRules(shop);
  const stats = await ruleStats(shop, now);
  return {
    rules: rules.map((r) => ({
      id: r.id,
      name: r.name,
      trigger: triggerLabel(r.rule.trigger.kind),
      enabled: r.enabled,
      fired7d: stats.get(r.id)?.fired7d ?? 0,
      failed: stats.get(r.id)?.failed ?? 0,
      updatedAt: fmt.dateTime(r.updatedAt) ?? "",
    })),
    templates: Object.entries(AUTOMATION_TEMPLATES).map(([key, t]) => ({ key, name: t.name, trigger: triggerLabel(t.trigger.kind) })),
  };
}

/** Switches a rule on or off (a new version, as any save: firings under way see the change). */
export async function setRuleEnabled({ shop, id, enabled }: { shop: string; id: string; enabled: boolean }): Promise<{ name: string } | null> {
  if (!isId(id)) return null;
  const stored = await loadRuleById(getPool(), id);
  if (!stored || stored.shop !== shop) return null;
  const result = await updateRuleById(shop, id, { ...stored.rule, enabled });
  if (!result.ok) throw new Error(`rule ${id} could not be switched: ${Object.values(result.errors).join("; ")}`);
  return { name: stored.name };
}

// ---------------------------------------------------------------- editor

const toDraft = (rule: Rule | z.input<typeof RuleSchema>): RuleDraft => JSON.parse(JSON.stringify({ ...rule, condition: rule.condition ?? null, reentry: rule.reentry ?? { mode: "once" } })) as RuleDraft;

async function segmentNames(shop: string): Promise<string[]> {
  const { rows } = await getPool().query<{ name: string }>(`SELECT name FROM segments WHERE shop = $1 ORDER BY name`, [shop]);
  return rows.map((r) => r.name);
}

/** A new rule's editor: blank, or from a shipped template (switched off). */
export async function getNewRuleEditor({ shop, template }: { shop: string; template: string | null }): Promise<RuleEditorView> {
  const source = template ? AUTOMATION_TEMPLATES[template] : undefined;
  const draft: RuleDraft = source
    ? toDraft({ ...source, enabled: false })
    : { name: "", enabled: false, trigger: blankTrigger("order_placed"), condition: null, steps: [], reentry: { mode: "once" } };
  return { id: null, version: null, draft, segments: await segmentNames(shop) };
}

export async function getRuleEditor({ shop, id }: { shop: string; id: string }): Promise<RuleEditorView | null> {
  if (!isId(id)) return null;
  const stored = await loadRuleById(getPool(), id);
  if (!stored || stored.shop !== shop) return null;
  return { id: stored.id, version: stored.version, draft: toDraft(stored.rule), segments: await segmentNames(shop) };
}

const RuleFieldSchema = z.object({ rule: z.string().max(200_000) });

/** Reads the editor's `rule` field (the rule JSON) and saves it: new (id null) or that rule by id. */
export async function saveRuleForm({ shop, id, fields }: { shop: string; id: string | null; fields: Record<string, unknown> }): Promise<{ status: number; result: RuleFormResult }> {
  const field = RuleFieldSchema.safeParse(fields);
  let input: unknown;
  try {
    if (!field.success) throw new Error("no rule field");
    input = JSON.parse(field.data.rule);
  } catch {
    return { status: 400, result: { ok: false, errors: { "": "The form was not understood; reload the page and try again." } } };
  }
  const parsed = RuleSchema.safeParse(input);
  if (!parsed.success) return { status: 422, result: { ok: false, errors: errorsByPath(parsed.error.issues) } };
  const rule = parsed.data;
  if (id === null) {
    // setRule saves by name: a new rule must not silently replace another one.
    const { rows } = await getPool().query(`SELECT 1 FROM automation_rules WHERE shop = $1 AND name = $2`, [shop, rule.name]);
    if (rows.length > 0) return { status: 422, result: { ok: false, errors: { name: "Another rule has this name" } } };
    const saved = await setRule(shop, rule);
    return { status: 200, result: { ok: true, id: saved.id, message: "Rule created" } };
  }
  const updated = await updateRuleById(shop, id, rule);
  if (!updated.ok) return { status: updated.status, result: { ok: false, errors: updated.errors } };
  return { status: 200, result: { ok: true, id, message: "Rule saved" } };
}

/** Replaces rule `id`'s definition (name included) and raises its version. */
async function updateRuleById(shop: string, id: string, rule: Rule): Promise<{ ok: true; version: number } | { ok: false; status: number; errors: Record<string, string> }> {
  if (!isId(id)) return { ok: false, status: 404, errors: { "": "This rule does not exist" } };
  const outcome = await withTransaction(async (db) => {
    const clash = await db.query(`SELECT 1 FROM automation_rules WHERE shop = $1 AND name = $2 AND id <> $3`, [shop, rule.name, id]);
    if (clash.rows.length > 0) return { clash: true as const };
    const { rows } = await db.query<{ version: number }>(
      `UPDATE automation_rules SET name = $3, enabled = $4, trigger_kind = $5, definition = $6::jsonb, version = version + 1, updated_at = now()
        WHERE shop = $1 AND id = $2 RETURNING version`,
      [shop, id, rule.name, rule.enabled, rule.trigger.kind, JSON.stringify(rule)],
    );
    return { version: rows[0]?.version ?? null };
  });
  if ("clash" in outcome) return { ok: false, status: 422, errors: { name: "Another rule has this name" } };
  if (outcome.version === null) return { ok: false, status: 404, errors: { "": "This rule does not exist" } };
  logger.info({ shop, ruleId: id, version: outcome.version, enabled: rule.enabled, trigger: rule.trigger.kind }, "automation.rule_saved");
  return { ok: true, version: outcome.version };
}

// ---------------------------------------------------------------- dry run

/** The saved rule's dry run over the last `days` days, with the customers' names. */
export async function dryRunForAdmin({ shop, id, days = DRY_RUN_DAYS, now = new Date() }: { shop: string; id: string; days?: number; now?: Date }): Promise<DryRunView | null> {
  if (!isId(id)) return null;
  const stored = await loadRuleById(getPool(), id);
  if (!stored || stored.shop !== shop) return null;
  const result = await dryRunRule({ shop, ruleId: id, days, now, customerLimit: DRY_RUN_CUSTOMERS });
  const { rows } = await getPool().query<{ gid: string; first_name: string | null; last_name: string | null; email: string | null; redacted: boolean | null }>(
    `SELECT gid, first_name, last_name, email, redacted_at IS NOT NULL AS redacted FROM customers WHERE shop = $1 AND gid = ANY($2::text[])`,
    [shop, result.customers],
  );
  const byGid = new Map(rows.map((r) => [r.gid, r]));
  return {
    days,
    moments: result.moments,
    wouldFire: result.wouldFire,
    blockedByReentry: result.blockedByReentry,
    blockedByCondition: result.blockedByCondition,
    version: stored.version,
    customers: result.customers.map((gid) => {
      const c = byGid.get(gid);
      return { id: legacyIdOf(gid), name: c ? customerName(c) : "Unknown customer", email: c && !c.redacted ? c.email : null };
    }),
  };
}

// ---------------------------------------------------------------- firing log

const FiltersSchema = z.object({
  rule: z.string().regex(/^\d{1,18}$/).nullable().catch(null),
  status: z.enum(FIRING_STATUSES).nullable().catch(null),
  customer: z.string().trim().max(200).nullable().transform((v) => (v ? v : null)).catch(null),
  before: z.string().regex(/^\d{1,18}$/).nullable().catch(null),
});

export function parseFiringLogFilters(search: URLSearchParams): FiringLogFilters {
  return FiltersSchema.parse({ rule: search.get("rule"), status: search.get("status"), customer: search.get("customer"), before: search.get("before") });
}

/** A customer filter as typed: a gid, or the numeric id the admin shows. */
const customerGidOf = (text: string) => (/^\d+$/.test(text) ? `gid://shopify/Customer/${text}` : text);

type LogRow = {
  id: string;
  rule_id: string;
  rule_name: string;
  customer_gid: string;
  event_key: string;
  created_at: Date;
  status: string;
  skip_reason: string | null;
  condition_result: boolean | null;
  last_error: string | null;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  redacted: boolean | null;
  actions: { step: number; kind: string; status: string; error: string | null }[];
};

/** Newest first, `pageSize` at a time; `before` is the last firing id of the previous page. */
export async function getFiringLog({ shop, filters, fmt = createFormatter(), pageSize = FIRING_LOG_PAGE_SIZE }: { shop: string; filters: FiringLogFilters; fmt?: Formatter; pageSize?: number }): Promise<FiringLogView> {
  const { rows } = await getPool().query<LogRow>(
    `SELECT f.id::text AS id, f.rule_id::text AS rule_id, r.name AS rule_name, f.customer_gid, f.event_key, f.created_at, f.status, f.skip_reason,
            f.condition_result, f.last_error, c.first_name, c.last_name, c.email, c.redacted_at IS NOT NULL AS redacted,
            COALESCE((SELECT json_agg(json_build_object('step', a.step, 'kind', a.kind, 'status', a.status, 'error', a.error) ORDER BY a.step)
                        FROM automation_action_results a WHERE a.firing_id = f.id), '[]'::json) AS actions
       FROM automation_firings f
       JOIN automation_rules r ON r.id = f.rule_id
       LEFT JOIN customers c ON c.shop = f.shop AND c.gid = f.customer_gid
      WHERE f.shop = $1 AND ($2::bigint IS NULL OR f.rule_id = $2) AND ($3::text IS NULL OR f.status = $3)
        AND ($4::text IS NULL OR f.customer_gid = $4) AND ($5::bigint IS NULL OR f.id < $5)
      ORDER BY f.id DESC LIMIT $6`,
    [shop, filters.rule, filters.status, filters.customer ? customerGidOf(filters.customer) : null, filters.before, pageSize + 1],
  );
  const page = rows.slice(0, pageSize);
  const rules = await listRules(shop);
  return {
    filters,
    rules: rules.map((r) => ({ id: r.id, name: r.name })),
    olderCursor: rows.length > pageSize ? page[page.length - 1]!.id : null,
    rows: page.map((r) => ({
      id: r.id,
      ruleId: r.rule_id,
      ruleName: r.rule_name,
      customerId: legacyIdOf(r.customer_gid),
      customerName: customerName(r),
      eventKey: r.event_key,
      firedAt: fmt.dateTime(r.created_at) ?? "",
      status: r.status,
      skipReason: r.skip_reason,
      conditionResult: r.condition_result,
      lastError: r.last_error,
      actions: r.actions,
    })),
  };
}
