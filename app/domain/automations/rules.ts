// Automation rules as data: the rule JSON (docs/automations.md "Rule format") checked with zod,
// and the decisions taken from it that need no I/O: whether an order meets an order trigger,
// whether re-entry lets a customer fire again, the weekly message cap, the keys that make a
// firing and each action happen once. Pure: no I/O, no clock (`now` is an argument).
import { z } from "zod";
import { checkSegment } from "../segments/check";
import { parseSegment } from "../segments/parser";
import { toMinorUnits } from "../money";
import { FLOW_TRIGGER_HANDLES, FLOW_TRIGGERS, flowTriggerForMoment } from "../flow/definitions";

export const DAY_MS = 86_400_000;
export const MAX_STEPS = 10;
export const DEFAULT_MESSAGES_PER_WEEK = 3;
/** Tags an automation adds or removes carry this prefix, so they never collide with the merchant's own. */
export const TAG_NAMESPACE = "crm:";

const segmentQuery = (what: string) =>
  z
    .string()
    .max(10_000, `${what} must be at most 10000 characters`)
    .superRefine((text, ctx) => {
      const parsed = parseSegment(text);
      if (!parsed.ok) {
        ctx.addIssue({ code: "custom", message: `${what}: ${parsed.error.message}` });
        return;
      }
      for (const error of checkSegment({ ast: parsed.ast })) ctx.addIssue({ code: "custom", message: `${what}: ${error.message}` });
    });

const optionalQuery = (what: string) =>
  segmentQuery(what)
    .nullish()
    .transform((v) => (v && v.trim() !== "" ? v : null));

const MONEY_TEXT = /^\d{1,9}(?:\.\d{1,3})?$/;
const amount = (field: string) => z.string({ error: `${field} must be an amount as a decimal string, such as "50.00"` }).trim().regex(MONEY_TEXT, `${field} must be an amount as a decimal string, such as "50.00"`);
const wholeDays = (field: string, min: number, max: number) =>
  z.number({ error: `${field} must be a number of days` }).int(`${field} must be a whole number of days`).min(min, `${field} must be at least ${min}`).max(max, `${field} is at most ${max}`);

const orderTrigger = {
  /** The order total (shop currency) must be at least / at most this. */
  minTotal: amount("minTotal").nullish().transform((v) => v ?? null),
  maxTotal: amount("maxTotal").nullish().transform((v) => v ?? null),
  /** At least one line of one of these product types (case-insensitive); empty: any. */
  productTypes: z.array(z.string().trim().min(1).max(255)).max(50).default([]),
  /** true: a discount code was used; false: none was; null: either. */
  discountUsed: z.boolean().nullish().transform((v) => v ?? null),
  /** 1: the customer's first order, n: the n-th (by order time, cancelled and test orders not counted); null: any. */
  nthOrder: z.number().int().min(1).max(1000).nullish().transform((v) => v ?? null),
};

export const TRIGGER_KINDS = [
  "order_placed",
  "order_paid",
  "segment_entered",
  "segment_left",
  "tier_changed",
  "points_expiring",
  "feedback_answered",
  "no_order_for",
  "customer_created",
  "birthday",
] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

export const TriggerSchema = z.discriminatedUnion(
  "kind",
  [
    z.object({ kind: z.literal("order_placed"), ...orderTrigger }).strict(),
    z.object({ kind: z.literal("order_paid"), ...orderTrigger }).strict(),
    z.object({ kind: z.literal("segment_entered"), segment: z.string().trim().min(1, "segment (its name) is required") }).strict(),
    z.object({ kind: z.literal("segment_left"), segment: z.string().trim().min(1, "segment (its name) is required") }).strict(),
    z
      .object({
        kind: z.literal("tier_changed"),
        /** Only changes to this tier (its name); null: any change. */
        toTier: z.string().trim().min(1).nullish().transform((v) => v ?? null),
        /** Only upgrades (to a higher tier than before). */
        upgradesOnly: z.boolean().default(false),
      })
      .strict(),
    z.object({ kind: z.literal("points_expiring"), daysBefore: wholeDays("daysBefore", 1, 365) }).strict(),
    z
      .object({
        kind: z.literal("feedback_answered"),
        /** NPS score bounds (0-10), inclusive; null: any. */
        minScore: z.number().int().min(0).max(10).nullish().transform((v) => v ?? null),
        maxScore: z.number().int().min(0).max(10).nullish().transform((v) => v ?? null),
      })
      .strict(),
    z.object({ kind: z.literal("no_order_for"), days: wholeDays("days", 1, 3650) }).strict(),
    z.object({ kind: z.literal("customer_created") }).strict(),
    /** The customer's birthday (customers.birth_date, decision 043), in the shop's time zone, once a year. */
    z.object({ kind: z.literal("birthday") }).strict(),
  ],
  { error: `trigger.kind must be one of ${TRIGGER_KINDS.join(", ")}` },
);
export type Trigger = z.output<typeof TriggerSchema>;

const tag = z
  .string()
  .trim()
  .min(TAG_NAMESPACE.length + 1, `tag must start with "${TAG_NAMESPACE}" and name something`)
  .max(255)
  .refine((t) => t.toLowerCase().startsWith(TAG_NAMESPACE), `tag must start with "${TAG_NAMESPACE}" (the app's namespace)`)
  .refine((t) => !t.includes(","), "tag must not contain a comma");

const emailText = {
  subject: z.string().trim().min(1, "subject is required").max(200),
  /** Plain text; {{first_name}}, {{shop_name}}, {{code}}, {{code_expires}} are filled in. */
  body: z.string().trim().min(1, "body is required").max(5_000),
};

export const DiscountSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("percentage"), value: z.number().min(1).max(100), minimumOrder: amount("minimumOrder").nullish().transform((v) => v ?? null), validityDays: wholeDays("validityDays", 1, 365).default(30) }).strict(),
  z.object({ kind: z.literal("fixed_amount"), value: amount("value"), minimumOrder: amount("minimumOrder").nullish().transform((v) => v ?? null), validityDays: wholeDays("validityDays", 1, 365).default(30) }).strict(),
  z.object({ kind: z.literal("free_shipping"), value: z.null().default(null), minimumOrder: amount("minimumOrder").nullish().transform((v) => v ?? null), validityDays: wholeDays("validityDays", 1, 365).default(30) }).strict(),
]);
export type AutomationDiscount = z.output<typeof DiscountSchema>;

export const STEP_KINDS = ["add_tag", "remove_tag", "discount_code", "points", "email", "webhook", "flow_trigger", "wait"] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export const StepSchema = z.discriminatedUnion(
  "kind",
  [
    z.object({ kind: z.literal("add_tag"), tag }).strict(),
    z.object({ kind: z.literal("remove_tag"), tag }).strict(),
    z
      .object({
        kind: z.literal("discount_code"),
        discount: DiscountSchema,
        /** The email that carries the code; null: the code is only recorded (the firing log shows it to the merchant). */
        email: z.object(emailText).strict().nullish().transform((v) => v ?? null),
      })
      .strict(),
    z
      .object({
        kind: z.literal("points"),
        /** Positive: award; negative: deduct. */
        points: z.number().int().refine((p) => p !== 0, "points must not be 0").refine((p) => Math.abs(p) <= 1_000_000, "points is at most 1,000,000 either way"),
        reason: z.string().trim().min(1).max(500),
      })
      .strict(),
    z.object({ kind: z.literal("email"), ...emailText }).strict(),
    z.object({ kind: z.literal("webhook"), url: z.url({ protocol: /^https?$/, error: "url must be an http(s) URL" }) }).strict(),
    z
      .object({
        kind: z.literal("flow_trigger"),
        /** One of the app's Flow trigger extensions (app/domain/flow/definitions.ts, decision 058). */
        handle: z
          .string()
          .trim()
          .refine((h) => FLOW_TRIGGER_HANDLES.includes(h), `handle must be one of the app's Flow triggers: ${FLOW_TRIGGER_HANDLES.join(", ")}`),
      })
      .strict(),
    z
      .object({
        kind: z.literal("wait"),
        days: z.number().int().min(0).max(365).default(0),
        minutes: z.number().int().min(0).max(1440).default(0),
        /** Checked when the wait ends (segment language, on the customer then); false ends the firing. */
        until: optionalQuery("wait.until"),
      })
      .strict()
      .refine((w) => w.days > 0 || w.minutes > 0, "a wait must last at least a minute"),
  ],
  { error: `step kind must be one of ${STEP_KINDS.join(", ")}` },
);
export type Step = z.output<typeof StepSchema>;

export const ReentrySchema = z.discriminatedUnion("mode", [
  z.object({ mode: z.literal("once") }).strict(),
  z.object({ mode: z.literal("every_time") }).strict(),
  z.object({ mode: z.literal("once_per"), days: wholeDays("reentry.days", 1, 3650) }).strict(),
]);
export type Reentry = z.output<typeof ReentrySchema>;

export const RuleSchema = z
  .object({
    name: z.string().trim().min(1, "name is required").max(100, "name has at most 100 characters"),
    enabled: z.boolean().default(false),
    trigger: TriggerSchema,
    /** A segment-language expression the customer must match when the rule fires; null: everyone. */
    condition: optionalQuery("condition"),
    steps: z.array(StepSchema).min(1, "a rule needs at least one step").max(MAX_STEPS, `a rule has at most ${MAX_STEPS} steps`),
    reentry: ReentrySchema.default({ mode: "once" }),
  })
  .strict()
  .refine((r) => r.steps.some((s) => s.kind !== "wait"), "a rule needs at least one action (not only waits)")
  .superRefine((r, ctx) => {
    // A Flow trigger carries the fields its extension declares: the moment must have them.
    r.steps.forEach((s, i) => {
      if (s.kind !== "flow_trigger") return;
      const fits = flowTriggerForMoment(r.trigger.kind);
      if (s.handle !== FLOW_TRIGGERS.automationFired.handle && s.handle !== fits)
        ctx.addIssue({
          code: "custom",
          path: ["steps", i, "handle"],
          message: `the Flow trigger ${s.handle} does not fit a ${r.trigger.kind} rule (use ${fits ?? FLOW_TRIGGERS.automationFired.handle}${fits ? ` or ${FLOW_TRIGGERS.automationFired.handle}` : ""})`,
        });
    });
  });
export type Rule = z.output<typeof RuleSchema>;
export type RuleInput = z.input<typeof RuleSchema>;

export function parseRule(input: unknown): { ok: true; rule: Rule } | { ok: false; errors: string[] } {
  const parsed = RuleSchema.safeParse(input);
  if (parsed.success) return { ok: true, rule: parsed.data };
  return { ok: false, errors: parsed.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)) };
}

/** Steps that send the customer a message (counted by the weekly cap). */
export const isMessage = (step: Step) => step.kind === "email" || (step.kind === "discount_code" && step.email !== null);

// ---------------------------------------------------------------- orders

export type OrderFacts = {
  currency: string;
  totalPriceMinor: bigint;
  productTypes: readonly (string | null)[];
  discountCodes: readonly string[];
  /** 1 for the customer's first order (by order time), n for the n-th. */
  nth: number;
  test: boolean;
  cancelled: boolean;
};

/** Whether an order meets an order trigger's conditions (the kind itself is decided by the caller). */
export function orderMatches(trigger: Extract<Trigger, { kind: "order_placed" | "order_paid" }>, order: OrderFacts): boolean {
  if (order.test || order.cancelled) return false;
  if (trigger.minTotal !== null && order.totalPriceMinor < toMinorUnits(trigger.minTotal, order.currency)) return false;
  if (trigger.maxTotal !== null && order.totalPriceMinor > toMinorUnits(trigger.maxTotal, order.currency)) return false;
  if (trigger.productTypes.length > 0) {
    const wanted = new Set(trigger.productTypes.map((t) => t.toLowerCase()));
    if (!order.productTypes.some((t) => t !== null && wanted.has(t.toLowerCase()))) return false;
  }
  if (trigger.discountUsed !== null && trigger.discountUsed !== order.discountCodes.length > 0) return false;
  if (trigger.nthOrder !== null && trigger.nthOrder !== order.nth) return false;
  return true;
}

/** Whether a tier change meets a tier trigger; `rank` orders the program's tiers (higher is better, null: no tier). */
export function tierChangeMatches(trigger: Extract<Trigger, { kind: "tier_changed" }>, change: { from: string | null; to: string | null }, rank: (tier: string | null) => number): boolean {
  if (change.from === change.to) return false;
  if (trigger.toTier !== null && (change.to ?? "").toLowerCase() !== trigger.toTier.toLowerCase()) return false;
  if (trigger.upgradesOnly && rank(change.to) <= rank(change.from)) return false;
  return true;
}

export function scoreMatches(trigger: Extract<Trigger, { kind: "feedback_answered" }>, score: number): boolean {
  return (trigger.minScore === null || score >= trigger.minScore) && (trigger.maxScore === null || score <= trigger.maxScore);
}

// ---------------------------------------------------------------- re-entry and the cap

/**
 * Whether a firing may go on, given when this rule's other firings for the same customer went
 * on (passed their checks).
 */
export function reentryAllows({ reentry, earlier, occurredAt }: { reentry: Reentry; earlier: readonly Date[]; occurredAt: Date }): boolean {
  if (reentry.mode === "every_time") return true;
  if (reentry.mode === "once") return earlier.length === 0;
  // Both ways in time: events can arrive out of order, and a window is a window.
  return !earlier.some((at) => Math.abs(at.getTime() - occurredAt.getTime()) < reentry.days * DAY_MS);
}

export function underMessageCap({ sentThisWeek, perWeek }: { sentThisWeek: number; perWeek: number }): boolean {
  return sentThisWeek < perWeek;
}

/** How long a wait lasts, in ms. */
export const waitMs = (step: Extract<Step, { kind: "wait" }>) => step.days * DAY_MS + step.minutes * 60_000;

/** Keys: one firing per rule and event key; one effect per firing and step (ledger, email outbox, tag outbox, Shopify). */
export const automationKeys = {
  order: (kind: "order_placed" | "order_paid", orderGid: string) => `${kind}:${orderGid}`,
  segmentChange: (changeId: string) => `segment_change:${changeId}`,
  tierChange: (changeId: string) => `tier_change:${changeId}`,
  customerCreated: (customerGid: string) => `customer_created:${customerGid}`,
  feedback: (responseId: string) => `feedback:${responseId}`,
  /** Once per inactivity spell: a new order moves last_order_at and so the key. */
  inactivity: (customerGid: string, lastOrderAt: Date) => `no_order_for:${customerGid}:${lastOrderAt.toISOString()}`,
  /** Once per expiry date: new activity moves the date and so the key. */
  expiry: (customerGid: string, expiresAt: Date) => `points_expiring:${customerGid}:${expiresAt.toISOString()}`,
  /** Once a year: the year of the birthday (in the shop's time zone) is in the key. */
  birthday: (customerGid: string, year: number) => `birthday:${customerGid}:${year}`,
  effect: (firingId: string, step: number) => `automation:${firingId}:${step}`,
};

/** Fills {{first_name}}, {{shop_name}}, {{code}}, {{code_expires}} (unknown names are left as written). */
export function fillTemplate(text: string, values: Record<string, string | null | undefined>): string {
  return text.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (whole, name: string) => {
    const value = values[name];
    return value === undefined ? whole : (value ?? "");
  });
}

/** When the inactivity trigger's moment is: `days` after the last order, at midnight in the shop's time zone of that day. */
export function inactivityDueDay({ lastOrderAt, days, timeZone }: { lastOrderAt: Date; days: number; timeZone: string }): string {
  const local = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(lastOrderAt);
  const due = new Date(Date.parse(`${local}T00:00:00Z`) + days * DAY_MS);
  return due.toISOString().slice(0, 10);
}

/** Today's date (YYYY-MM-DD) in the shop's time zone. */
export function shopDay(now: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
}
