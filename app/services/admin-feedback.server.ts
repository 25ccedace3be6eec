// The feedback admin pages (app/routes/app.feedback.*.tsx) and the feedback card of the
// customer page: read models (SQL here, view models out) and the pages' actions. Rules are
// saved through the same service as `crm feedback rules set` (setFeedbackRules), so the admin
// and the CLI validate and apply a rules file identically (docs/feedback.md, decision 032).
import type { RuleField, RuleFormValues } from "../domain/feedback/rule-form";
import { reevaluateSegmentsForCustomers } from "./segments/reevaluate.server";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { getPool, withTransaction, type Queryable } from "../db.server";
import { logger } from "../logger.server";
import { FeedbackRuleSchema, FEEDBACK_TRIGGERS, netPromoterScore, type FeedbackRule, type FeedbackSettings } from "../domain/feedback/rules";
import { renderFeedbackRequestEmail } from "../emails/feedback-request";
import { queueEmail, wakeEmailSender } from "./email/outbox.server";
import { getShopEmailSettings, ShopEmailSettingsSchema } from "./email/settings.server";
import { feedbackLinkUrl } from "./feedback/links.server";
import { FeedbackError, listFeedbackRules, setFeedbackRules } from "./feedback/rules.server";
import { getFeedbackStats, type FeedbackStats } from "./feedback/stats.server";
import { legacyIdOf } from "./admin-format.server";
import { createFormatter, type Formatter } from "../domain/format";

export const PAGE_SIZE = 50;
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

// ---- overview ----

export type FeedbackOverview = {
  stats: FeedbackStats;
  /** answered / sent, one decimal percent; null before anything was sent */
  responseRate: number | null;
  /** NPS per week (UTC, Monday start), oldest first */
  weeks: { label: string; nps: number | null; responses: number }[];
  products: { productGid: string; title: string; ratings: number; average: number }[];
};

const mondayOf = (d: Date) => {
  const day = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  return new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * DAY_MS);
};

export async function getFeedbackOverview({ shop, now = new Date(), weeks = 12 }: { shop: string; now?: Date; weeks?: number }): Promise<FeedbackOverview> {
  const db = getPool();
  const firstWeek = new Date(mondayOf(now).getTime() - (weeks - 1) * WEEK_MS);
  const [stats, weekly, products] = await Promise.all([
    getFeedbackStats(shop, db),
    db.query<{ week: Date; promoters: number; passives: number; detractors: number }>(
      `SELECT date_trunc('week', submitted_at AT TIME ZONE 'UTC') AS week,
              count(*) FILTER (WHERE nps >= 9)::int AS promoters,
              count(*) FILTER (WHERE nps BETWEEN 7 AND 8)::int AS passives,
              count(*) FILTER (WHERE nps <= 6)::int AS detractors
         FROM feedback_responses WHERE shop = $1 AND submitted_at >= $2
        GROUP BY 1`,
      [shop, firstWeek],
    ),
    db.query<{ product_gid: string; title: string | null; ratings: number; average: string }>(
      `SELECT r.product_gid, (SELECT p.title FROM products p WHERE p.shop = r.shop AND p.gid = r.product_gid) AS title,
              count(*)::int AS ratings, round(avg(r.rating), 2)::text AS average
         FROM feedback_product_ratings r WHERE r.shop = $1
        GROUP BY r.shop, r.product_gid ORDER BY count(*) DESC, r.product_gid LIMIT 50`,
      [shop],
    ),
  ]);
  const byWeek = new Map(weekly.rows.map((w) => [new Date(Date.UTC(w.week.getFullYear(), w.week.getMonth(), w.week.getDate())).getTime(), w]));
  // date_trunc on a timestamp without zone comes back as a local-time Date; normalise both sides to the UTC day.
  const weekRows = Array.from({ length: weeks }, (_, i) => {
    const start = new Date(firstWeek.getTime() + i * WEEK_MS);
    const w = byWeek.get(start.getTime());
    return {
      label: new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric", timeZone: "UTC" }).format(start),
      nps: w ? netPromoterScore(w) : null,
      responses: w ? w.promoters + w.passives + w.detractors : 0,
    };
  });
  return {
    stats,
    responseRate: stats.sent > 0 ? Math.round((stats.answered / stats.sent) * 1000) / 10 : null,
    weeks: weekRows,
    products: products.rows.map((p) => ({ productGid: p.product_gid, title: p.title ?? `Product ${legacyIdOf(p.product_gid)}`, ratings: p.ratings, average: Number(p.average) })),
  };
}

// ---- shared row pieces ----

type PersonOrder = { customer_gid: string | null; first_name: string | null; last_name: string | null; email: string | null; order_gid: string | null; order_name: string | null };

const personAndOrder = (r: PersonOrder) => ({
  customerId: r.customer_gid ? legacyIdOf(r.customer_gid) : null,
  customerName: r.customer_gid ? [r.first_name, r.last_name].filter(Boolean).join(" ") || r.email || `Customer ${legacyIdOf(r.customer_gid)}` : "Forgotten customer",
  orderName: r.order_gid ? (r.order_name ?? `Order ${legacyIdOf(r.order_gid)}`) : null,
});

const PERSON_ORDER_SQL = `c.first_name, c.last_name, c.email, o.name AS order_name`;
const PERSON_ORDER_JOINS = (alias: string) =>
  `LEFT JOIN customers c ON c.shop = ${alias}.shop AND c.gid = ${alias}.customer_gid
   LEFT JOIN orders o ON o.shop = ${alias}.shop AND o.gid = ${alias}.order_gid`;

export type ProductRatingView = { title: string; rating: number; review: string | null };

async function ratingsOf(db: Queryable, responseIds: string[]): Promise<Map<string, ProductRatingView[]>> {
  const out = new Map<string, ProductRatingView[]>();
  if (responseIds.length === 0) return out;
  const { rows } = await db.query<{ response_id: string; product_gid: string; title: string | null; rating: number; review: string | null }>(
    `SELECT r.response_id::text AS response_id, r.product_gid, p.title, r.rating, r.review
       FROM feedback_product_ratings r LEFT JOIN products p ON p.shop = r.shop AND p.gid = r.product_gid
      WHERE r.response_id = ANY($1::bigint[]) ORDER BY r.id`,
    [responseIds],
  );
  for (const r of rows) {
    const list = out.get(r.response_id) ?? [];
    list.push({ title: r.title ?? `Product ${legacyIdOf(r.product_gid)}`, rating: r.rating, review: r.review });
    out.set(r.response_id, list);
  }
  return out;
}

// ---- cases ----

export type CaseStatus = "open" | "resolved";
export type FeedbackCaseView = {
  id: string;
  status: CaseStatus;
  reasons: string[];
  customerId: string | null;
  customerName: string;
  orderName: string | null;
  nps: number;
  comment: string | null;
  ratings: ProductRatingView[];
  staffNote: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  openedAt: string;
};
export type FeedbackCasesPage = { status: CaseStatus; cases: FeedbackCaseView[]; counts: Record<CaseStatus, number>; olderCursor: string | null };

const CursorId = z.string().regex(/^\d{1,19}$/);

export async function listFeedbackCases({ shop, status, before, fmt = createFormatter() }: { shop: string; status: CaseStatus; before?: string | null; fmt?: Formatter }): Promise<FeedbackCasesPage> {
  const db = getPool();
  const cursor = before && CursorId.safeParse(before).success ? before : null;
  const { rows } = await db.query<PersonOrder & { id: string; status: CaseStatus; reasons: string[]; nps: number; comment: string | null; response_id: string; staff_note: string | null; resolved_by: string | null; resolved_at: Date | null; created_at: Date }>(
    `SELECT k.id::text AS id, k.status, k.reasons, k.customer_gid, k.order_gid, k.staff_note, k.resolved_by, k.resolved_at, k.created_at,
            s.id::text AS response_id, s.nps, s.comment, ${PERSON_ORDER_SQL}
       FROM feedback_cases k JOIN feedback_responses s ON s.id = k.response_id
       ${PERSON_ORDER_JOINS("k")}
      WHERE k.shop = $1 AND k.status = $2 AND ($3::bigint IS NULL OR k.id < $3::bigint)
      ORDER BY k.id DESC LIMIT $4`,
    [shop, status, cursor, PAGE_SIZE + 1],
  );
  const page = rows.slice(0, PAGE_SIZE);
  const [ratings, counts] = await Promise.all([
    ratingsOf(db, page.map((r) => r.response_id)),
    db.query<{ status: CaseStatus; n: number }>(`SELECT status, count(*)::int AS n FROM feedback_cases WHERE shop = $1 GROUP BY status`, [shop]),
  ]);
  const countOf = (s: CaseStatus) => counts.rows.find((c) => c.status === s)?.n ?? 0;
  return {
    status,
    counts: { open: countOf("open"), resolved: countOf("resolved") },
    olderCursor: rows.length > PAGE_SIZE ? page[page.length - 1]!.id : null,
    cases: page.map((r) => ({
      id: r.id,
      status: r.status,
      reasons: r.reasons,
      ...personAndOrder(r),
      nps: r.nps,
      comment: r.comment,
      ratings: ratings.get(r.response_id) ?? [],
      staffNote: r.staff_note,
      resolvedBy: r.resolved_by,
      resolvedAt: fmt.dateTime(r.resolved_at),
      openedAt: fmt.dateTime(r.created_at) ?? "",
    })),
  };
}

export const MAX_STAFF_NOTE_CHARS = 2000;
const CaseActionSchema = z.object({
  intent: z.enum(["resolve", "reopen", "note"]),
  caseId: CursorId,
  note: z.string().max(MAX_STAFF_NOTE_CHARS, `The note must be at most ${MAX_STAFF_NOTE_CHARS} characters`).optional(),
});

export type CaseActionResult = { ok: true; message: string } | { ok: false; caseId: string | null; error: string };

/**
 * resolve (with an optional note; records who and when), reopen (clears who and when, keeps
 * the note) or save the note. Only this shop's cases; a case already in the wanted state is
 * reported, not changed again.
 */
export async function updateFeedbackCase({ shop, fields, actor, now = new Date() }: { shop: string; fields: Record<string, unknown>; actor: string; now?: Date }): Promise<{ status: number; result: CaseActionResult }> {
  const parsed = CaseActionSchema.safeParse(fields);
  if (!parsed.success) {
    const caseId = typeof fields.caseId === "string" ? fields.caseId : null;
    return { status: 422, result: { ok: false, caseId, error: parsed.error.issues[0]?.message ?? "Invalid request" } };
  }
  const { intent, caseId } = parsed.data;
  const note = parsed.data.note === undefined ? undefined : parsed.data.note.trim() || null;
  // One transaction: the case's status changes and, for resolve/reopen, the customer's segments
  // on has_open_case follow at once (decision 037).
  const failure = await withTransaction(async (db): Promise<{ status: number; result: CaseActionResult } | null> => {
    let changed;
    if (intent === "resolve") {
      changed = await db.query<{ customer_gid: string | null }>(
        `UPDATE feedback_cases SET status = 'resolved', resolved_by = $3, resolved_at = $4, staff_note = CASE WHEN $5::boolean THEN $6 ELSE staff_note END, updated_at = $4
          WHERE shop = $1 AND id = $2 AND status = 'open' RETURNING customer_gid`,
        [shop, caseId, actor, now, note !== undefined, note ?? null],
      );
    } else if (intent === "reopen") {
      changed = await db.query<{ customer_gid: string | null }>(
        `UPDATE feedback_cases SET status = 'open', resolved_by = NULL, resolved_at = NULL, updated_at = $3 WHERE shop = $1 AND id = $2 AND status = 'resolved' RETURNING customer_gid`,
        [shop, caseId, now],
      );
    } else {
      changed = await db.query<{ customer_gid: string | null }>(`UPDATE feedback_cases SET staff_note = $3, updated_at = $4 WHERE shop = $1 AND id = $2 RETURNING NULL::text AS customer_gid`, [shop, caseId, note ?? null, now]);
    }
    if ((changed.rowCount ?? 0) === 0) {
      const exists = await db.query(`SELECT status FROM feedback_cases WHERE shop = $1 AND id = $2`, [shop, caseId]);
      if (exists.rowCount === 0) return { status: 404, result: { ok: false, caseId, error: "This case does not exist (it may have been erased with its customer)." } };
      return { status: 409, result: { ok: false, caseId, error: intent === "resolve" ? "This case is already resolved." : "This case is already open." } };
    }
    const customerGid = changed.rows[0]?.customer_gid;
    if (customerGid) await reevaluateSegmentsForCustomers(db, shop, [customerGid], { kind: "event" }, { now, onlyIfAppData: true });
    return null;
  });
  if (failure) return failure;
  logger.info({ shop, caseId, intent }, "feedback_case.updated");
  return { status: 200, result: { ok: true, message: intent === "resolve" ? "Case resolved" : intent === "reopen" ? "Case reopened" : "Note saved" } };
}

// ---- responses ----

export const NPS_GROUPS = ["promoter", "passive", "detractor"] as const;
export const SENTIMENTS = ["positive", "neutral", "negative"] as const;

const optionalInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max).optional().catch(undefined);
const optionalDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)))
  .optional()
  .catch(undefined);

/** The responses page's query string. Unusable values are ignored (the page shows every response for them), never an error page. */
export const ResponseFiltersSchema = z.object({
  group: z.enum(NPS_GROUPS).optional().catch(undefined),
  npsMin: optionalInt(0, 10),
  npsMax: optionalInt(0, 10),
  rating: optionalInt(1, 5),
  sentiment: z.enum(SENTIMENTS).optional().catch(undefined),
  product: z.string().regex(/^\d{1,20}$/).optional().catch(undefined),
  language: z.string().regex(/^[a-z]{2,3}$/).optional().catch(undefined),
  from: optionalDate,
  to: optionalDate,
  /** keyset cursor: `<submitted_at in microseconds since the epoch>_<id>` of the last row shown */
  before: z.string().regex(/^\d{1,17}_\d{1,19}$/).optional().catch(undefined),
});
export type ResponseFilters = z.output<typeof ResponseFiltersSchema>;

export type FeedbackResponseView = {
  id: string;
  submittedAt: string;
  customerId: string | null;
  customerName: string;
  orderName: string | null;
  nps: number;
  comment: string | null;
  language: string | null;
  sentiment: string | null;
  ratings: ProductRatingView[];
  caseStatus: CaseStatus | null;
};
export type FeedbackResponsesPage = {
  filters: ResponseFilters;
  responses: FeedbackResponseView[];
  olderCursor: string | null;
  products: { id: string; title: string }[];
  languages: string[];
};

export function parseResponseFilters(search: URLSearchParams): ResponseFilters {
  const raw: Record<string, string> = {};
  for (const [k, v] of search) if (v !== "") raw[k] = v;
  return ResponseFiltersSchema.parse(raw);
}

export async function listFeedbackResponses({ shop, filters, fmt = createFormatter() }: { shop: string; filters: ResponseFilters; fmt?: Formatter }): Promise<FeedbackResponsesPage> {
  const db = getPool();
  const where = ["s.shop = $1"];
  const values: unknown[] = [shop];
  const add = (sql: (p: string) => string, value: unknown) => {
    values.push(value);
    where.push(sql(`$${values.length}`));
  };
  if (filters.group === "promoter") where.push("s.nps >= 9");
  if (filters.group === "passive") where.push("s.nps BETWEEN 7 AND 8");
  if (filters.group === "detractor") where.push("s.nps <= 6");
  if (filters.npsMin !== undefined) add((p) => `s.nps >= ${p}`, filters.npsMin);
  if (filters.npsMax !== undefined) add((p) => `s.nps <= ${p}`, filters.npsMax);
  if (filters.sentiment) add((p) => `s.sentiment_label = ${p}`, filters.sentiment);
  if (filters.language) add((p) => `s.language = ${p}`, filters.language);
  // Whole days in UTC, `to` included.
  if (filters.from) add((p) => `s.submitted_at >= (${p}::date)::timestamp AT TIME ZONE 'UTC'`, filters.from);
  if (filters.to) add((p) => `s.submitted_at < (${p}::date + 1)::timestamp AT TIME ZONE 'UTC'`, filters.to);
  if (filters.rating !== undefined || filters.product) {
    const conds = ["pr.response_id = s.id"];
    if (filters.rating !== undefined) {
      values.push(filters.rating);
      conds.push(`pr.rating = $${values.length}`);
    }
    if (filters.product) {
      values.push(`gid://shopify/Product/${filters.product}`);
      conds.push(`pr.product_gid = $${values.length}`);
    }
    where.push(`EXISTS (SELECT 1 FROM feedback_product_ratings pr WHERE ${conds.join(" AND ")})`);
  }
  if (filters.before) {
    const [micros, id] = filters.before.split("_");
    values.push(micros, id);
    where.push(`(s.submitted_at, s.id) < ('epoch'::timestamptz + $${values.length - 1}::bigint * interval '1 microsecond', $${values.length}::bigint)`);
  }
  values.push(PAGE_SIZE + 1);
  const { rows } = await db.query<PersonOrder & { id: string; submitted_at: Date; cursor_micros: string; nps: number; comment: string | null; language: string | null; sentiment_label: string | null; case_status: CaseStatus | null }>(
    `SELECT s.id::text AS id, s.submitted_at, ((extract(epoch FROM s.submitted_at) * 1000000)::numeric(20,0))::text AS cursor_micros, s.nps, s.comment, s.language, s.sentiment_label, s.customer_gid, s.order_gid, ${PERSON_ORDER_SQL},
            (SELECT k.status FROM feedback_cases k WHERE k.response_id = s.id) AS case_status
       FROM feedback_responses s
       ${PERSON_ORDER_JOINS("s")}
      WHERE ${where.join(" AND ")}
      ORDER BY s.submitted_at DESC, s.id DESC LIMIT $${values.length}`,
    values,
  );
  const page = rows.slice(0, PAGE_SIZE);
  const [ratings, products, languages] = await Promise.all([
    ratingsOf(db, page.map((r) => r.id)),
    db.query<{ product_gid: string; title: string | null }>(
      `SELECT DISTINCT ON (r.product_gid) r.product_gid, p.title FROM feedback_product_ratings r LEFT JOIN products p ON p.shop = r.shop AND p.gid = r.product_gid
        WHERE r.shop = $1 ORDER BY r.product_gid LIMIT 200`,
      [shop],
    ),
    db.query<{ language: string }>(`SELECT DISTINCT language FROM feedback_responses WHERE shop = $1 AND language IS NOT NULL ORDER BY language LIMIT 50`, [shop]),
  ]);
  const last = page[page.length - 1];
  return {
    filters,
    olderCursor: rows.length > PAGE_SIZE && last ? `${last.cursor_micros}_${last.id}` : null,
    products: products.rows.map((p) => ({ id: legacyIdOf(p.product_gid), title: p.title ?? `Product ${legacyIdOf(p.product_gid)}` })).sort((a, b) => a.title.localeCompare(b.title)),
    languages: languages.rows.map((l) => l.language),
    responses: page.map((r) => ({
      id: r.id,
      submittedAt: fmt.dateTime(r.submitted_at) ?? "",
      ...personAndOrder(r),
      nps: r.nps,
      comment: r.comment,
      language: r.language,
      sentiment: r.sentiment_label,
      ratings: ratings.get(r.id) ?? [],
      caseStatus: r.case_status,
    })),
  };
}

// ---- settings: rules editor, switches, preview, test email ----

export type { RuleField, RuleFormValues } from "../domain/feedback/rule-form";
export type FeedbackSettingsPage = {
  settings: FeedbackSettings;
  rules: { name: string; enabled: boolean; summary: string; form: RuleFormValues }[];
  staffAlertAddress: string | null;
  previewHtml: string;
  previewSubject: string;
  triggers: readonly string[];
};

export function ruleToForm(rule: FeedbackRule): RuleFormValues {
  return {
    name: rule.name,
    enabled: rule.enabled,
    trigger: rule.trigger,
    delayDays: String(rule.delayDays),
    posDelayDays: rule.posDelayDays === null ? "" : String(rule.posDelayDays),
    segment: rule.orders.segment ?? "",
    minimumTotal: rule.orders.minimumTotal ?? "",
    includeTypes: rule.orders.productTypes.include.join(", "),
    excludeTypes: rule.orders.productTypes.exclude.join(", "),
    reminderCount: String(rule.reminders.count),
    reminderSpacingDays: String(rule.reminders.spacingDays),
    linkExpiryDays: String(rule.linkExpiryDays),
  };
}

const plural = (n: number, one: string, many: string) => `${new Intl.NumberFormat("en-US").format(n)} ${n === 1 ? one : many}`;

function ruleSummary(rule: FeedbackRule): string {
  const when = rule.trigger === "order_paid" ? "paid" : "fulfilled";
  const parts = [`${plural(rule.delayDays, "day", "days")} after the order is ${when}`];
  if (rule.reminders.count > 0) parts.push(`${plural(rule.reminders.count, "reminder", "reminders")} every ${plural(rule.reminders.spacingDays, "day", "days")}`);
  if (rule.orders.segment) parts.push(`customers matching ${rule.orders.segment}`);
  if (rule.orders.minimumTotal) parts.push(`orders of at least ${rule.orders.minimumTotal}`);
  return parts.join(" · ");
}

async function sampleEmail(shop: string, db: Queryable) {
  const settings = await getShopEmailSettings(db, shop);
  const shopRow = await db.query<{ name: string | null }>(`SELECT name FROM shops WHERE domain = $1`, [shop]);
  const shopName = shopRow.rows[0]?.name ?? shop.replace(/\.myshopify\.com$/, "");
  return (unsubscribeUrl: string) =>
    renderFeedbackRequestEmail({
      shopName,
      settings,
      firstName: "Alex",
      orderName: "#1001",
      products: [
        { title: "Sample product", imageUrl: null },
        { title: "Another product", imageUrl: null },
      ],
      // A sample link: it opens the "This feedback link does not work" page.
      answerUrl: feedbackLinkUrl("sample"),
      unsubscribeUrl,
      reminder: 0,
    });
}

export async function getFeedbackSettingsPage(shop: string): Promise<FeedbackSettingsPage> {
  const db = getPool();
  const [listing, email, render] = await Promise.all([listFeedbackRules(shop, db), getShopEmailSettings(db, shop), sampleEmail(shop, db)]);
  const preview = await render("#unsubscribe-preview");
  return {
    settings: listing.settings,
    rules: listing.rules.map(({ id: _id, ...rule }) => ({ name: rule.name, enabled: rule.enabled, summary: ruleSummary(rule), form: ruleToForm(rule) })),
    staffAlertAddress: email.staffAlertAddress,
    previewHtml: preview.html,
    previewSubject: preview.subject,
    triggers: FEEDBACK_TRIGGERS,
  };
}

export type RuleFormResult = { ok: true; message: string } | { ok: false; errors: Partial<Record<RuleField | "form", string>> };

const FIELD_OF_PATH: Record<string, RuleField> = {
  name: "name",
  enabled: "enabled",
  trigger: "trigger",
  delayDays: "delayDays",
  posDelayDays: "posDelayDays",
  "orders.segment": "segment",
  "orders.minimumTotal": "minimumTotal",
  "orders.productTypes.include": "includeTypes",
  "orders.productTypes.exclude": "excludeTypes",
  "reminders.count": "reminderCount",
  "reminders.spacingDays": "reminderSpacingDays",
  linkExpiryDays: "linkExpiryDays",
};

/** A number field: empty is absent (the default applies), digits a number, anything else kept as text so the schema names the problem. */
const numberField = (value: string | undefined): number | string | undefined => {
  const v = (value ?? "").trim();
  if (v === "") return undefined;
  return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
};
const typesField = (value: string | undefined) =>
  (value ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");

/** Builds the rules-file rule from the editor's fields and validates it with the domain schema; errors by field. */
export function parseRuleForm(fields: Record<string, string>): { ok: true; rule: FeedbackRule } | { ok: false; errors: Partial<Record<RuleField, string>> } {
  const input = {
    name: fields.name ?? "",
    enabled: fields.enabled !== "false",
    trigger: fields.trigger ?? "",
    delayDays: numberField(fields.delayDays) ?? "",
    posDelayDays: numberField(fields.posDelayDays) ?? null,
    orders: {
      segment: (fields.segment ?? "").trim() || null,
      minimumTotal: (fields.minimumTotal ?? "").trim() || null,
      productTypes: { include: typesField(fields.includeTypes), exclude: typesField(fields.excludeTypes) },
    },
    reminders: { count: numberField(fields.reminderCount) ?? 0, spacingDays: numberField(fields.reminderSpacingDays) ?? 3 },
    linkExpiryDays: numberField(fields.linkExpiryDays),
  };
  const parsed = FeedbackRuleSchema.safeParse(input);
  if (parsed.success) return { ok: true, rule: parsed.data };
  const errors: Partial<Record<RuleField, string>> = {};
  for (const issue of parsed.error.issues) {
    const path = issue.path.filter((p) => typeof p === "string").join(".");
    const field = FIELD_OF_PATH[path] ?? FIELD_OF_PATH[path.split(".").slice(0, 3).join(".")] ?? "name";
    if (!errors[field]) errors[field] = issue.message;
  }
  return { ok: false, errors };
}

const stripId = ({ id: _id, ...rule }: FeedbackRule & { id: string }): FeedbackRule => rule;

async function saveRulesFile(shop: string, settings: FeedbackSettings, rules: FeedbackRule[]): Promise<RuleFormResult | null> {
  try {
    await setFeedbackRules(shop, { settings, rules });
    return null;
  } catch (error) {
    if (error instanceof FeedbackError && error.kind === "invalid") return { ok: false, errors: { form: error.message.replace(/^invalid feedback rules:\n\s*/, "") } };
    throw error;
  }
}

/**
 * The rules editor's actions. save-rule: `originalName` empty creates, otherwise replaces
 * that rule (a rename keeps the rule's place in the file); delete-rule removes it; settings
 * saves the switches. Each writes the whole rules file through setFeedbackRules.
 */
export async function saveFeedbackSettingsForm(shop: string, fields: Record<string, string>): Promise<{ status: number; result: RuleFormResult }> {
  const listing = await listFeedbackRules(shop);
  const rules = listing.rules.map(stripId);
  if (fields.intent === "settings") {
    const settings = { tagNegative: fields.tagNegative === "true", staffAlert: fields.staffAlert === "true" };
    const failed = await saveRulesFile(shop, settings, rules);
    return failed ? { status: 422, result: failed } : { status: 200, result: { ok: true, message: "Feedback settings saved" } };
  }
  if (fields.intent === "delete-rule") {
    const kept = rules.filter((r) => r.name !== fields.originalName);
    if (kept.length === rules.length) return { status: 404, result: { ok: false, errors: { form: "This rule no longer exists." } } };
    const failed = await saveRulesFile(shop, listing.settings, kept);
    return failed ? { status: 422, result: failed } : { status: 200, result: { ok: true, message: `Rule "${fields.originalName}" deleted` } };
  }
  if (fields.intent !== "save-rule") return { status: 400, result: { ok: false, errors: { form: "Unknown request." } } };
  const parsed = parseRuleForm(fields);
  if (!parsed.ok) return { status: 422, result: { ok: false, errors: parsed.errors } };
  const original = (fields.originalName ?? "").trim();
  const index = original ? rules.findIndex((r) => r.name === original) : -1;
  if (original && index < 0) return { status: 404, result: { ok: false, errors: { form: "This rule no longer exists." } } };
  if (rules.some((r, i) => i !== index && r.name === parsed.rule.name)) return { status: 422, result: { ok: false, errors: { name: `A rule named "${parsed.rule.name}" already exists` } } };
  const next = [...rules];
  if (index >= 0) next[index] = parsed.rule;
  else next.push(parsed.rule);
  const failed = await saveRulesFile(shop, listing.settings, next);
  return failed ? { status: 422, result: failed } : { status: 200, result: { ok: true, message: `Rule "${parsed.rule.name}" saved` } };
}

export type TestEmailResult = { ok: true; message: string } | { ok: false; errors: { testAddress: string } };

/** "Send a test to me": the feedback request email with sample data, queued (category test) to the typed address. */
export async function sendFeedbackTestEmail(shop: string, to: string): Promise<TestEmailResult> {
  const address = to.trim();
  if (!address || !ShopEmailSettingsSchema.shape.replyTo.safeParse(address).success) return { ok: false, errors: { testAddress: "Enter an email address" } };
  const result = await withTransaction(async (db) => {
    const render = await sampleEmail(shop, db);
    return queueEmail(db, { shop, customerGid: null, to: address, category: "test", idempotencyKey: `test:feedback:${randomUUID()}`, render: ({ unsubscribeUrl }) => render(unsubscribeUrl) });
  });
  if (result.status === "suppressed") return { ok: false, errors: { testAddress: `This address is suppressed (${result.reason})` } };
  await wakeEmailSender();
  return { ok: true, message: `Test feedback email queued to ${address}` };
}

// ---- the customer page's feedback card ----

export type CustomerFeedbackView = {
  requests: {
    id: string;
    rule: string;
    orderName: string;
    status: string;
    skipReason: string | null;
    sentAt: string | null;
    answeredAt: string | null;
    answer: { nps: number; comment: string | null; sentiment: string | null; ratings: ProductRatingView[] } | null;
    caseStatus: CaseStatus | null;
  }[];
  openCases: number;
};

export async function getCustomerFeedback({ shop, customerGid, fmt = createFormatter() }: { shop: string; customerGid: string; fmt?: Formatter }): Promise<CustomerFeedbackView> {
  const db = getPool();
  const { rows } = await db.query<{
    id: string;
    rule: string;
    order_gid: string;
    order_name: string | null;
    status: string;
    skip_reason: string | null;
    sent_at: Date | null;
    answered_at: Date | null;
    response_id: string | null;
    nps: number | null;
    comment: string | null;
    sentiment_label: string | null;
    case_status: CaseStatus | null;
  }>(
    `SELECT r.id::text AS id, fr.name AS rule, r.order_gid, o.name AS order_name, r.status, r.skip_reason, r.sent_at, r.answered_at,
            s.id::text AS response_id, s.nps, s.comment, s.sentiment_label, k.status AS case_status
       FROM feedback_requests r JOIN feedback_rules fr ON fr.id = r.rule_id
       LEFT JOIN orders o ON o.shop = r.shop AND o.gid = r.order_gid
       LEFT JOIN feedback_responses s ON s.request_id = r.id
       LEFT JOIN feedback_cases k ON k.response_id = s.id
      WHERE r.shop = $1 AND r.customer_gid = $2
      ORDER BY r.id DESC LIMIT 50`,
    [shop, customerGid],
  );
  const ratings = await ratingsOf(db, rows.map((r) => r.response_id).filter((id): id is string => id !== null));
  return {
    openCases: rows.filter((r) => r.case_status === "open").length,
    requests: rows.map((r) => ({
      id: r.id,
      rule: r.rule,
      orderName: r.order_name ?? `Order ${legacyIdOf(r.order_gid)}`,
      status: r.status,
      skipReason: r.skip_reason,
      sentAt: fmt.date(r.sent_at),
      answeredAt: fmt.date(r.answered_at),
      answer: r.response_id !== null && r.nps !== null ? { nps: r.nps, comment: r.comment, sentiment: r.sentiment_label, ratings: ratings.get(r.response_id) ?? [] } : null,
      caseStatus: r.case_status,
    })),
  };
}
