// What the storefront block shows and does through the app proxy: the signed-in customer's
// points (spendable and pending), tier and progress to the next one, the rewards with whether
// each is affordable, and redeeming one. The routes (app/routes/proxy.loyalty*.tsx) have
// already authenticated the request (app/shopify/app-proxy.server.ts); the customer comes
// from the signed logged_in_customer_id only. LoyaltyError kinds are mapped to HTTP here.
import { getPool, type Queryable } from "../../db.server";
import { formatMinorUnits } from "../../domain/money";
import type { TierMetric, TierWindow } from "../../domain/loyalty/program";
import type { AffordableReward, Redemption } from "../../domain/loyalty/rewards";
import { buildTierProgress } from "../../domain/loyalty/tier-progress";
import { tierWindowStart } from "../../domain/loyalty/tiers";
import { logger } from "../../logger.server";
import { proxyError } from "../../shopify/app-proxy.server";
import { getBalance } from "./balance.server";
import { LoyaltyError } from "./errors";
import { getProgram } from "./program.server";
import { affordableRewards, redeemReward } from "./rewards.server";
import { netSpend, pointsEarned } from "./tiers.server";

/** An amount the block shows: points, or money as a decimal string in `currency`. */
export type StorefrontAmount = { unit: "points"; points: number } | { unit: "money"; amount: string; currency: string | null };

export type StorefrontTier = {
  metric: TierMetric;
  window: TierWindow;
  current: string | null;
  value: StorefrontAmount;
  /** The next tier and what is left to reach it; null at the top. */
  next: { name: string; remaining: StorefrontAmount } | null;
  /** 0..1000 between the current tier's threshold and the next one. */
  permille: number;
};

export type StorefrontReward = {
  id: string;
  name: string;
  kind: AffordableReward["kind"];
  /** fixed_amount: money off (decimal string); percentage: percent off; free_shipping: null. */
  value: string | number | null;
  minimumOrder: string | null;
  pointsCost: number;
  affordable: boolean;
};

export type StorefrontLoyalty = {
  /** Spendable points now. */
  balance: number;
  /** Points still in their return window. */
  pending: number;
  /** The shop currency (money amounts are in it); null when not known yet. */
  currency: string | null;
  /** null when the program has no tiers. */
  tier: StorefrontTier | null;
  rewards: StorefrontReward[];
};

export type StorefrontRedemption = {
  id: string;
  rewardId: string;
  points: number;
  code: string;
  expiresAt: string | null;
};

async function shopCurrency(db: Queryable, shop: string, customerGid: string): Promise<string | null> {
  const { rows } = await db.query<{ currency: string | null }>({
    name: "storefront-shop-currency",
    text: `SELECT COALESCE(
              (SELECT "currencyCode" FROM shops WHERE domain = $1),
              (SELECT currency FROM orders WHERE shop = $1 AND customer_gid = $2 ORDER BY shopify_created_at DESC LIMIT 1),
              (SELECT currency FROM orders WHERE shop = $1 ORDER BY shopify_created_at DESC LIMIT 1)) AS currency`,
    values: [shop, customerGid],
  });
  return rows[0]?.currency ?? null;
}

function amountOf(metric: TierMetric, value: bigint, currency: string | null): StorefrontAmount {
  if (metric === "points_earned") return { unit: "points", points: Number(value) };
  // Net spend comes from orders, which carry the currency; with none stored the value is 0.
  return { unit: "money", amount: formatMinorUnits(value, currency ?? "USD"), currency };
}

function storefrontReward(reward: AffordableReward): StorefrontReward {
  return {
    id: reward.id,
    name: reward.name,
    kind: reward.kind,
    value: reward.value,
    minimumOrder: reward.minimumOrder,
    pointsCost: reward.pointsCost,
    affordable: reward.affordable,
  };
}

/** Throws the JSON 404 the block reads as "no program" when the shop has none. */
async function requireProgram(shop: string, db: Queryable) {
  const program = await getProgram(shop, db);
  if (!program) throw proxyError(404, "no_program", "this store has no loyalty program");
  return program;
}

/**
 * The block's state for the signed-in customer at `now`. A customer the CRM has not stored
 * yet (an account created seconds ago) has 0 points and affords nothing.
 */
export async function getStorefrontLoyalty({ shop, customerGid, now = new Date(), db = getPool() }: { shop: string; customerGid: string; now?: Date; db?: Queryable }): Promise<StorefrontLoyalty> {
  const program = await requireProgram(shop, db);
  const { settings } = program;
  let balance = { balance: 0, pending: 0, tier: null as string | null };
  try {
    balance = await getBalance(shop, customerGid, now, db);
  } catch (error) {
    if (!(error instanceof LoyaltyError && error.kind === "not_found")) throw error;
  }
  // Rewards of the program in force ([] while it is disabled); an unknown customer affords none.
  const { rewards } = await affordableRewards(shop, customerGid, now);
  const currency = await shopCurrency(db, shop, customerGid);

  let tier: StorefrontTier | null = null;
  if (settings.tiers) {
    const { metric, window, levels } = settings.tiers;
    const start = tierWindowStart({ window, timeZone: settings.timeZone, now });
    const values = metric === "points_earned" ? await pointsEarned(db, shop, [customerGid], start, now) : await netSpend(db, shop, [customerGid], start, now);
    const progress = buildTierProgress({ levels, metric, value: values.get(customerGid) ?? 0n, recordedTier: balance.tier });
    tier = {
      metric,
      window,
      current: progress.current,
      value: amountOf(metric, progress.value, currency),
      next: progress.next ? { name: progress.next.name, remaining: amountOf(metric, progress.next.remaining, currency) } : null,
      permille: progress.permille,
    };
  }
  return { balance: balance.balance, pending: balance.pending, currency, tier, rewards: rewards.map(storefrontReward) };
}

/**
 * Redeems one reward for the signed-in customer. `requestKey` (the block sends a fresh one
 * per click) makes a retried request return the same redemption instead of spending twice.
 * Returns the issued code with the customer's state after it, or throws a JSON error:
 * 400 unknown_reward / invalid_request (e.g. the program is disabled), 404 no_program /
 * unknown_customer, 409 not_enough_points, 502 redemption_failed (Shopify refused the code:
 * the points were given back), 503 redemption_pending (Shopify unreachable: the points are
 * held until recovery settles it).
 */
export async function redeemForStorefront({
  shop,
  customerGid,
  rewardId,
  requestKey,
  now,
}: {
  shop: string;
  customerGid: string;
  rewardId: string;
  requestKey?: string;
  now?: Date;
}): Promise<{ redemption: StorefrontRedemption; loyalty: StorefrontLoyalty }> {
  await requireProgram(shop, getPool());
  let redemption: Redemption;
  try {
    redemption = await redeemReward({ shop, customerGid, rewardId, requestKey, now });
  } catch (error) {
    throw storefrontErrorFor(error);
  }
  if (redemption.status !== "issued" || !redemption.code) {
    logger.warn({ shop, redemptionId: redemption.id, reason: redemption.failureReason }, "storefront.redemption_failed");
    throw proxyError(502, "redemption_failed", "the discount code could not be created; your points were not spent. Please try again later");
  }
  return {
    redemption: {
      id: redemption.id,
      rewardId: redemption.rewardId,
      points: redemption.points,
      code: redemption.code,
      expiresAt: redemption.expiresAt ? redemption.expiresAt.toISOString() : null,
    },
    loyalty: await getStorefrontLoyalty({ shop, customerGid, now }),
  };
}

/** LoyaltyError -> the block's JSON error (anything else is rethrown: a 500 the logs show). */
export function storefrontErrorFor(error: unknown): Response {
  if (!(error instanceof LoyaltyError)) throw error;
  switch (error.kind) {
    case "conflict":
      return proxyError(409, /not enough points/i.test(error.message) ? "not_enough_points" : "conflict", error.message);
    case "not_found":
      return proxyError(404, "unknown_customer", error.message);
    case "unavailable":
      return proxyError(503, "redemption_pending", error.message);
    case "invalid":
      return proxyError(400, /unknown reward/i.test(error.message) ? "unknown_reward" : "invalid_request", error.message);
  }
}
