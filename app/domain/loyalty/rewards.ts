// Rewards and redemption as data: which rewards a balance affords, the single-use discount
// code (its text, its validity window, its title), the Shopify discount input a reward becomes
// and how Shopify's answer is read. Pure: no I/O, no clock, no randomness of its own (the
// random bytes and `now` are arguments). See docs/loyalty.md, "Rewards and redemption".
import type { Reward } from "./program";

export type { Reward } from "./program";

export type RedemptionStatus = "pending" | "issued" | "failed";

/**
 * A redemption as the app proxy, the admin and the CLI see it. `redeemReward` only ever returns
 * issued or failed; `listRedemptions` can also show pending (Shopify's answer not recorded yet:
 * the points are held, recovery settles it).
 */
export type Redemption = {
  id: string;
  status: RedemptionStatus;
  rewardId: string;
  /** Points the redemption cost (given back when it failed). */
  points: number;
  /** The discount code, once issued. */
  code: string | null;
  /** When the code stops working (null unless issued). */
  expiresAt: Date | null;
  failureReason: string | null;
};

export type AffordableReward = Reward & { affordable: boolean };

/** The catalogue with whether the spendable balance covers each reward (pending points are not spendable). */
export function markAffordable({ rewards, balance }: { rewards: readonly Reward[]; balance: number }): AffordableReward[] {
  return rewards.map((reward) => ({ ...reward, affordable: balance >= reward.pointsCost }));
}

// ---------------------------------------------------------------- the code

/** 32 characters that cannot be confused when read aloud or retyped: no 0/O, no 1/I. */
export const CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
export const CODE_PREFIX = "PTS";
/** Random characters per code: 12 x 5 bits = 60 bits, never guessed in practice. */
export const CODE_RANDOM_CHARS = 12;

/** "PTS-7Q2K-9XMB-4HRT" from 12 random bytes (each byte's low 5 bits: the alphabet has 32 letters, so no bias). */
export function buildDiscountCode(randomBytes: Uint8Array): string {
  if (randomBytes.length < CODE_RANDOM_CHARS) throw new RangeError(`a discount code needs ${CODE_RANDOM_CHARS} random bytes`);
  const chars = Array.from(randomBytes.subarray(0, CODE_RANDOM_CHARS), (b) => CODE_ALPHABET[b & 31]!);
  const groups = [chars.slice(0, 4), chars.slice(4, 8), chars.slice(8, 12)].map((g) => g.join(""));
  return [CODE_PREFIX, ...groups].join("-");
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/** The code's validity window: from `now` (whole seconds, as Shopify stores it) for the reward's validityDays. */
export function codeWindow({ reward, now }: { reward: Pick<Reward, "validityDays">; now: Date }): { startsAt: Date; endsAt: Date } {
  const startsAt = new Date(Math.floor(now.getTime() / 1000) * 1000);
  return { startsAt, endsAt: new Date(startsAt.getTime() + reward.validityDays * DAY_MS) };
}

/**
 * The discount's title in the Shopify admin. It carries the redemption id, which is how the
 * app recognises a discount it created itself (a retried request, or recovery after a crash).
 */
export function discountTitle({ reward, redemptionId }: { reward: Pick<Reward, "name">; redemptionId: string }): string {
  return `Loyalty reward: ${reward.name.slice(0, 100)} [redemption ${redemptionId}]`;
}

/** Whether a discount with this title was created for this redemption. */
export function isOwnDiscount({ title, redemptionId }: { title: string | null | undefined; redemptionId: string }): boolean {
  return typeof title === "string" && title.endsWith(`[redemption ${redemptionId}]`);
}

// ---------------------------------------------------------------- the Shopify input

export type DiscountMutation = "discountCodeBasicCreate" | "discountCodeFreeShippingCreate";

/**
 * The input of discountCodeBasicCreate (fixed amount, percentage) or
 * discountCodeFreeShippingCreate: a code for one customer (buyer context), usable once,
 * from `startsAt` to `endsAt`, with the reward's minimum subtotal.
 *
 * Combining: an amount or percentage off the order does not stack with other order
 * discounts but combines with product discounts and free shipping; a free shipping code
 * combines with order and product discounts (Shopify refuses shipping + shipping).
 */
export function buildDiscountInput({
  reward,
  customerGid,
  code,
  title,
  startsAt,
  endsAt,
}: {
  reward: Reward;
  customerGid: string;
  code: string;
  title: string;
  startsAt: Date;
  endsAt: Date;
}): { mutation: DiscountMutation; input: Record<string, unknown> } {
  const common = {
    title,
    code,
    startsAt: startsAt.toISOString(),
    endsAt: endsAt.toISOString(),
    context: { customers: { add: [customerGid] } },
    usageLimit: 1,
    appliesOncePerCustomer: true,
    ...(reward.minimumOrder ? { minimumRequirement: { subtotal: { greaterThanOrEqualToSubtotal: reward.minimumOrder } } } : {}),
  };
  if (reward.kind === "free_shipping") {
    return {
      mutation: "discountCodeFreeShippingCreate",
      input: { ...common, destination: { all: true }, combinesWith: { orderDiscounts: true, productDiscounts: true, shippingDiscounts: false } },
    };
  }
  const value = reward.kind === "percentage" ? { percentage: percentageFraction(reward.value) } : { discountAmount: { amount: reward.value, appliesOnEachItem: false } };
  return {
    mutation: "discountCodeBasicCreate",
    input: { ...common, customerGets: { value, items: { all: true } }, combinesWith: { orderDiscounts: false, productDiscounts: true, shippingDiscounts: true } },
  };
}

/** 15 -> 0.15, 12.5 -> 0.125 (Shopify takes 0.0-1.0); computed on integers, so 7 -> 0.07 exactly. */
export function percentageFraction(percent: number): number {
  return Math.round(percent * 100) / 10_000;
}

// ---------------------------------------------------------------- Shopify's answer

export type DiscountUserError = { field: string[] | null; message: string; code?: string | null };

/** "Code must be unique": the code is someone else's (or ours from an earlier attempt: check the title). */
export function isCodeTaken(errors: readonly DiscountUserError[]): boolean {
  return errors.some((e) => e.code === "TAKEN" || /code must be unique/i.test(e.message));
}

/** The reason recorded for a refused discount: each userError as `field: message (CODE)`. */
export function describeUserErrors(errors: readonly DiscountUserError[]): string {
  return errors
    .map((e) => `${e.field?.length ? `${e.field.join(".")}: ` : ""}${e.message}${e.code ? ` (${e.code})` : ""}`)
    .join("; ")
    .slice(0, 1000);
}
