// Loyalty program settings: the zod schema the admin, the CLI and the service validate with,
// and the versions of a program over time. Pure: no I/O, no clock. See docs/loyalty.md.
import { z } from "zod";
import { SyncTagSchema } from "../../shopify/customer-tags";

/** Rates and multipliers are decimals with at most 4 places, computed as integers scaled by 10^4. */
export const DECIMAL_SCALE = 10_000n;

function isFourPlaces(value: number): boolean {
  const scaled = value * 10_000;
  return Math.abs(scaled - Math.round(scaled)) < 1e-6;
}

/** 1.5 -> 15000n (exact for the values the schema accepts). */
export function toScaled(value: number): bigint {
  return BigInt(Math.round(value * 10_000));
}

const decimal = (label: string, max: number) =>
  z
    .number({ error: `${label} must be a number` })
    .min(0, `${label} cannot be negative`)
    .max(max, `${label} is at most ${max}`)
    .refine(isFourPlaces, `${label} has at most 4 decimal places`);

const bonusPoints = (label: string) =>
  z.number({ error: `${label} must be a number of points` }).int(`${label} must be a whole number of points`).min(0, `${label} cannot be negative`).max(1_000_000, `${label} is at most 1,000,000 points`);

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const TierSchema = z
  .object({
    name: z.string().trim().min(1, "a tier needs a name").max(60, "a tier name has at most 60 characters"),
    /** Points earned (metric points_earned) or net spend in minor units of the shop currency (net_spend). */
    threshold: z.number().int("a tier threshold must be a whole number").min(0, "a tier threshold cannot be negative").max(Number.MAX_SAFE_INTEGER),
    /** A namespaced Shopify customer tag the tier's members get (written through the tag outbox). */
    tag: SyncTagSchema.nullable().default(null),
    /** Earn-rate multiplier for the tier's members (VIP earns 2x). */
    multiplier: decimal("a tier multiplier", 10).default(1),
  })
  .strict();

export const TIER_METRICS = ["points_earned", "net_spend"] as const;
export const TIER_WINDOWS = ["lifetime", "rolling_12_months", "calendar_year"] as const;
export type TierMetric = (typeof TIER_METRICS)[number];
export type TierWindow = (typeof TIER_WINDOWS)[number];

export const TiersSchema = z
  .object({
    metric: z.enum(TIER_METRICS, { error: `tiers.metric must be one of ${TIER_METRICS.join(", ")}` }),
    window: z.enum(TIER_WINDOWS, { error: `tiers.window must be one of ${TIER_WINDOWS.join(", ")}` }),
    levels: z.array(TierSchema).min(1, "tiers need at least one level").max(20, "at most 20 tiers"),
  })
  .strict()
  .superRefine((tiers, ctx) => {
    const names = new Set<string>();
    const tags = new Set<string>();
    tiers.levels.forEach((level, index) => {
      const key = level.name.toLowerCase();
      if (names.has(key)) ctx.addIssue({ code: "custom", path: ["levels", index, "name"], message: `tier name "${level.name}" is used twice` });
      names.add(key);
      if (level.tag) {
        const tagKey = level.tag.toLowerCase();
        if (tags.has(tagKey)) ctx.addIssue({ code: "custom", path: ["levels", index, "tag"], message: `tag "${level.tag}" is used by two tiers` });
        tags.add(tagKey);
      }
      const previous = tiers.levels[index - 1];
      if (previous && level.threshold <= previous.threshold) {
        ctx.addIssue({ code: "custom", path: ["levels", index, "threshold"], message: "tier thresholds must increase from one tier to the next" });
      }
    });
  });

// ---------------------------------------------------------------- rewards (redemption)

export const REWARD_KINDS = ["fixed_amount", "percentage", "free_shipping"] as const;
export type RewardKind = (typeof REWARD_KINDS)[number];

/** Money in the shop currency as a decimal string ("5", "5.00", "12.50"): at most 3 decimal places, more than 0. */
const MONEY_TEXT = /^\d{1,9}(?:\.\d{1,3})?$/;
const money = (field: string) =>
  z
    .string({ error: `${field} must be an amount as a decimal string, such as "5.00"` })
    .trim()
    .superRefine((text, ctx) => {
      if (!MONEY_TEXT.test(text)) ctx.addIssue({ code: "custom", message: `${field} must be an amount as a decimal string, such as "5.00" (at most 3 decimal places)` });
      else if (Number(text) <= 0) ctx.addIssue({ code: "custom", message: `${field} must be more than 0` });
    });

const rewardCommon = {
  /** Stable id (kept when the reward is renamed or repriced): redemptions refer to it. */
  id: z
    .string({ error: "id is required" })
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "id must be 1-64 letters, digits, - or _ (starting with a letter or digit)"),
  name: z.string({ error: "name is required" }).trim().min(1, "name is required").max(100, "name has at most 100 characters"),
  /** Points the customer spends for one code. */
  pointsCost: z
    .number({ error: "pointsCost must be a number of points" })
    .int("pointsCost must be a whole number of points")
    .min(1, "pointsCost must be at least 1 point")
    .max(10_000_000, "pointsCost is at most 10,000,000 points"),
  /** The order subtotal the code needs (shop currency), or null for none. */
  minimumOrder: money("minimumOrder").nullable().default(null),
  /** Days the issued code stays valid. */
  validityDays: z
    .number({ error: "validityDays must be a number of days" })
    .int("validityDays must be a whole number of days")
    .min(1, "validityDays must be at least 1 day")
    .max(365, "validityDays is at most 365 days")
    .default(30),
};

export const RewardSchema = z.discriminatedUnion(
  "kind",
  [
    z.object({ ...rewardCommon, kind: z.literal("fixed_amount"), /** Amount off the order, shop currency. */ value: money("value") }).strict(),
    z
      .object({
        ...rewardCommon,
        kind: z.literal("percentage"),
        /** Percent off the order, 1-100 (at most 2 decimal places). */
        value: z
          .number({ error: "value must be a percentage from 1 to 100" })
          .min(1, "value must be a percentage from 1 to 100")
          .max(100, "value must be a percentage from 1 to 100")
          .refine((v) => Math.abs(v * 100 - Math.round(v * 100)) < 1e-6, "value has at most 2 decimal places"),
      })
      .strict(),
    z.object({ ...rewardCommon, kind: z.literal("free_shipping"), value: z.null({ error: "value must be null for a free shipping reward" }).default(null) }).strict(),
  ],
  { error: `kind must be one of ${REWARD_KINDS.join(", ")}` },
);

export type Reward = z.output<typeof RewardSchema>;
export type RewardInput = z.input<typeof RewardSchema>;

export const NEGATIVE_BALANCE_POLICIES = ["allow", "pending_first", "never"] as const;
export type NegativeBalancePolicy = (typeof NEGATIVE_BALANCE_POLICIES)[number];

export const LoyaltyProgramSettingsSchema = z
  .object({
    /** A disabled program earns nothing for orders placed while it is disabled; reversals still apply. */
    enabled: z.boolean().default(true),
    /** The shop's time zone: birthdays and the calendar-year tier window. */
    timeZone: z.string().default("UTC").refine(isTimeZone, "timeZone must be an IANA time zone such as America/New_York"),
    earn: z
      .object({
        /** Points per one unit of the shop currency (1 = one point per dollar). */
        pointsPerUnit: decimal("earn.pointsPerUnit", 1000),
        /** net_merchandise: line prices after discounts, without shipping, tax, tips or gift cards; gross_merchandise: before discounts. */
        basis: z.enum(["net_merchandise", "gross_merchandise"]).default("net_merchandise"),
        /** Applied once per order to its total points: floor (default) or nearest (half up). */
        rounding: z.enum(["floor", "nearest"]).default("floor"),
        /** paid: when Shopify reports the order paid (financial status paid, partially or fully refunded); placed: at once. */
        on: z.enum(["paid", "placed"]).default("paid"),
      })
      .strict(),
    /**
     * After a history import: award points for the imported orders placed in the last this many
     * days (0, the default: no retroactive points). Same ledger keys as live earning, so an
     * order earns once however it arrives (docs/loyalty.md "Retroactive points").
     */
    retroactiveDays: z.number().int("retroactiveDays must be a whole number of days").min(0, "retroactiveDays must be 0 or more").max(365, "retroactiveDays must be at most 365").default(0),
    /** Days an order's points stay pending (the return window) before they can be spent. */
    pendingDays: z.number().int("pendingDays must be a whole number of days").min(0).max(365).default(14),
    /** Points expire after this many days without activity (an order, a redemption, a bonus the customer earned); null: never. */
    expiry: z
      .object({ inactivityDays: z.number().int("expiry.inactivityDays must be a whole number of days").min(1).max(3650) })
      .strict()
      .nullable()
      .default(null),
    bonuses: z
      .object({
        firstOrder: bonusPoints("bonuses.firstOrder").default(0),
        birthday: bonusPoints("bonuses.birthday").default(0),
        signup: bonusPoints("bonuses.signup").default(0),
        feedback: bonusPoints("bonuses.feedback").default(0),
      })
      .strict()
      .default({ firstOrder: 0, birthday: 0, signup: 0, feedback: 0 }),
    /** Earn-rate multipliers for members of a segment (by segment id); the highest multiplier that applies wins. */
    segmentMultipliers: z
      .array(z.object({ segmentId: z.string().regex(/^\d+$/, "segmentId must be a segment id"), multiplier: decimal("a segment multiplier", 10) }).strict())
      .max(50)
      .default([]),
    tiers: TiersSchema.nullable().default(null),
    /**
     * When a reversal finds the points already spent: allow (the balance goes negative),
     * pending_first (take the shortfall from pending points first, then go negative),
     * never (take it from pending points; forgive what is still missing).
     */
    negativeBalance: z.enum(NEGATIVE_BALANCE_POLICIES).default("pending_first"),
    /** The rewards catalogue: what points buy (each redemption issues a single-use Shopify discount code). */
    rewards: z
      .array(RewardSchema)
      .max(100, "rewards: at most 100 rewards")
      .default([])
      .superRefine((rewards, ctx) => {
        const ids = new Set<string>();
        rewards.forEach((reward, index) => {
          const key = reward.id.toLowerCase();
          if (ids.has(key)) ctx.addIssue({ code: "custom", path: [index, "id"], message: `id "${reward.id}" is used by two rewards` });
          ids.add(key);
        });
      }),
  })
  .strict();

export type LoyaltyProgramSettings = z.output<typeof LoyaltyProgramSettingsSchema>;
export type LoyaltyProgramSettingsInput = z.input<typeof LoyaltyProgramSettingsSchema>;
export type TierDefinition = z.output<typeof TierSchema>;

export type ProgramVersion = { version: number; effectiveFrom: Date; settings: LoyaltyProgramSettings };

export type SettingsParseResult = { ok: true; settings: LoyaltyProgramSettings } | { ok: false; errors: { path: string; message: string }[] };

/** Validates settings from the admin, the CLI or a stored row; errors name the field. */
export function parseProgramSettings(input: unknown): SettingsParseResult {
  const parsed = LoyaltyProgramSettingsSchema.safeParse(input);
  if (parsed.success) return { ok: true, settings: parsed.data };
  return { ok: false, errors: parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })) };
}

/** The version in force at `at`: the last one that took effect at or before it (null before the first). */
export function programInForce({ versions, at }: { versions: readonly ProgramVersion[]; at: Date }): ProgramVersion | null {
  let found: ProgramVersion | null = null;
  for (const candidate of versions) {
    if (candidate.effectiveFrom.getTime() > at.getTime()) continue;
    if (!found || candidate.effectiveFrom.getTime() > found.effectiveFrom.getTime() || (candidate.effectiveFrom.getTime() === found.effectiveFrom.getTime() && candidate.version > found.version)) {
      found = candidate;
    }
  }
  return found;
}

/** The newest version (the program in force now, for reversal policy and tiers). */
export function latestVersion(versions: readonly ProgramVersion[]): ProgramVersion | null {
  return versions.reduce<ProgramVersion | null>((latest, v) => (!latest || v.version > latest.version ? v : latest), null);
}
