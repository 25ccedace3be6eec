// Storing automation rules (table automation_rules; decision 049). A rule is saved by name:
// saving an existing name replaces its definition and raises its version (firings keep the
// version they fired under). Each rule gets its own secret for signing outgoing webhooks,
// made when the rule is first saved and never shown in logs.
import { randomBytes } from "node:crypto";
import { getPool, withTransaction, type Queryable } from "../../db.server";
import { logger } from "../../logger.server";
import { parseRule, RuleSchema, type Rule } from "../../domain/automations/rules";

export class AutomationError extends Error {
  constructor(
    readonly kind: "invalid" | "not_found",
    message: string,
  ) {
    super(message);
    this.name = "AutomationError";
  }
}

export type StoredRule = { id: string; shop: string; name: string; enabled: boolean; version: number; rule: Rule; webhookSecret: string; updatedAt: Date };

type RuleRow = { id: string; shop: string; name: string; enabled: boolean; version: number; definition: unknown; webhook_secret: string; updated_at: Date };
const COLUMNS = `id::text AS id, shop, name, enabled, version, definition, webhook_secret, updated_at`;

/** Parsed definitions by rule id and version (the apply step reads the rules once per batch). */
const parsedCache = new Map<string, ReturnType<typeof RuleSchema.safeParse>>();

function toStored(row: RuleRow): StoredRule | null {
  const cacheKey = `${row.id}:${row.version}:${row.updated_at.getTime()}`;
  let parsed = parsedCache.get(cacheKey);
  if (!parsed) {
    parsed = RuleSchema.safeParse(row.definition);
    if (parsedCache.size > 5_000) parsedCache.clear();
    parsedCache.set(cacheKey, parsed);
  }
  if (!parsed.success) {
    // Saved through parseRule; a definition the schema no longer accepts fires nothing.
    logger.error({ shop: row.shop, ruleId: row.id }, "automation.rule_unreadable");
    return null;
  }
  return { id: row.id, shop: row.shop, name: row.name, enabled: row.enabled, version: row.version, rule: { ...parsed.data, enabled: row.enabled }, webhookSecret: row.webhook_secret, updatedAt: row.updated_at };
}

/** The shop's enabled rules: one indexed read (the apply step calls it once per batch and shop). */
export async function loadActiveRules(db: Queryable, shop: string): Promise<StoredRule[]> {
  const { rows } = await db.query<RuleRow>({ name: "automation-active-rules", text: `SELECT ${COLUMNS} FROM automation_rules WHERE shop = $1 AND enabled ORDER BY id`, values: [shop] });
  return rows.map(toStored).filter((r): r is StoredRule => r !== null);
}

export async function loadRuleById(db: Queryable, id: string): Promise<StoredRule | null> {
  const { rows } = await db.query<RuleRow>({ name: "automation-rule-by-id", text: `SELECT ${COLUMNS} FROM automation_rules WHERE id = $1`, values: [id] });
  return rows[0] ? toStored(rows[0]) : null;
}

export async function listRules(shop: string, db: Queryable = getPool()): Promise<StoredRule[]> {
  const { rows } = await db.query<RuleRow>(`SELECT ${COLUMNS} FROM automation_rules WHERE shop = $1 ORDER BY id`, [shop]);
  return rows.map(toStored).filter((r): r is StoredRule => r !== null);
}

/** Saves a rule (by name); throws AutomationError("invalid") with every problem found. */
export async function setRule(shop: string, input: unknown): Promise<{ id: string; created: boolean; version: number; rule: Rule }> {
  const parsed = parseRule(input);
  if (!parsed.ok) throw new AutomationError("invalid", parsed.errors.join("; "));
  const rule = parsed.rule;
  const saved = await withTransaction(async (db) => {
    const { rows } = await db.query<{ id: string; version: number; created: boolean }>(
      `INSERT INTO automation_rules (shop, name, enabled, trigger_kind, definition, webhook_secret)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6)
       ON CONFLICT (shop, name) DO UPDATE SET enabled = EXCLUDED.enabled, trigger_kind = EXCLUDED.trigger_kind, definition = EXCLUDED.definition,
              version = automation_rules.version + 1, updated_at = now()
       RETURNING id::text AS id, version, (xmax = 0) AS created`,
      [shop, rule.name, rule.enabled, rule.trigger.kind, JSON.stringify(rule), randomBytes(32).toString("hex")],
    );
    return rows[0]!;
  });
  logger.info({ shop, ruleId: saved.id, version: saved.version, enabled: rule.enabled, trigger: rule.trigger.kind }, "automation.rule_saved");
  return { ...saved, rule };
}

/** The weekly per-customer cap on automation messages (default when the shop set none). */
export async function messagesPerWeek(db: Queryable, shop: string, fallback: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>({ name: "automation-cap", text: `SELECT messages_per_week AS n FROM automation_settings WHERE shop = $1`, values: [shop] });
  return rows[0]?.n ?? fallback;
}
