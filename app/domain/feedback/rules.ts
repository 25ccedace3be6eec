// Feedback rules: which orders get a feedback request, when, and with how many reminders.
// Pure: parsing (zod) of the rules file (docs/feedback.md "Rules file"), and the decisions the
// scheduler takes from an order's stored state. No I/O and no clock: `now` is passed in.
import { z } from "zod";
import { checkSegment } from "../segments/check";
import { parseSegment } from "../segments/parser";
import { toMinorUnits } from "../money";

export const FEEDBACK_TRIGGERS = ["order_paid", "order_fulfilled"] as const;
export type FeedbackTrigger = (typeof FEEDBACK_TRIGGERS)[number];

export const MAX_DELAY_DAYS = 60;
export const MAX_REMINDERS = 3;
export const DEFAULT_LINK_EXPIRY_DAYS = 180;
export const MAX_RULES_PER_SHOP = 20;
const DAY_MS = 86_400_000;

const days = (max: number, what: string) =>
  z
    .number({ message: `${what} must be a number of days` })
    .int(`${what} must be a whole number of days`)
    .min(0, `${what} must be between 0 and ${max} days`)
    .max(max, `${what} must be between 0 and ${max} days`);

const productType = z.string().trim().min(1, "a product type must not be empty").max(255);

const segmentQuery = z
  .string()
  .max(10_000, "segment must be at most 10000 characters")
  .superRefine((text, ctx) => {
    const parsed = parseSegment(text);
    if (!parsed.ok) {
      ctx.addIssue({ code: "custom", message: `segment: ${parsed.error.message}` });
      return;
    }
    for (const error of checkSegment({ ast: parsed.ast })) ctx.addIssue({ code: "custom", message: `segment: ${error.message}` });
  });

const decimalAmount = z
  .string()
  .regex(/^\d+(\.\d+)?$/, 'minimumTotal must be a decimal amount in the shop currency, e.g. "50.00"');

export const FeedbackRuleSchema = z
  .object({
    name: z.string().trim().min(1, "name must not be empty").max(100, "name must be at most 100 characters"),
    enabled: z.boolean().default(true),
    trigger: z.enum(FEEDBACK_TRIGGERS, {
      message: 'trigger must be "order_paid" or "order_fulfilled" (order_delivered: the order webhooks this app receives carry no delivery status, docs/feedback.md)',
    }),
    delayDays: days(MAX_DELAY_DAYS, "delayDays"),
    /** Separate delay for point-of-sale orders (source_name "pos"): the customer already has the goods. */
    posDelayDays: days(MAX_DELAY_DAYS, "posDelayDays").nullish().transform((v) => v ?? null),
    orders: z
      .object({
        /** A segment query (the segment language); the customer must match it at send time. */
        segment: segmentQuery.nullish().transform((v) => (v && v.trim() !== "" ? v : null)),
        minimumTotal: decimalAmount.nullish().transform((v) => v ?? null),
        productTypes: z
          .object({
            include: z.array(productType).max(100).default([]),
            exclude: z.array(productType).max(100).default([]),
          })
          .strict()
          .default({ include: [], exclude: [] }),
      })
      .strict()
      .default({ segment: null, minimumTotal: null, productTypes: { include: [], exclude: [] } }),
    reminders: z
      .object({
        count: z.number().int("reminders.count must be a whole number").min(0).max(MAX_REMINDERS, `reminders.count must be between 0 and ${MAX_REMINDERS}`),
        spacingDays: z.number().int("reminders.spacingDays must be a whole number").min(1, "reminders.spacingDays must be between 1 and 30").max(30, "reminders.spacingDays must be between 1 and 30"),
      })
      .strict()
      .default({ count: 0, spacingDays: 3 }),
    linkExpiryDays: z.number().int().min(1, "linkExpiryDays must be between 1 and 365").max(365, "linkExpiryDays must be between 1 and 365").default(DEFAULT_LINK_EXPIRY_DAYS),
  })
  .strict();

export type FeedbackRule = z.output<typeof FeedbackRuleSchema>;

export const FeedbackSettingsSchema = z
  .object({
    /** Add the customer tag `crm:feedback-negative` when a case opens. */
    tagNegative: z.boolean().default(false),
    /** Email the shop's staff alert address when a case opens. */
    staffAlert: z.boolean().default(false),
  })
  .strict();
export type FeedbackSettings = z.output<typeof FeedbackSettingsSchema>;

export const FeedbackRulesFileSchema = z
  .object({
    settings: FeedbackSettingsSchema.default({ tagNegative: false, staffAlert: false }),
    rules: z.array(FeedbackRuleSchema).max(MAX_RULES_PER_SHOP, `at most ${MAX_RULES_PER_SHOP} rules per shop`),
  })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.rules.forEach((rule, i) => {
      if (seen.has(rule.name)) ctx.addIssue({ code: "custom", path: ["rules", i, "name"], message: `rule name "${rule.name}" is used twice` });
      seen.add(rule.name);
    });
  });
export type FeedbackRulesFile = z.output<typeof FeedbackRulesFileSchema>;

export type ParseRulesResult = { ok: true; file: FeedbackRulesFile } | { ok: false; errors: string[] };

/** Parses a rules file (already JSON-decoded). Errors name their path: `rules.0.delayDays: ...`. */
export function parseFeedbackRules(input: unknown): ParseRulesResult {
  const parsed = FeedbackRulesFileSchema.safeParse(input);
  if (parsed.success) return { ok: true, file: parsed.data };
  return { ok: false, errors: parsed.error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message)) };
}

/** A stored rule definition (written by parseFeedbackRules): parsed again, so defaults added later apply. */
export function readStoredRule(definition: unknown): FeedbackRule {
  return FeedbackRuleSchema.parse(definition);
}

// ---- decisions ----

/** What the rules look at in an order (the stored order, not the webhook payload). */
export type FeedbackOrder = {
  gid: string;
  customerGid: string | null;
  currency: string;
  totalPriceMinor: bigint;
  refundedMinor: bigint;
  financialStatus: string | null;
  fulfillmentStatus: string | null;
  cancelledAt: Date | null;
  test: boolean;
  sourceName: string | null;
};

export type FeedbackLine = { productGid: string | null; productType: string | null; giftCard: boolean };

const PAID_STATUSES = new Set(["paid", "partially_refunded", "refunded"]);

/** Whether the order is in the state the trigger waits for. */
export function triggerReached(trigger: FeedbackTrigger, order: Pick<FeedbackOrder, "financialStatus" | "fulfillmentStatus">): boolean {
  switch (trigger) {
    case "order_paid":
      return order.financialStatus !== null && PAID_STATUSES.has(order.financialStatus);
    case "order_fulfilled":
      return order.fulfillmentStatus === "fulfilled";
  }
}

export const isPosOrder = (order: Pick<FeedbackOrder, "sourceName">) => order.sourceName === "pos";

/** The delay that applies to an order (the POS delay for POS orders when the rule has one). */
export function delayDaysFor(rule: FeedbackRule, order: Pick<FeedbackOrder, "sourceName">): number {
  return isPosOrder(order) && rule.posDelayDays !== null ? rule.posDelayDays : rule.delayDays;
}

export const sendAtFor = (rule: FeedbackRule, order: Pick<FeedbackOrder, "sourceName">, triggeredAt: Date) => new Date(triggeredAt.getTime() + delayDaysFor(rule, order) * DAY_MS);

/**
 * Whether an order event schedules a request for this rule: the rule is enabled, the trigger
 * is reached, and the order is neither a test nor cancelled. Everything else (refunds, the
 * minimum total, product types, the segment, an email address) is checked at send time, so a
 * rule or order change before then counts.
 */
export function shouldSchedule({ rule, order }: { rule: FeedbackRule; order: FeedbackOrder }): boolean {
  return rule.enabled && !order.test && order.cancelledAt === null && order.customerGid !== null && triggerReached(rule.trigger, order);
}

export const SKIP_REASONS = [
  "rule_removed",
  "rule_disabled",
  "test_order",
  "cancelled",
  "refunded",
  "below_minimum",
  "no_products",
  "not_in_segment",
  "no_customer",
  "no_email",
  "capped",
  "unsubscribed",
  "bounced",
  "redacted",
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export type SendCheck = { ok: true; productGids: string[] } | { ok: false; reason: SkipReason };

const normalise = (type: string) => type.trim().toLowerCase();

/** The products a request asks about: one per product, excluded types left out. */
export function productsToRate(rule: FeedbackRule, lines: readonly FeedbackLine[]): string[] {
  const exclude = new Set(rule.orders.productTypes.exclude.map(normalise));
  const include = new Set(rule.orders.productTypes.include.map(normalise));
  const kept = new Set<string>();
  let includedSeen = include.size === 0;
  for (const line of lines) {
    if (line.giftCard || line.productGid === null) continue;
    const type = normalise(line.productType ?? "");
    if (exclude.has(type)) continue;
    if (include.has(type)) includedSeen = true;
    kept.add(line.productGid);
  }
  return includedSeen ? [...kept].sort() : [];
}

/**
 * The send-time check, everything but the segment and the email channel's own refusals
 * (suppression, frequency cap), which the caller asks the database about.
 */
export function checkBeforeSend({ rule, order, lines }: { rule: FeedbackRule; order: FeedbackOrder; lines: readonly FeedbackLine[] }): SendCheck {
  if (!rule.enabled) return { ok: false, reason: "rule_disabled" };
  if (order.test) return { ok: false, reason: "test_order" };
  if (order.cancelledAt !== null) return { ok: false, reason: "cancelled" };
  if (order.financialStatus === "refunded" || (order.totalPriceMinor > 0n && order.refundedMinor >= order.totalPriceMinor)) return { ok: false, reason: "refunded" };
  if (order.customerGid === null) return { ok: false, reason: "no_customer" };
  if (rule.orders.minimumTotal !== null && order.totalPriceMinor < toMinorUnits(rule.orders.minimumTotal, order.currency)) return { ok: false, reason: "below_minimum" };
  const productGids = productsToRate(rule, lines);
  const typesFiltered = rule.orders.productTypes.include.length > 0 || rule.orders.productTypes.exclude.length > 0;
  if (typesFiltered && productGids.length === 0) return { ok: false, reason: "no_products" };
  return { ok: true, productGids };
}

/** When reminder number `sent + 1` is due (null when the rule sends no more). Spaced from the first send. */
export function nextReminderAt({ rule, sentAt, remindersSent }: { rule: FeedbackRule; sentAt: Date; remindersSent: number }): Date | null {
  if (remindersSent >= rule.reminders.count) return null;
  return new Date(sentAt.getTime() + (remindersSent + 1) * rule.reminders.spacingDays * DAY_MS);
}

export const linkExpiresAt = (rule: FeedbackRule, sentAt: Date) => new Date(sentAt.getTime() + rule.linkExpiryDays * DAY_MS);

// ---- answers ----

export type NpsGroup = "promoter" | "passive" | "detractor";
export const npsGroup = (nps: number): NpsGroup => (nps >= 9 ? "promoter" : nps >= 7 ? "passive" : "detractor");

/** NPS = % promoters - % detractors, rounded to one decimal; null without answers. */
export function netPromoterScore(counts: { promoters: number; passives: number; detractors: number }): number | null {
  const total = counts.promoters + counts.passives + counts.detractors;
  if (total === 0) return null;
  return Math.round(((counts.promoters - counts.detractors) / total) * 1000) / 10;
}

export type CaseReason = "detractor" | "low_rating" | "negative_text";

/**
 * Why an answer opens a service-recovery case (empty: it does not). Text counts when the
 * analyser labels it negative (score <= -0.15): measured at about 9 in 10 flagged texts
 * really negative on unseen text, and a stricter threshold buys little precision for much
 * less recall (docs/feedback-sentiment.md, "Negative text as a case trigger").
 */
export function caseReasons({ nps, ratings, sentiment }: { nps: number; ratings: readonly number[]; sentiment: { label: string; score: number } | null }): CaseReason[] {
  const reasons: CaseReason[] = [];
  if (nps <= 6) reasons.push("detractor");
  if (ratings.some((r) => r <= 2)) reasons.push("low_rating");
  if (sentiment && sentiment.label === "negative") reasons.push("negative_text");
  return reasons;
}
