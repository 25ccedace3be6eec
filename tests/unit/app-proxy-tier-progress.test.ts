// Progress to the next tier as the storefront block shows it (app/domain/loyalty/tier-progress.ts):
// table-driven, no I/O.
import { describe, expect, it } from "vitest";
import { buildTierProgress } from "../../app/domain/loyalty/tier-progress";
import type { TierDefinition } from "../../app/domain/loyalty/program";

const level = (name: string, threshold: number): TierDefinition => ({ name, threshold, tag: null, multiplier: 1 });
const ladder = [level("Member", 0), level("Silver", 500), level("Gold", 1000)];
const fromBronze = [level("Bronze", 100), level("Silver", 500)];

describe("buildTierProgress", () => {
  const cases: {
    name: string;
    levels: TierDefinition[];
    value: number;
    recorded: string | null;
    current: string | null;
    next: [string, number, number] | null;
    permille: number;
  }[] = [
    { name: "no points yet, first tier at 0", levels: ladder, value: 0, recorded: null, current: "Member", next: ["Silver", 500, 500], permille: 0 },
    { name: "half way from Member to Silver", levels: ladder, value: 250, recorded: "Member", current: "Member", next: ["Silver", 500, 250], permille: 500 },
    { name: "one point short of Silver", levels: ladder, value: 499, recorded: "Member", current: "Member", next: ["Silver", 500, 1], permille: 998 },
    { name: "exactly at Silver", levels: ladder, value: 500, recorded: "Silver", current: "Silver", next: ["Gold", 1000, 500], permille: 0 },
    { name: "Silver, a third of the way to Gold (floored)", levels: ladder, value: 666, recorded: "Silver", current: "Silver", next: ["Gold", 1000, 334], permille: 332 },
    { name: "top tier", levels: ladder, value: 4000, recorded: "Gold", current: "Gold", next: null, permille: 1000 },
    { name: "recorded tier lags behind: the value passed Silver, not re-evaluated yet", levels: ladder, value: 620, recorded: "Member", current: "Member", next: ["Silver", 500, 0], permille: 1000 },
    { name: "recorded tier above the value (a refund, tier not re-evaluated yet)", levels: ladder, value: 300, recorded: "Silver", current: "Silver", next: ["Gold", 1000, 700], permille: 0 },
    { name: "recorded tier no longer in the program: the value decides", levels: ladder, value: 700, recorded: "Platinum", current: "Silver", next: ["Gold", 1000, 300], permille: 400 },
    { name: "below the first tier: progress from 0 to it", levels: fromBronze, value: 40, recorded: null, current: null, next: ["Bronze", 100, 60], permille: 400 },
    { name: "negative value (reversals) counts as no progress", levels: fromBronze, value: -20, recorded: null, current: null, next: ["Bronze", 100, 120], permille: 0 },
    { name: "net spend in minor units: 2,500.00 of a 100,000.00 threshold", levels: [level("Member", 0), level("VIP", 100_000_00)], value: 2_500_00, recorded: "Member", current: "Member", next: ["VIP", 100_000_00, 97_500_00], permille: 25 },
  ];

  it.each(cases)("$name", ({ levels, value, recorded, current, next, permille }) => {
    const progress = buildTierProgress({ levels, metric: "points_earned", value: BigInt(value), recordedTier: recorded });
    expect(progress.current).toBe(current);
    expect(progress.value).toBe(BigInt(value));
    expect(progress.next ? [progress.next.name, Number(progress.next.threshold), Number(progress.next.remaining)] : null).toEqual(next);
    expect(progress.permille).toBe(permille);
  });

  it("keeps the metric it was given", () => {
    expect(buildTierProgress({ levels: ladder, metric: "net_spend", value: 0n, recordedTier: null }).metric).toBe("net_spend");
  });
});
