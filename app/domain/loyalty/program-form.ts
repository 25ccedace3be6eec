// The loyalty program settings form as data (pure: no I/O, safe in the browser). The form's
// inputs are named by the settings path they edit (`earn.pointsPerUnit`,
// `tiers.levels.1.threshold`, `rewards.0.pointsCost`), so an error of the domain's zod schema
// (app/domain/loyalty/program.ts, which names the field) lands at its input. This module turns
// stored settings into form values (strings, as inputs hold them), submitted form fields back
// into a settings document for the schema, and the schema's messages into the merchant's words.
import { currencyExponent, formatMinorUnits, toMinorUnits } from "../money";
import {
  NEGATIVE_BALANCE_POLICIES,
  REWARD_KINDS,
  TIER_METRICS,
  TIER_WINDOWS,
  type LoyaltyProgramSettings,
} from "./program";

export const EARN_BASES = ["net_merchandise", "gross_merchandise"] as const;
export const EARN_ROUNDINGS = ["floor", "nearest"] as const;
export const EARN_ON = ["paid", "placed"] as const;

/** Limits of the form's lists (the schema's own limits; a longer submission is cut here and never reaches it). */
export const MAX_SEGMENT_MULTIPLIERS = 50;
export const MAX_TIER_LEVELS = 20;
export const MAX_REWARDS = 100;

export type SegmentMultiplierValues = { segmentId: string; multiplier: string };
export type TierLevelValues = { name: string; threshold: string; tag: string; multiplier: string };
export type RewardValues = { id: string; name: string; kind: string; value: string; pointsCost: string; minimumOrder: string; validityDays: string };

/** Everything the form holds, as text (what inputs hold); checkboxes as booleans. */
export type ProgramFormValues = {
  enabled: boolean;
  timeZone: string;
  earn: { pointsPerUnit: string; basis: string; rounding: string; on: string };
  pendingDays: string;
  retroactiveDays: string;
  expiry: { enabled: boolean; inactivityDays: string };
  bonuses: { firstOrder: string; birthday: string; signup: string; feedback: string };
  segmentMultipliers: SegmentMultiplierValues[];
  tiers: { enabled: boolean; metric: string; window: string; levels: TierLevelValues[] };
  negativeBalance: string;
  rewards: RewardValues[];
};

export type FieldError = { path: string; message: string };

// ---------------------------------------------------------------- settings -> form

/** A new program's starting values: the schema's defaults, one point per unit of currency. */
export function newProgramFormValues(): ProgramFormValues {
  return {
    enabled: true,
    timeZone: "UTC",
    earn: { pointsPerUnit: "1", basis: "net_merchandise", rounding: "floor", on: "paid" },
    pendingDays: "14",
    retroactiveDays: "0",
    expiry: { enabled: false, inactivityDays: "365" },
    bonuses: { firstOrder: "0", birthday: "0", signup: "0", feedback: "0" },
    segmentMultipliers: [],
    tiers: { enabled: false, metric: "points_earned", window: "lifetime", levels: [] },
    negativeBalance: "pending_first",
    rewards: [],
  };
}

/** Net-spend thresholds are stored in minor units and edited as money ("500.00"). */
function thresholdText(threshold: number, metric: string, currency: string): string {
  return metric === "net_spend" ? formatMinorUnits(BigInt(threshold), currency) : String(threshold);
}

export function settingsToFormValues(settings: LoyaltyProgramSettings, currency: string): ProgramFormValues {
  const tiers = settings.tiers;
  return {
    enabled: settings.enabled,
    timeZone: settings.timeZone,
    earn: { pointsPerUnit: String(settings.earn.pointsPerUnit), basis: settings.earn.basis, rounding: settings.earn.rounding, on: settings.earn.on },
    pendingDays: String(settings.pendingDays),
    retroactiveDays: String(settings.retroactiveDays),
    expiry: { enabled: settings.expiry !== null, inactivityDays: String(settings.expiry?.inactivityDays ?? 365) },
    bonuses: {
      firstOrder: String(settings.bonuses.firstOrder),
      birthday: String(settings.bonuses.birthday),
      signup: String(settings.bonuses.signup),
      feedback: String(settings.bonuses.feedback),
    },
    segmentMultipliers: settings.segmentMultipliers.map((m) => ({ segmentId: m.segmentId, multiplier: String(m.multiplier) })),
    tiers: {
      enabled: tiers !== null,
      metric: tiers?.metric ?? "points_earned",
      window: tiers?.window ?? "lifetime",
      levels: (tiers?.levels ?? []).map((l) => ({
        name: l.name,
        threshold: thresholdText(l.threshold, tiers!.metric, currency),
        tag: l.tag ?? "",
        multiplier: String(l.multiplier),
      })),
    },
    negativeBalance: settings.negativeBalance,
    rewards: settings.rewards.map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      value: r.value === null ? "" : String(r.value),
      pointsCost: String(r.pointsCost),
      minimumOrder: r.minimumOrder ?? "",
      validityDays: String(r.validityDays),
    })),
  };
}

// ---------------------------------------------------------------- submitted fields -> form values

const INDEX = /^\d{1,3}$/;

/**
 * The submitted fields (name -> value) as form values. Unknown names are ignored; list rows
 * are taken in index order (gaps closed), at most the schema's limit each. A checkbox is on
 * when its field is "true" or "on".
 */
export function formValuesFromFields(fields: Readonly<Record<string, string>>): ProgramFormValues {
  const text = (name: string) => (fields[name] ?? "").toString();
  const on = (name: string) => ["true", "on"].includes(text(name));
  const rows = (prefix: string, limit: number): string[] => {
    const indexes = new Set<number>();
    for (const name of Object.keys(fields)) {
      if (!name.startsWith(`${prefix}.`)) continue;
      const index = name.slice(prefix.length + 1).split(".")[0]!;
      if (INDEX.test(index)) indexes.add(Number(index));
    }
    return [...indexes]
      .sort((a, b) => a - b)
      .slice(0, limit)
      .map((i) => `${prefix}.${i}`);
  };
  return {
    enabled: on("enabled"),
    timeZone: text("timeZone"),
    earn: { pointsPerUnit: text("earn.pointsPerUnit"), basis: text("earn.basis"), rounding: text("earn.rounding"), on: text("earn.on") },
    pendingDays: text("pendingDays"),
    retroactiveDays: text("retroactiveDays"),
    expiry: { enabled: on("expiry.enabled"), inactivityDays: text("expiry.inactivityDays") },
    bonuses: {
      firstOrder: text("bonuses.firstOrder"),
      birthday: text("bonuses.birthday"),
      signup: text("bonuses.signup"),
      feedback: text("bonuses.feedback"),
    },
    segmentMultipliers: rows("segmentMultipliers", MAX_SEGMENT_MULTIPLIERS).map((p) => ({ segmentId: text(`${p}.segmentId`), multiplier: text(`${p}.multiplier`) })),
    tiers: {
      enabled: on("tiers.enabled"),
      metric: text("tiers.metric"),
      window: text("tiers.window"),
      levels: rows("tiers.levels", MAX_TIER_LEVELS).map((p) => ({
        name: text(`${p}.name`),
        threshold: text(`${p}.threshold`),
        tag: text(`${p}.tag`),
        multiplier: text(`${p}.multiplier`),
      })),
    },
    negativeBalance: text("negativeBalance"),
    rewards: rows("rewards", MAX_REWARDS).map((p) => ({
      id: text(`${p}.id`),
      name: text(`${p}.name`),
      kind: text(`${p}.kind`),
      value: text(`${p}.value`),
      pointsCost: text(`${p}.pointsCost`),
      minimumOrder: text(`${p}.minimumOrder`),
      validityDays: text(`${p}.validityDays`),
    })),
  };
}

/** The fields the form posts for `values` (name -> value): what formValuesFromFields reads back. */
export function formFields(values: ProgramFormValues): Record<string, string> {
  const fields: Record<string, string> = {
    enabled: String(values.enabled),
    timeZone: values.timeZone,
    "earn.pointsPerUnit": values.earn.pointsPerUnit,
    "earn.basis": values.earn.basis,
    "earn.rounding": values.earn.rounding,
    "earn.on": values.earn.on,
    pendingDays: values.pendingDays,
    retroactiveDays: values.retroactiveDays,
    "expiry.enabled": String(values.expiry.enabled),
    "expiry.inactivityDays": values.expiry.inactivityDays,
    "bonuses.firstOrder": values.bonuses.firstOrder,
    "bonuses.birthday": values.bonuses.birthday,
    "bonuses.signup": values.bonuses.signup,
    "bonuses.feedback": values.bonuses.feedback,
    "tiers.enabled": String(values.tiers.enabled),
    "tiers.metric": values.tiers.metric,
    "tiers.window": values.tiers.window,
    negativeBalance: values.negativeBalance,
  };
  const rows = <T extends Record<string, string>>(prefix: string, list: readonly T[]) =>
    list.forEach((row, i) => Object.entries(row).forEach(([key, value]) => (fields[`${prefix}.${i}.${key}`] = value)));
  rows("segmentMultipliers", values.segmentMultipliers);
  rows("tiers.levels", values.tiers.levels);
  rows("rewards", values.rewards);
  return fields;
}

// ---------------------------------------------------------------- form values -> settings document

const WHOLE = /^-?\d+$/;
const DECIMAL = /^-?\d+(?:\.\d+)?$/;
/** Spaces go; "1,000" and "12,500.50" lose their thousands separators (a comma anywhere else stays, and fails). */
function clean(text: string): string {
  const t = text.replace(/\s/g, "");
  return /^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(t) ? t.replace(/,/g, "") : t;
}

/** The reward id a new reward gets from its name ("$5 off" -> "5-off"), unique among `taken`. */
export function rewardIdFor(name: string, taken: ReadonlySet<string>): string {
  const base =
    name
      .toLowerCase()
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "") // accents: "é" -> "e"
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 56) || "reward";
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  return id;
}

/**
 * The settings document the form describes, for the domain's schema to validate, plus the
 * errors found converting text (a number field that is not a number). A field with such an
 * error is left out of the document (its default, if any, stands in) and the schema's
 * errors at that path are dropped by `mergeErrors`, so each field shows one message.
 */
export function formValuesToSettings(values: ProgramFormValues, currency: string): { input: Record<string, unknown>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  /** Records a conversion error; the field is then left out of the document. */
  const fail = (path: string, message: string): undefined => {
    errors.push({ path, message });
    return undefined;
  };
  const whole = (path: string, text: string, { blank }: { blank?: number } = {}): number | undefined => {
    const t = clean(text);
    if (t === "" && blank !== undefined) return blank;
    if (t === "") return fail(path, "Enter a whole number");
    if (!WHOLE.test(t)) return fail(path, DECIMAL.test(t) ? "Enter a whole number" : "Enter a number");
    if (!Number.isSafeInteger(Number(t))) return fail(path, "This number is too large");
    return Number(t);
  };
  const decimal = (path: string, text: string, { blank }: { blank?: number } = {}): number | undefined => {
    const t = clean(text);
    if (t === "" && blank !== undefined) return blank;
    if (!DECIMAL.test(t)) return fail(path, "Enter a number, such as 1 or 1.5");
    return Number(t);
  };
  const moneyMinor = (path: string, text: string): number | undefined => {
    const t = clean(text);
    const exponent = currencyExponent(currency);
    const shape = exponent > 0 ? new RegExp(`^\\d+(?:\\.\\d{1,${exponent}})?$`) : /^\d+$/;
    if (!shape.test(t)) return fail(path, exponent > 0 ? `Enter an amount, such as 500 or 500.00 (${currency})` : `Enter a whole amount (${currency})`);
    const minor = toMinorUnits(t, currency);
    if (minor > BigInt(Number.MAX_SAFE_INTEGER)) return fail(path, "This amount is too large");
    return Number(minor);
  };
  const defined = (object: Record<string, unknown>) => Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined));

  const takenIds = new Set(values.rewards.map((r) => r.id.trim().toLowerCase()).filter(Boolean));
  const rewards = values.rewards.map((r, i) => {
    const path = `rewards.${i}`;
    let id = r.id.trim();
    if (id === "") {
      id = rewardIdFor(r.name, takenIds);
      takenIds.add(id);
    }
    const value =
      r.kind === "free_shipping" ? null : r.kind === "percentage" ? decimal(`${path}.value`, r.value) : r.value.trim() === "" ? fail(`${path}.value`, "Enter the amount off") : clean(r.value);
    return defined({
      id,
      name: r.name,
      kind: r.kind,
      value,
      pointsCost: whole(`${path}.pointsCost`, r.pointsCost),
      minimumOrder: r.minimumOrder.trim() === "" ? null : clean(r.minimumOrder),
      validityDays: whole(`${path}.validityDays`, r.validityDays, { blank: 30 }),
    });
  });

  const input = defined({
    enabled: values.enabled,
    timeZone: values.timeZone.trim(),
    earn: defined({
      pointsPerUnit: decimal("earn.pointsPerUnit", values.earn.pointsPerUnit),
      basis: values.earn.basis,
      rounding: values.earn.rounding,
      on: values.earn.on,
    }),
    pendingDays: whole("pendingDays", values.pendingDays),
    retroactiveDays: whole("retroactiveDays", values.retroactiveDays, { blank: 0 }),
    expiry: values.expiry.enabled ? defined({ inactivityDays: whole("expiry.inactivityDays", values.expiry.inactivityDays) }) : null,
    bonuses: defined({
      firstOrder: whole("bonuses.firstOrder", values.bonuses.firstOrder, { blank: 0 }),
      birthday: whole("bonuses.birthday", values.bonuses.birthday, { blank: 0 }),
      signup: whole("bonuses.signup", values.bonuses.signup, { blank: 0 }),
      feedback: whole("bonuses.feedback", values.bonuses.feedback, { blank: 0 }),
    }),
    segmentMultipliers: values.segmentMultipliers.map((m, i) =>
      defined({ segmentId: m.segmentId.trim(), multiplier: decimal(`segmentMultipliers.${i}.multiplier`, m.multiplier) }),
    ),
    tiers: values.tiers.enabled
      ? {
          metric: values.tiers.metric,
          window: values.tiers.window,
          levels: values.tiers.levels.map((l, i) =>
            defined({
              name: l.name,
              threshold: values.tiers.metric === "net_spend" ? moneyMinor(`tiers.levels.${i}.threshold`, l.threshold) : whole(`tiers.levels.${i}.threshold`, l.threshold),
              tag: l.tag.trim() === "" ? null : l.tag.trim(),
              multiplier: decimal(`tiers.levels.${i}.multiplier`, l.multiplier, { blank: 1 }),
            }),
          ),
        }
      : null,
    negativeBalance: values.negativeBalance,
    rewards,
  });
  return { input, errors };
}

// ---------------------------------------------------------------- messages

/** "rewards.0.pointsCost must be ..." -> the message without the field's name, which the form shows beside it. */
const LEADING_FIELD_NAME = /^(?:[a-z]+(?:\.[a-zA-Z0-9]+)+|[a-z]+[A-Z][a-zA-Z]*)\s+/;

/** The schema's message in the merchant's words, for display beside its field. */
export function friendlyMessage(message: string): string {
  let m = message.trim();
  const small = /^Too small: expected number to be >=?(.+)$/.exec(m);
  if (small) return `Must be at least ${small[1]}`;
  const big = /^Too big: expected number to be <=?(.+)$/.exec(m);
  if (big) return `Must be at most ${big[1]}`;
  const tooMany = /^Too big: expected array to have <=?(\d+) items?$/.exec(m);
  if (tooMany) return `At most ${tooMany[1]}`;
  if (/^Invalid option/.test(m)) return "Choose one of the options";
  if (/^Invalid input: expected (number|string|boolean)/.test(m)) return "Enter a value";
  m = m.replace(LEADING_FIELD_NAME, "");
  return m.charAt(0).toUpperCase() + m.slice(1);
}

/**
 * Conversion errors first; the schema's errors after, except at a path that already has one
 * (the field was left out of the document, so the schema's complaint about it is noise).
 * One message per path.
 */
export function mergeErrors(conversion: readonly FieldError[], schema: readonly FieldError[]): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const e of conversion) {
    if (seen.has(e.path)) continue;
    seen.add(e.path);
    out.push(e);
  }
  for (const e of schema) {
    if (seen.has(e.path) || conversion.some((c) => e.path.startsWith(`${c.path}.`))) continue;
    seen.add(e.path);
    out.push({ path: e.path, message: friendlyMessage(e.message) });
  }
  return out;
}

/** The paths the form shows an input for (an error elsewhere goes to the banner at the top). */
export function formFieldPaths(values: ProgramFormValues): Set<string> {
  const paths = new Set([
    "enabled",
    "timeZone",
    "earn.pointsPerUnit",
    "earn.basis",
    "earn.rounding",
    "earn.on",
    "pendingDays",
    "retroactiveDays",
    "expiry.inactivityDays",
    "bonuses.firstOrder",
    "bonuses.birthday",
    "bonuses.signup",
    "bonuses.feedback",
    "negativeBalance",
    "segmentMultipliers",
    "tiers",
    "tiers.metric",
    "tiers.window",
    "tiers.levels",
    "rewards",
  ]);
  values.segmentMultipliers.forEach((_, i) => ["segmentId", "multiplier"].forEach((f) => paths.add(`segmentMultipliers.${i}.${f}`)));
  values.tiers.levels.forEach((_, i) => ["name", "threshold", "tag", "multiplier"].forEach((f) => paths.add(`tiers.levels.${i}.${f}`)));
  values.rewards.forEach((_, i) => ["id", "name", "kind", "value", "pointsCost", "minimumOrder", "validityDays"].forEach((f) => paths.add(`rewards.${i}.${f}`)));
  return paths;
}

// ---------------------------------------------------------------- choices, in the merchant's words

export const BASIS_LABELS: Record<(typeof EARN_BASES)[number], string> = {
  net_merchandise: "Products after discounts (no shipping, tax or gift cards)",
  gross_merchandise: "Products before discounts",
};
export const ROUNDING_LABELS: Record<(typeof EARN_ROUNDINGS)[number], string> = { floor: "Round down", nearest: "Round to nearest" };
export const EARN_ON_LABELS: Record<(typeof EARN_ON)[number], string> = { paid: "When the order is paid", placed: "When the order is placed" };
export const TIER_METRIC_LABELS: Record<(typeof TIER_METRICS)[number], string> = { points_earned: "Points earned", net_spend: "Net spend" };
export const TIER_WINDOW_LABELS: Record<(typeof TIER_WINDOWS)[number], string> = {
  lifetime: "Lifetime",
  rolling_12_months: "Last 12 months",
  calendar_year: "This calendar year",
};
export const NEGATIVE_BALANCE_LABELS: Record<(typeof NEGATIVE_BALANCE_POLICIES)[number], { label: string; help: string }> = {
  pending_first: { label: "Take from pending points first", help: "Then let the balance go below zero; later earnings repay it." },
  allow: { label: "Let the balance go below zero", help: "Later earnings repay it." },
  never: { label: "Never below zero", help: "Take what is missing from pending points and forgive the rest." },
};
export const REWARD_KIND_LABELS: Record<(typeof REWARD_KINDS)[number], string> = {
  fixed_amount: "Amount off",
  percentage: "Percentage off",
  free_shipping: "Free shipping",
};
