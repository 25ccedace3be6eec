// The loyalty pages' pure parts: display formatting, the money value of a point and the
// liability rounding, and the settings form's conversions (fields <-> form values <->
// settings document) with their error messages. No I/O.
import { describe, expect, it } from "vitest";
import { formatMoney, formatMoneyRatio, ledgerKindLabel, pointsLabel, sharePercent, signedPoints } from "../../app/domain/loyalty/format";
import { liabilityMinor, pointValueFromRewards } from "../../app/domain/loyalty/liability";
import {
  formFields,
  formValuesFromFields,
  formValuesToSettings,
  friendlyMessage,
  mergeErrors,
  newProgramFormValues,
  rewardIdFor,
  settingsToFormValues,
} from "../../app/domain/loyalty/program-form";
import { LoyaltyProgramSettingsSchema, parseProgramSettings, type Reward } from "../../app/domain/loyalty/program";

describe("formatting", () => {
  it.each([
    [0, "0 points", "0"],
    [1, "1 point", "+1"],
    [-1, "−1 point", "−1"],
    [1204, "1,204 points", "+1,204"],
    [-20, "−20 points", "−20"],
  ])("%d points -> %s / %s", (n, label, signed) => {
    expect(pointsLabel(n)).toBe(label);
    expect(signedPoints(n)).toBe(signed);
  });

  it.each([
    [4002n, "USD", "$40.02"],
    [-550n, "USD", "-$5.50"],
    [500n, "JPY", "¥500"],
    [1234n, "KWD", "KWD 1.234"],
  ])("formatMoney(%s %s) = %s", (minor, currency, text) => {
    expect(formatMoney(minor, currency).replace(/\u00a0/g, " ")).toBe(text);
  });

  it.each([
    // value of one point: numerator minor units per denominator points
    [5n, 1n, "USD", "$0.05"],
    [1200n, 200n, "USD", "$0.06"],
    [1000n, 300n, "USD", "$0.0333"], // 3.333... cents, truncated, never shown above its value
    [1n, 3n, "USD", "$0.0033"],
    [100n, 1n, "USD", "$1.00"],
    [1000n, 3n, "JPY", "¥333.33"],
    [1n, 1000n, "USD", "$0.00"], // less than a hundredth of a cent
  ])("formatMoneyRatio(%s / %s %s) = %s", (numerator, denominator, currency, text) => {
    expect(formatMoneyRatio(numerator, denominator, currency)).toBe(text);
  });

  it.each([
    [0, 4, "0%"],
    [1, 4, "25%"],
    [1, 1000, "1%"], // a non-empty group never shows as 0%
    [999, 1000, "99%"], // a partial group never shows as 100%
    [4, 4, "100%"],
    [3, 0, "0%"],
  ])("sharePercent(%d of %d) = %s", (part, whole, text) => {
    expect(sharePercent(part, whole)).toBe(text);
  });

  it("names the ledger's kinds in the merchant's words", () => {
    expect(["earn", "bonus", "reverse", "redeem", "refund_redeem", "expire", "adjust", "other"].map(ledgerKindLabel)).toEqual([
      "Earned",
      "Bonus",
      "Reversed",
      "Redeemed",
      "Redemption refunded",
      "Expired",
      "Adjusted by staff",
      "other",
    ]);
  });
});

describe("the money value of a point", () => {
  const reward = (over: Partial<Reward> & Pick<Reward, "id" | "kind" | "pointsCost">): Reward =>
    ({ name: over.id, value: null, minimumOrder: null, validityDays: 30, ...over }) as Reward;

  it("is the best rate among fixed-amount rewards; percentage and free shipping do not count", () => {
    const rewards = [
      reward({ id: "five", kind: "fixed_amount", value: "5.00", pointsCost: 100 }),
      reward({ id: "twelve", kind: "fixed_amount", value: "12", pointsCost: 200 }),
      reward({ id: "pct", kind: "percentage", value: 50, pointsCost: 1 } as Partial<Reward> & Pick<Reward, "id" | "kind" | "pointsCost">),
      reward({ id: "ship", kind: "free_shipping", pointsCost: 1 }),
    ];
    expect(pointValueFromRewards(rewards, "USD")).toEqual({ minor: 1200n, points: 200n, rewardId: "twelve", rewardName: "twelve" });
    expect(pointValueFromRewards(rewards.slice(2), "USD")).toBeNull();
    expect(pointValueFromRewards([], "USD")).toBeNull();
    // Equal rates: the first one listed stands.
    expect(pointValueFromRewards([reward({ id: "a", kind: "fixed_amount", value: "1", pointsCost: 10 }), reward({ id: "b", kind: "fixed_amount", value: "2", pointsCost: 20 })], "USD")?.rewardId).toBe("a");
  });

  it.each([
    // points, value minor, value points, liability minor
    [667n, 1200n, 200n, 4002n],
    [1n, 500n, 300n, 2n], // 1.666 -> 2
    [1n, 500n, 1000n, 1n], // 0.5 -> 1 (half up)
    [1n, 499n, 1000n, 0n], // 0.499 -> 0
    [0n, 500n, 100n, 0n],
    [10_000_000_000n, 1n, 3n, 3_333_333_333n], // no floating point anywhere
  ])("liability of %s points at %s/%s = %s minor units, rounded once", (points, minor, per, expected) => {
    expect(liabilityMinor(points, { minor, points: per })).toBe(expected);
  });

  it("refuses negative points", () => {
    expect(() => liabilityMinor(-1n, { minor: 1n, points: 1n })).toThrow(RangeError);
  });
});

describe("settings form conversions", () => {
  const full = LoyaltyProgramSettingsSchema.parse({
    enabled: false,
    timeZone: "America/New_York",
    earn: { pointsPerUnit: 1.5, basis: "gross_merchandise", rounding: "nearest", on: "placed" },
    pendingDays: 30,
    expiry: { inactivityDays: 180 },
    bonuses: { firstOrder: 50, birthday: 100, signup: 25, feedback: 10 },
    segmentMultipliers: [{ segmentId: "12", multiplier: 1.25 }],
    tiers: {
      metric: "net_spend",
      window: "calendar_year",
      levels: [
        { name: "Member", threshold: 0 },
        { name: "VIP", threshold: 50_050, tag: "crm:vip", multiplier: 2 },
      ],
    },
    negativeBalance: "never",
    rewards: [
      { id: "five-off", name: "$5 off", kind: "fixed_amount", value: "5.00", pointsCost: 500, minimumOrder: "25.00", validityDays: 14 },
      { id: "pct", name: "10% off", kind: "percentage", value: 12.5, pointsCost: 800 },
      { id: "ship", name: "Free shipping", kind: "free_shipping", pointsCost: 300 },
    ],
  });

  it("turns stored settings into form text and back into the same settings", () => {
    const values = settingsToFormValues(full, "USD");
    expect(values.tiers.levels.map((l) => l.threshold)).toEqual(["0.00", "500.50"]); // net spend as money
    expect(values.rewards[2]).toEqual({ id: "ship", name: "Free shipping", kind: "free_shipping", value: "", pointsCost: "300", minimumOrder: "", validityDays: "30" });
    const posted = formValuesFromFields(formFields(values));
    expect(posted).toEqual(values);
    const { input, errors } = formValuesToSettings(posted, "USD");
    expect(errors).toEqual([]);
    expect(parseProgramSettings(input)).toEqual({ ok: true, settings: full });
  });

  it("keeps a new program's defaults through the form", () => {
    const { input, errors } = formValuesToSettings(newProgramFormValues(), "USD");
    expect(errors).toEqual([]);
    expect(parseProgramSettings(input)).toEqual({ ok: true, settings: LoyaltyProgramSettingsSchema.parse({ earn: { pointsPerUnit: 1 } }) });
  });

  it("reads list rows in index order, closes gaps, ignores unknown names and caps each list", () => {
    const fields: Record<string, string> = {
      "tiers.levels.5.name": "Gold",
      "tiers.levels.5.threshold": "500",
      "tiers.levels.0.name": "Member",
      "tiers.levels.0.threshold": "0",
      "tiers.levels.x.name": "ignored",
      "tiers.levels.1234.name": "ignored too",
      "something.else": "ignored",
      "tiers.enabled": "on",
    };
    for (let i = 0; i < 80; i++) fields[`segmentMultipliers.${i}.segmentId`] = String(i);
    const values = formValuesFromFields(fields);
    expect(values.tiers.enabled).toBe(true);
    expect(values.tiers.levels.map((l) => [l.name, l.threshold])).toEqual([
      ["Member", "0"],
      ["Gold", "500"],
    ]);
    expect(values.segmentMultipliers).toHaveLength(50);
    expect(values.enabled).toBe(false); // an absent checkbox is off
  });

  it.each([
    ["earn.pointsPerUnit", "1,5", "Enter a number, such as 1 or 1.5"], // a decimal comma is not read as 15
    ["earn.pointsPerUnit", "", "Enter a number, such as 1 or 1.5"],
    ["pendingDays", "7.5", "Enter a whole number"],
    ["pendingDays", "seven", "Enter a number"],
    ["pendingDays", "", "Enter a whole number"],
    ["pendingDays", "99999999999999999999", "This number is too large"],
  ])("%s = %j -> %s", (path, text, message) => {
    const values = newProgramFormValues();
    if (path === "pendingDays") values.pendingDays = text;
    else values.earn.pointsPerUnit = text;
    const { input, errors } = formValuesToSettings(values, "USD");
    expect(errors).toEqual([{ path, message }]);
    expect(path === "pendingDays" ? input.pendingDays : (input.earn as Record<string, unknown>).pointsPerUnit).toBeUndefined();
  });

  it("reads thousands separators, blank bonuses as 0 and blank tier multipliers as 1", () => {
    const values = newProgramFormValues();
    values.bonuses.firstOrder = "1,000";
    values.bonuses.birthday = "";
    values.tiers = { enabled: true, metric: "points_earned", window: "lifetime", levels: [{ name: "A", threshold: "12,500", tag: " ", multiplier: "" }] };
    const { input, errors } = formValuesToSettings(values, "USD");
    expect(errors).toEqual([]);
    expect(input.bonuses).toEqual({ firstOrder: 1000, birthday: 0, signup: 0, feedback: 0 });
    expect(input.tiers).toEqual({ metric: "points_earned", window: "lifetime", levels: [{ name: "A", threshold: 12500, tag: null, multiplier: 1 }] });
  });

  it.each([
    ["500", "USD", 50_000],
    ["500.5", "USD", 50_050],
    ["1,250.75", "USD", 125_075],
    ["500", "JPY", 500],
  ])("a net-spend threshold of %s %s is %d minor units", (text, currency, minor) => {
    const values = newProgramFormValues();
    values.tiers = { enabled: true, metric: "net_spend", window: "lifetime", levels: [{ name: "A", threshold: text, tag: "", multiplier: "1" }] };
    const { input, errors } = formValuesToSettings(values, currency);
    expect(errors).toEqual([]);
    expect((input.tiers as { levels: { threshold: number }[] }).levels[0]!.threshold).toBe(minor);
  });

  it.each([
    ["500.505", "USD", "Enter an amount, such as 500 or 500.00 (USD)"],
    ["-5", "USD", "Enter an amount, such as 500 or 500.00 (USD)"],
    ["500.5", "JPY", "Enter a whole amount (JPY)"],
  ])("refuses a net-spend threshold of %s %s", (text, currency, message) => {
    const values = newProgramFormValues();
    values.tiers = { enabled: true, metric: "net_spend", window: "lifetime", levels: [{ name: "A", threshold: text, tag: "", multiplier: "1" }] };
    expect(formValuesToSettings(values, currency).errors).toEqual([{ path: "tiers.levels.0.threshold", message }]);
  });

  it("gives new rewards ids from their names, unique, and keeps existing ids", () => {
    expect(rewardIdFor("$5 off", new Set())).toBe("5-off");
    expect(rewardIdFor("$5 off", new Set(["5-off", "5-off-2"]))).toBe("5-off-3");
    expect(rewardIdFor("!!!", new Set())).toBe("reward");
    expect(rewardIdFor("Café crème", new Set())).toBe("cafe-creme");
    const values = newProgramFormValues();
    values.rewards = [
      { id: "", name: "Free shipping", kind: "free_shipping", value: "anything", pointsCost: "300", minimumOrder: "", validityDays: "" },
      { id: "free-shipping", name: "Old", kind: "percentage", value: "10", pointsCost: "100", minimumOrder: " 20.00 ", validityDays: "7" },
      { id: "", name: "Amount", kind: "fixed_amount", value: "", pointsCost: "1", minimumOrder: "", validityDays: "" },
    ];
    const { input, errors } = formValuesToSettings(values, "USD");
    expect(errors).toEqual([{ path: "rewards.2.value", message: "Enter the amount off" }]);
    expect(input.rewards).toEqual([
      { id: "free-shipping-2", name: "Free shipping", kind: "free_shipping", value: null, pointsCost: 300, minimumOrder: null, validityDays: 30 },
      { id: "free-shipping", name: "Old", kind: "percentage", value: 10, pointsCost: 100, minimumOrder: "20.00", validityDays: 7 },
      { id: "amount", name: "Amount", kind: "fixed_amount", pointsCost: 1, minimumOrder: null, validityDays: 30 },
    ]);
  });

  it.each([
    ["Too small: expected number to be >=0", "Must be at least 0"],
    ["Too big: expected number to be <=365", "Must be at most 365"],
    ["Too big: expected array to have <=50 items", "At most 50"],
    ['Invalid option: expected one of "floor"|"nearest"', "Choose one of the options"],
    ["earn.pointsPerUnit has at most 4 decimal places", "Has at most 4 decimal places"],
    ["pointsCost must be at least 1 point", "Must be at least 1 point"],
    ["a tier needs a name", "A tier needs a name"],
    ["value must be a percentage from 1 to 100", "Value must be a percentage from 1 to 100"],
  ])("friendlyMessage(%j) = %j", (message, friendly) => {
    expect(friendlyMessage(message)).toBe(friendly);
  });

  it("merges conversion and schema errors: one message per field, the conversion's first", () => {
    expect(
      mergeErrors(
        [{ path: "pendingDays", message: "Enter a whole number" }],
        [
          { path: "pendingDays", message: "Invalid input: expected number, received undefined" },
          { path: "tiers.levels.0.name", message: "a tier needs a name" },
          { path: "tiers.levels.0.name", message: "tier name is used twice" },
        ],
      ),
    ).toEqual([
      { path: "pendingDays", message: "Enter a whole number" },
      { path: "tiers.levels.0.name", message: "A tier needs a name" },
    ]);
  });
});
