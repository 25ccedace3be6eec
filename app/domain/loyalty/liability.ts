// What a point is worth in money, and the program's outstanding liability (pure; see
// docs/decisions/023-loyalty-admin-ui.md). A point's value comes from the rewards catalogue:
// the best rate a fixed-amount reward offers (amount off / points cost), because that is the
// most a customer can turn a point into, so the liability is never understated. Percentage
// and free-shipping rewards have no fixed value (it depends on the order) and do not count.
// Exact: amounts are integer minor units, rates are kept as fractions, rounding happens once.
import { toMinorUnits } from "../money";
import type { Reward } from "./program";

/** `minor` minor units of the shop currency buy `points` points' worth: the reward that sets it. */
export type PointValue = { minor: bigint; points: bigint; rewardId: string; rewardName: string };

/** The best rate among fixed-amount rewards, or null when the catalogue has none. */
export function pointValueFromRewards(rewards: readonly Reward[], currency: string): PointValue | null {
  let best: PointValue | null = null;
  for (const reward of rewards) {
    if (reward.kind !== "fixed_amount") continue;
    const candidate: PointValue = { minor: toMinorUnits(reward.value, currency), points: BigInt(reward.pointsCost), rewardId: reward.id, rewardName: reward.name };
    // candidate.minor / candidate.points > best.minor / best.points, compared without division.
    if (!best || candidate.minor * best.points > best.minor * candidate.points) best = candidate;
  }
  return best;
}

/** The money value of `points` (>= 0) at `value`, in minor units, rounded half up once. */
export function liabilityMinor(points: bigint, value: Pick<PointValue, "minor" | "points">): bigint {
  if (points < 0n) throw new RangeError("liability is computed on a non-negative number of points");
  return (points * value.minor * 2n + value.points) / (2n * value.points);
}
