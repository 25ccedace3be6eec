// Loyalty pages of the merchant admin: the program dashboard (members, points issued /
// redeemed / reversed / expired per week, outstanding liability, tier distribution), the
// program settings form (validated by the domain's schema, saved as a new version with
// optimistic concurrency), and the loyalty card of the customer page (balance, pending, tier,
// the ledger page by page, expiring points, staff adjustments). The rules and the writes
// belong to app/services/loyalty/*; this module reads and aggregates for display, validates
// the forms, calls those services and maps their errors to form errors. Every query is scoped
// by the session's shop. See docs/decisions/023-loyalty-admin-ui.md.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { getPool, type Queryable } from "../db.server";
import { logger } from "../logger.server";
import { parseProgramSettings, type LoyaltyProgramSettings } from "../domain/loyalty/program";
import { currencyExponent } from "../domain/money";
import { tagKey } from "../shopify/customer-tags";
import { adjustPoints } from "./loyalty/adjust.server";
import { getBalance, getExpiryOutlook } from "./loyalty/balance.server";
import { LoyaltyError } from "./loyalty/errors";
import { getProgram, saveProgram } from "./loyalty/program.server";
import { createFormatter, timeZoneNames, type Formatter } from "../domain/format";
import { staffLabel, staffUserId } from "../domain/staff";
import { liabilityMinor, pointValueFromRewards } from "../domain/loyalty/liability";
import { formatMoney, formatMoneyRatio, formatPoints, ledgerKindLabel, pointsLabel, sharePercent, signedPoints } from "../domain/loyalty/format";
import {
  formValuesFromFields,
  formValuesToSettings,
  mergeErrors,
  newProgramFormValues,
  settingsToFormValues,
  type FieldError,
} from "../domain/loyalty/program-form";
import type {
  AdjustmentFormResult,
  CustomerLoyaltyView,
  LedgerRowView,
  LoyaltyDashboardView,
  LoyaltyTierShare,
  LoyaltyWeek,
  ProgramSaveResult,
  ProgramSettingsPageData,
  SegmentOption,
} from "../domain/admin/loyalty-view-models";

export const DASHBOARD_WEEKS = 26;
export const LEDGER_PAGE_SIZE = 50;

const CustomerGid = z.string().regex(/^gid:\/\/shopify\/Customer\/\d{1,20}$/);
const LedgerCursor = z.string().regex(/^\d{1,19}$/);

/** The shop's currency: the shop record's, else its latest order's, else USD. */
export async function loyaltyCurrency(shop: string, db: Queryable = getPool()): Promise<string> {
  const { rows } = await db.query<{ currency: string | null }>(
    `SELECT coalesce((SELECT "currencyCode" FROM shops WHERE domain = $1),
                     (SELECT currency FROM orders WHERE shop = $1 ORDER BY shopify_created_at DESC NULLS LAST LIMIT 1)) AS currency`,
    [shop],
  );
  return (rows[0]?.currency ?? "USD").toUpperCase();
}

// ---------------------------------------------------------------- dashboard: raw aggregations

export type WeekActivity = { weekStart: string; issued: number; redeemed: number; reversed: number; expired: number };

/**
 * Points per week (Monday 00:00 to Monday 00:00 in `timeZone`), the last `weeks` weeks up to
 * the one holding `now`, every week present (zeros included), oldest first. Each entry is
 * dated by `occurred_at` (the order's time for earnings, the refund's for reversals, the day
 * of expiry...). All positive numbers:
 * - issued: earn and bonus entries and staff additions;
 * - redeemed: redemption debits minus redemptions given back (a failed code);
 * - reversed: refund / cancellation reversals and staff removals;
 * - expired: expiry entries.
 * Every entry counts, including those of customers deleted or redacted since (it happened).
 */
export async function loyaltyActivityByWeek({
  shop,
  now = new Date(),
  weeks = DASHBOARD_WEEKS,
  timeZone = "UTC",
}: {
  shop: string;
  now?: Date;
  weeks?: number;
  timeZone?: string;
}): Promise<WeekActivity[]> {
  const count = z.number().int().min(1).max(260).parse(weeks);
  const { rows } = await getPool().query<{ week_start: string; issued: string; redeemed: string; reversed: string; expired: string }>(
    `WITH bounds AS (SELECT date_trunc('week', $2::timestamptz AT TIME ZONE $3) AS this_week),
          weeks AS (
            SELECT generate_series(b.this_week - make_interval(weeks => $4 - 1), b.this_week, interval '1 week') AS week FROM bounds b
          ),
          per_week AS (
            SELECT date_trunc('week', l.occurred_at AT TIME ZONE $3) AS week,
                   sum(l.points) FILTER (WHERE l.kind IN ('earn', 'bonus') OR (l.kind = 'adjust' AND l.points > 0)) AS issued,
                   -sum(l.points) FILTER (WHERE l.kind IN ('redeem', 'refund_redeem')) AS redeemed,
                   -sum(l.points) FILTER (WHERE l.kind = 'reverse' OR (l.kind = 'adjust' AND l.points < 0)) AS reversed,
                   -sum(l.points) FILTER (WHERE l.kind = 'expire') AS expired
              FROM loyalty_ledger l, bounds b
             WHERE l.shop = $1
               AND l.occurred_at >= ((b.this_week - make_interval(weeks => $4 - 1)) AT TIME ZONE $3)
               AND l.occurred_at < ((b.this_week + interval '1 week') AT TIME ZONE $3)
             GROUP BY 1
          )
     SELECT to_char(w.week, 'YYYY-MM-DD') AS week_start,
            coalesce(p.issued, 0) AS issued, coalesce(p.redeemed, 0) AS redeemed,
            coalesce(p.reversed, 0) AS reversed, coalesce(p.expired, 0) AS expired
       FROM weeks w LEFT JOIN per_week p ON p.week = w.week
      ORDER BY w.week`,
    [shop, now, timeZone, count],
  );
  return rows.map((r) => ({ weekStart: r.week_start, issued: Number(r.issued), redeemed: Number(r.redeemed), reversed: Number(r.reversed), expired: Number(r.expired) }));
}

export type LiabilityPoints = { members: number; spendablePoints: number; pendingPoints: number; owedPoints: number };
export type TierHoldings = LiabilityPoints & { tier: string | null };

/**
 * Members (live customers with at least one ledger entry) grouped by their current tier (the
 * last recorded tier change; null: none), with what they hold at `now`: spendable points (each
 * member's balance, when positive), pending points, and the points members with a negative
 * balance owe (not a liability: later earnings repay them). Deleted and redacted customers
 * cannot spend and are left out. One pass over the shop's ledger.
 */
export async function loyaltyHoldingsByTier({ shop, now = new Date() }: { shop: string; now?: Date }): Promise<TierHoldings[]> {
  const { rows } = await getPool().query<{ tier: string | null; members: number; spendable: string; pending: string; owed: string }>(
    `SELECT t.to_tier AS tier,
            count(*)::int AS members,
            coalesce(sum(greatest(w.balance, 0)), 0) AS spendable,
            coalesce(sum(greatest(w.pending, 0)), 0) AS pending,
            coalesce(-sum(least(w.balance, 0)), 0) AS owed
       FROM (SELECT l.customer_gid,
                    coalesce(sum(l.points) FILTER (WHERE l.available_at <= $2), 0) AS balance,
                    coalesce(sum(l.points) FILTER (WHERE l.available_at > $2), 0) AS pending
               FROM loyalty_ledger l
               JOIN customers c ON c.shop = l.shop AND c.gid = l.customer_gid AND c.deleted_at IS NULL AND c.redacted_at IS NULL
              WHERE l.shop = $1
              GROUP BY l.customer_gid) w
       LEFT JOIN LATERAL (
            SELECT tc.to_tier FROM loyalty_tier_changes tc
             WHERE tc.shop = $1 AND tc.customer_gid = w.customer_gid
             ORDER BY tc.id DESC LIMIT 1) t ON true
      GROUP BY 1
      ORDER BY 1 NULLS LAST`,
    [shop, now],
  );
  return rows.map((r) => ({ tier: r.tier, members: r.members, spendablePoints: Number(r.spendable), pendingPoints: Number(r.pending), owedPoints: Number(r.owed) }));
}

/** The shop's totals of loyaltyHoldingsByTier. */
export function totalHoldings(byTier: readonly TierHoldings[]): LiabilityPoints {
  return byTier.reduce(
    (t, h) => ({ members: t.members + h.members, spendablePoints: t.spendablePoints + h.spendablePoints, pendingPoints: t.pendingPoints + h.pendingPoints, owedPoints: t.owedPoints + h.owedPoints }),
    { members: 0, spendablePoints: 0, pendingPoints: 0, owedPoints: 0 },
  );
}

export async function loyaltyLiabilityPoints({ shop, now = new Date() }: { shop: string; now?: Date }): Promise<LiabilityPoints> {
  return totalHoldings(await loyaltyHoldingsByTier({ shop, now }));
}

// ---------------------------------------------------------------- dashboard: the page


/** "2 points per $1.00". */
function earnRateText(settings: LoyaltyProgramSettings, currency: string): string {
  const unit = formatMoney(10n ** BigInt(currencyExponent(currency)), currency);
  return `${formatPoints(settings.earn.pointsPerUnit)} ${settings.earn.pointsPerUnit === 1 ? "point" : "points"} per ${unit}`;
}

function tierShares(settings: LoyaltyProgramSettings, counts: Map<string | null, number>, members: number): LoyaltyTierShare[] | null {
  if (!settings.tiers && [...counts.keys()].every((k) => k === null)) return null;
  const shares: LoyaltyTierShare[] = [];
  const levels = settings.tiers?.levels ?? [];
  const known = new Set(levels.map((l) => l.name));
  for (const level of [...levels].reverse()) {
    const n = counts.get(level.name) ?? 0;
    shares.push({ tier: level.name, label: level.name, members: n, share: sharePercent(n, members), retired: false });
  }
  // Tiers a member still holds that the program no longer has (removed or renamed since): shown until the next refresh moves them.
  for (const [tier, n] of [...counts.entries()].filter(([t]) => t !== null && !known.has(t)).sort(([a], [b]) => String(a).localeCompare(String(b)))) {
    shares.push({ tier, label: `${tier} (no longer in the program)`, members: n, share: sharePercent(n, members), retired: true });
  }
  const none = counts.get(null) ?? 0;
  shares.push({ tier: null, label: "No tier", members: none, share: sharePercent(none, members), retired: false });
  return shares;
}

/** The dashboard, or null when the shop has no loyalty program yet (the page shows how to set one up). */
export async function getLoyaltyDashboard({ shop, now = new Date(), fmt = createFormatter() }: { shop: string; now?: Date; fmt?: Formatter }): Promise<LoyaltyDashboardView | null> {
  const program = await getProgram(shop);
  if (!program) return null;
  const { settings } = program;
  const [currency, activity, holdings] = await Promise.all([loyaltyCurrency(shop), loyaltyActivityByWeek({ shop, now, timeZone: settings.timeZone }), loyaltyHoldingsByTier({ shop, now })]);
  const liability = totalHoldings(holdings);
  const tierCounts = new Map(holdings.map((h) => [h.tier, h.members]));
  const weeks: LoyaltyWeek[] = activity.map((w) => ({ ...w, label: fmt.calendarDayMonth(w.weekStart) }));
  const totals = weeks.reduce((t, w) => ({ issued: t.issued + w.issued, redeemed: t.redeemed + w.redeemed, reversed: t.reversed + w.reversed, expired: t.expired + w.expired }), {
    issued: 0,
    redeemed: 0,
    reversed: 0,
    expired: 0,
  });
  const value = pointValueFromRewards(settings.rewards, currency);
  let money: LoyaltyDashboardView["liability"]["money"] = null;
  if (value) {
    const spendable = liabilityMinor(BigInt(liability.spendablePoints), value);
    const pending = liabilityMinor(BigInt(liability.pendingPoints), value);
    const total = liabilityMinor(BigInt(liability.spendablePoints + liability.pendingPoints), value);
    money = {
      spendable: formatMoney(spendable, currency),
      pending: formatMoney(pending, currency),
      total: formatMoney(total, currency),
      totalMinor: total.toString(),
      perPoint: formatMoneyRatio(value.minor, value.points, currency),
      basis: `“${value.rewardName}”: ${formatMoney(value.minor, currency)} off for ${pointsLabel(Number(value.points))}`,
    };
  }
  return {
    program: {
      version: program.version,
      enabled: settings.enabled,
      updatedAt: fmt.dateTime(program.updatedAt) ?? "",
      pointsPerUnit: earnRateText(settings, currency),
      pendingDays: settings.pendingDays,
      timeZone: settings.timeZone,
    },
    members: liability.members,
    weeks,
    totals,
    liability: { spendablePoints: liability.spendablePoints, pendingPoints: liability.pendingPoints, owedPoints: liability.owedPoints, money },
    tiers: tierShares(settings, tierCounts, liability.members),
  };
}

// ---------------------------------------------------------------- settings

async function segmentOptions(shop: string): Promise<SegmentOption[]> {
  const { rows } = await getPool().query<{ id: string; name: string }>(`SELECT id::text AS id, name FROM segments WHERE shop = $1 ORDER BY lower(name), id`, [shop]);
  return rows;
}

/** The settings page; a new program's time zone defaults to the shop's (`defaultTimeZone`). */
export async function getProgramSettingsPage({
  shop,
  fmt = createFormatter(),
  defaultTimeZone = "UTC",
}: {
  shop: string;
  fmt?: Formatter;
  defaultTimeZone?: string;
}): Promise<ProgramSettingsPageData> {
  const [program, currency, segments] = await Promise.all([getProgram(shop), loyaltyCurrency(shop), segmentOptions(shop)]);
  const values = program ? settingsToFormValues(program.settings, currency) : { ...newProgramFormValues(), timeZone: defaultTimeZone };
  const zones = timeZoneNames();
  return {
    timeZones: zones.includes(values.timeZone) ? zones : [values.timeZone, ...zones],
    shopTimeZone: defaultTimeZone,
    version: program?.version ?? null,
    updatedAt: program ? fmt.dateTime(program.updatedAt) : null,
    values,
    currency,
    segments,
  };
}

/** The settings form as posted: every field is text; `expectedVersion` is the version the form was loaded from ("" for none). */
export const ProgramFormFieldsSchema = z
  .record(z.string().max(200), z.string().max(2_000))
  .refine((fields) => Object.keys(fields).length <= 2_000, "too many fields")
  .refine((fields) => typeof fields.expectedVersion === "string" && /^\d{0,9}$/.test(fields.expectedVersion), "expectedVersion is missing");

/** What the shop's other settings forbid (the schema cannot know): a segment that is gone, a tier tag a segment already syncs. */
async function crossChecks(shop: string, settings: LoyaltyProgramSettings): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  const { rows: segments } = await getPool().query<{ id: string; name: string; tag: string | null; tag_sync_enabled: boolean }>(
    `SELECT id::text AS id, name, tag, tag_sync_enabled FROM segments WHERE shop = $1`,
    [shop],
  );
  const ids = new Set(segments.map((s) => s.id));
  settings.segmentMultipliers.forEach((m, i) => {
    if (!ids.has(m.segmentId)) errors.push({ path: `segmentMultipliers.${i}.segmentId`, message: `Segment ${m.segmentId} no longer exists; choose another or remove this multiplier` });
  });
  const synced = new Map(segments.filter((s) => s.tag_sync_enabled && s.tag).map((s) => [tagKey(s.tag!), s.name]));
  settings.tiers?.levels.forEach((level, i) => {
    const segment = level.tag ? synced.get(tagKey(level.tag)) : undefined;
    if (segment) errors.push({ path: `tiers.levels.${i}.tag`, message: `The segment “${segment}” already syncs the tag ${level.tag}; a tag is synced by one segment or tier at a time` });
  });
  return errors;
}

/**
 * Validates the posted form and saves it as the program's next version. Nothing invalid is
 * stored. A save based on an older version than the current one is a conflict (someone
 * else saved meanwhile), never a silent overwrite.
 */
export async function saveProgramSettings({
  shop,
  fields,
  actor,
  now,
}: {
  shop: string;
  fields: Readonly<Record<string, string>>;
  actor: string;
  now?: Date;
}): Promise<{ status: number; result: ProgramSaveResult }> {
  const parsedFields = ProgramFormFieldsSchema.safeParse(fields);
  if (!parsedFields.success) {
    const basedOn = /^\d{1,9}$/.test(fields.expectedVersion ?? "") ? Number(fields.expectedVersion) : null;
    return { status: 400, result: { ok: false, kind: "invalid", basedOn, errors: [{ path: "", message: "The form was not understood; reload the page and try again." }] } };
  }
  const expectedVersion = parsedFields.data.expectedVersion === "" ? null : Number(parsedFields.data.expectedVersion);
  const currency = await loyaltyCurrency(shop);
  const values = formValuesFromFields(parsedFields.data);
  const converted = formValuesToSettings(values, currency);
  const parsed = parseProgramSettings(converted.input);
  let errors = mergeErrors(converted.errors, parsed.ok ? [] : parsed.errors);
  if (parsed.ok && errors.length === 0) errors = await crossChecks(shop, parsed.settings);
  if (errors.length > 0 || !parsed.ok) return { status: 400, result: { ok: false, kind: "invalid", basedOn: expectedVersion, errors } };
  try {
    const saved = await saveProgram({ shop, settings: parsed.settings, actor, expectedVersion, now });
    return { status: 200, result: { ok: true, version: saved.version } };
  } catch (error) {
    if (!(error instanceof LoyaltyError)) throw error;
    if (error.kind === "conflict") {
      logger.info({ shop, expectedVersion }, "loyalty.program_save_conflict");
      return {
        status: 409,
        result: {
          ok: false,
          kind: "conflict",
          basedOn: expectedVersion,
          message: "Someone else saved the program while you were editing it. Reload the page to see their version, then make your changes again.",
        },
      };
    }
    return { status: 400, result: { ok: false, kind: "invalid", basedOn: expectedVersion, errors: mergeErrors([], error.errors.length > 0 ? error.errors : [{ path: "", message: error.message }]) } };
  }
}

/**
 * Saves program settings given as JSON (the settings format of docs/loyalty.md; the operator
 * CLI's `loyalty program set`) exactly like a save in the admin: the same schema, the same
 * cross-checks, a new version in force from now, audited with the actor.
 */
export async function saveProgramSettingsJson({
  shop,
  input,
  actor,
  now,
}: {
  shop: string;
  input: unknown;
  actor: string;
  now?: Date;
}): Promise<{ ok: true; version: number } | { ok: false; errors: FieldError[] }> {
  const parsed = parseProgramSettings(input);
  if (!parsed.ok) return { ok: false, errors: parsed.errors };
  const errors = await crossChecks(shop, parsed.settings);
  if (errors.length > 0) return { ok: false, errors };
  const current = await getProgram(shop);
  const saved = await saveProgram({ shop, settings: parsed.settings, actor, expectedVersion: current?.version ?? null, now });
  return { ok: true, version: saved.version };
}

// ---------------------------------------------------------------- customer page

type LedgerPageRow = {
  id: string;
  points: number;
  kind: string;
  available_at: Date;
  occurred_at: Date;
  source: string;
  reason: string;
  order_name: string | null;
};

/**
 * One page of the customer's ledger, newest first: the latest `pageSize` entries, or those
 * before the entry `before` (keyset on the entry id, so deep pages cost the same).
 */
export async function customerLedgerPage({
  shop,
  customerGid,
  before,
  pageSize = LEDGER_PAGE_SIZE,
}: {
  shop: string;
  customerGid: string;
  before?: string | null;
  pageSize?: number;
}): Promise<{ rows: LedgerPageRow[]; total: number; olderCursor: string | null }> {
  const pool = getPool();
  const [page, count] = await Promise.all([
    pool.query<LedgerPageRow>(
      `SELECT l.id::text AS id, l.points, l.kind::text AS kind, l.available_at, l.occurred_at, l.source, l.reason, o.name AS order_name
         FROM loyalty_ledger l
         LEFT JOIN orders o ON o.shop = l.shop AND o.gid = l.order_gid
        WHERE l.shop = $1 AND l.customer_gid = $2 AND ($3::bigint IS NULL OR l.id < $3)
        ORDER BY l.id DESC
        LIMIT $4`,
      [shop, customerGid, before ?? null, pageSize + 1],
    ),
    pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM loyalty_ledger WHERE shop = $1 AND customer_gid = $2`, [shop, customerGid]),
  ]);
  const more = page.rows.length > pageSize;
  const rows = page.rows.slice(0, pageSize);
  return { rows, total: count.rows[0]!.n, olderCursor: more ? rows[rows.length - 1]!.id : null };
}

const toLedgerView = (r: LedgerPageRow, now: Date, fmt: Formatter, staffNames: ReadonlyMap<string, string>): LedgerRowView => ({
  id: r.id,
  date: fmt.dateTime(r.occurred_at) ?? "",
  kind: r.kind,
  kindLabel: ledgerKindLabel(r.kind),
  points: r.points,
  pointsText: signedPoints(r.points),
  reason: r.reason,
  orderName: r.order_name,
  pendingUntil: r.available_at.getTime() > now.getTime() ? fmt.date(r.available_at) : null,
  staff: r.source.startsWith("staff:") ? staffLabel(r.source.slice("staff:".length), staffNames) : null,
});

/**
 * Names of the staff members behind these actors, where the app knows them: only online
 * sessions carry a name (the app uses offline tokens, so usually none is known and the page
 * says "Staff member #id"; docs/decisions/039-one-formatter-home-and-settings.md).
 */
export async function staffNames(shop: string, actors: readonly string[]): Promise<Map<string, string>> {
  const ids = [...new Set(actors.map(staffUserId).filter((id): id is string => id !== null))];
  if (ids.length === 0) return new Map();
  const { rows } = await getPool().query<{ user_id: string; first_name: string | null; last_name: string | null }>(
    `SELECT DISTINCT ON ("userId") "userId"::text AS user_id, "firstName" AS first_name, "lastName" AS last_name
       FROM "Session" WHERE shop = $1 AND "isOnline" AND "userId" = ANY($2::bigint[])
      ORDER BY "userId", expires DESC NULLS LAST`,
    [shop, ids],
  );
  const names = new Map<string, string>();
  for (const r of rows) {
    const name = [r.first_name, r.last_name].filter(Boolean).join(" ").trim();
    if (name) names.set(r.user_id, name);
  }
  return names;
}

/**
 * The customer page's loyalty card, or null when the shop has no program or the customer is
 * unknown. `before` pages back through the ledger (an invalid cursor shows the first page).
 */
export async function getCustomerLoyalty({
  shop,
  customerGid,
  before,
  now = new Date(),
  fmt = createFormatter(),
}: {
  shop: string;
  customerGid: string;
  before?: string | null;
  now?: Date;
  fmt?: Formatter;
}): Promise<CustomerLoyaltyView | null> {
  if (!CustomerGid.safeParse(customerGid).success) return null;
  const program = await getProgram(shop);
  if (!program) return null;
  const cursor = before && LedgerCursor.safeParse(before).success ? before : null;
  try {
    const [balance, outlook, page] = await Promise.all([
      getBalance(shop, customerGid, now),
      getExpiryOutlook(shop, customerGid),
      customerLedgerPage({ shop, customerGid, before: cursor }),
    ]);
    const names = await staffNames(
      shop,
      page.rows.filter((r) => r.source.startsWith("staff:")).map((r) => r.source.slice("staff:".length)),
    );
    return {
      programEnabled: program.settings.enabled,
      balance: balance.balance,
      pending: balance.pending,
      tier: balance.tier,
      expiring: outlook && outlook.points > 0 ? { points: outlook.points, on: fmt.date(outlook.expiresAt) ?? "" } : null,
      ledger: { rows: page.rows.map((r) => toLedgerView(r, now, fmt, names)), total: page.total, olderCursor: page.olderCursor, isFirstPage: cursor === null },
      adjustmentKey: randomUUID(),
    };
  } catch (error) {
    if (error instanceof LoyaltyError && error.kind === "not_found") return null;
    throw error;
  }
}

/** The staff adjustment form as posted. */
export const AdjustmentFieldsSchema = z.object({
  points: z.string().max(50).default(""),
  reason: z.string().max(2_000).default(""),
  adjustmentKey: z.string().uuid(),
});

/** "+50", "50", "-20", "−20", "1,000" -> the integer; null when it is not a whole number. */
export function parsePointsText(text: string): number | null {
  const t = text.trim().replace(/^−/, "-").replace(/^\+/, "");
  const plain = /^-?\d{1,3}(?:,\d{3})+$/.test(t) ? t.replace(/,/g, "") : t;
  if (!/^-?\d{1,9}$/.test(plain)) return null;
  return Number(plain);
}

/**
 * A staff adjustment from the customer page: points (positive adds, negative removes) and a
 * required reason, written by adjustPoints (audited). The form's key makes a double
 * submission write once.
 */
export async function adjustCustomerPoints({
  shop,
  customerGid,
  fields,
  actor,
  now,
}: {
  shop: string;
  customerGid: string;
  fields: Readonly<Record<string, unknown>>;
  actor: string;
  now?: Date;
}): Promise<{ status: number; result: AdjustmentFormResult }> {
  const invalid = (errors: Extract<AdjustmentFormResult, { ok: false }>["errors"], status = 400) => ({ status, result: { intent: "adjust-points" as const, ok: false as const, errors } });
  const parsed = AdjustmentFieldsSchema.safeParse(fields);
  if (!parsed.success) return invalid({ form: "The form was not understood; reload the page and try again." });
  const points = parsePointsText(parsed.data.points);
  const errors: Extract<AdjustmentFormResult, { ok: false }>["errors"] = {};
  if (points === null) errors.points = "Enter a whole number of points: 50 adds points, -20 removes them";
  else if (points === 0) errors.points = "Enter a number of points other than 0";
  if (parsed.data.reason.trim() === "") errors.reason = "A reason is required: it is kept in the ledger and the audit log";
  if (Object.keys(errors).length > 0 || points === null) return invalid(errors);
  try {
    const result = await adjustPoints({ shop, customerGid, points, reason: parsed.data.reason, actor, idempotencyKey: parsed.data.adjustmentKey }, now ? { now } : {});
    return { status: 200, result: { intent: "adjust-points", ok: true, points: result.points, balance: result.balance } };
  } catch (error) {
    if (!(error instanceof LoyaltyError)) throw error;
    const message = error.message.charAt(0).toUpperCase() + error.message.slice(1);
    if (error.kind === "not_found") return invalid({ form: message }, 404);
    if (error.kind === "conflict" && /idempotency key/.test(error.message)) return invalid({ form: "This form was already used for another adjustment; reload the page and try again." }, 409);
    if (error.kind === "conflict") return invalid({ points: message }, 409);
    return invalid(/reason/.test(error.message) ? { reason: message } : /point|adjustment/.test(error.message) ? { points: message } : { form: message });
  }
}
