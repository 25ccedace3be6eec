// The rewards catalogue's validation (every error names its field) and the pure redemption
// rules: the code, its window, the Shopify input per reward kind, reading Shopify's answer.
import { describe, expect, it } from "vitest";
import { parseProgramSettings, RewardSchema } from "../../app/domain/loyalty/program";
import {
  buildDiscountCode,
  buildDiscountInput,
  CODE_ALPHABET,
  codeWindow,
  describeUserErrors,
  discountTitle,
  isCodeTaken,
  isOwnDiscount,
  markAffordable,
  percentageFraction,
} from "../../app/domain/loyalty/rewards";

const base = { earn: { pointsPerUnit: 1 } };
const fixed = { id: "five-off", name: "$5 off", kind: "fixed_amount", value: "5.00", pointsCost: 500 };

describe("rewards in the program settings", () => {
  it("a program saved before rewards existed stays valid, with no rewards", () => {
    const parsed = parseProgramSettings(base);
    expect(parsed.ok && parsed.settings.rewards).toEqual([]);
  });

  it("fills the defaults: no minimum order, codes valid 30 days, free shipping has no value", () => {
    const parsed = parseProgramSettings({ ...base, rewards: [fixed, { id: "ship", name: "Free shipping", kind: "free_shipping", pointsCost: 300 }] });
    expect(parsed.ok && parsed.settings.rewards).toEqual([
      { ...fixed, minimumOrder: null, validityDays: 30 },
      { id: "ship", name: "Free shipping", kind: "free_shipping", pointsCost: 300, minimumOrder: null, validityDays: 30, value: null },
    ]);
  });

  it.each([
    [{ ...fixed, kind: "gift" }, "rewards.0.kind", "kind must be one of fixed_amount, percentage, free_shipping"],
    [{ ...fixed, id: "" }, "rewards.0.id", "id must be 1-64 letters, digits, - or _ (starting with a letter or digit)"],
    [{ ...fixed, id: "has space" }, "rewards.0.id", "id must be 1-64 letters, digits, - or _ (starting with a letter or digit)"],
    [{ ...fixed, name: " " }, "rewards.0.name", "name is required"],
    [{ ...fixed, value: "-5" }, "rewards.0.value", 'value must be an amount as a decimal string, such as "5.00" (at most 3 decimal places)'],
    [{ ...fixed, value: 5 }, "rewards.0.value", 'value must be an amount as a decimal string, such as "5.00"'],
    [{ ...fixed, value: "0.00" }, "rewards.0.value", "value must be more than 0"],
    [{ ...fixed, value: "5.0001" }, "rewards.0.value", 'value must be an amount as a decimal string, such as "5.00" (at most 3 decimal places)'],
    [{ ...fixed, kind: "percentage", value: 0 }, "rewards.0.value", "value must be a percentage from 1 to 100"],
    [{ ...fixed, kind: "percentage", value: 101 }, "rewards.0.value", "value must be a percentage from 1 to 100"],
    [{ ...fixed, kind: "percentage", value: 12.345 }, "rewards.0.value", "value has at most 2 decimal places"],
    [{ ...fixed, kind: "percentage", value: "10" }, "rewards.0.value", "value must be a percentage from 1 to 100"],
    [{ ...fixed, kind: "free_shipping", value: "5.00" }, "rewards.0.value", "value must be null for a free shipping reward"],
    [{ ...fixed, pointsCost: 0 }, "rewards.0.pointsCost", "pointsCost must be at least 1 point"],
    [{ ...fixed, pointsCost: 2.5 }, "rewards.0.pointsCost", "pointsCost must be a whole number of points"],
    [{ ...fixed, minimumOrder: "abc" }, "rewards.0.minimumOrder", 'minimumOrder must be an amount as a decimal string, such as "5.00" (at most 3 decimal places)'],
    [{ ...fixed, validityDays: 0 }, "rewards.0.validityDays", "validityDays must be at least 1 day"],
    [{ ...fixed, validityDays: 400 }, "rewards.0.validityDays", "validityDays is at most 365 days"],
    [{ ...fixed, extra: true }, "rewards.0", 'Unrecognized key: "extra"'],
  ])("%j -> %s: %s", (reward, path, message) => {
    const parsed = parseProgramSettings({ ...base, rewards: [reward] });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors).toContainEqual({ path, message });
  });

  it("refuses two rewards with the same id (ids are what redemptions refer to)", () => {
    const parsed = parseProgramSettings({ ...base, rewards: [fixed, { ...fixed, id: "FIVE-OFF", name: "other" }] });
    expect(parsed.ok ? [] : parsed.errors).toEqual([{ path: "rewards.1.id", message: 'id "FIVE-OFF" is used by two rewards' }]);
  });
});

describe("redemption rules", () => {
  it("codes: readable alphabet, 60 random bits, the byte's low 5 bits pick the letter", () => {
    expect(CODE_ALPHABET).toHaveLength(32);
    expect(CODE_ALPHABET).not.toMatch(/[01IO]/);
    expect(buildDiscountCode(Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 31]))).toBe("PTS-2345-6789-ABCZ");
    expect(buildDiscountCode(Uint8Array.from([32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 255]))).toBe("PTS-2345-6789-ABCZ");
    expect(() => buildDiscountCode(new Uint8Array(11))).toThrow(RangeError);
  });

  it("the window starts at the whole second and lasts the reward's validity", () => {
    expect(codeWindow({ reward: { validityDays: 30 }, now: new Date("2026-12-04T10:00:00.750Z") })).toEqual({
      startsAt: new Date("2026-12-04T10:00:00Z"),
      endsAt: new Date("2027-01-03T10:00:00Z"),
    });
  });

  it.each([
    [1, 0.01],
    [7, 0.07],
    [12.5, 0.125],
    [15, 0.15],
    [33.33, 0.3333],
    [100, 1],
  ])("%d%% -> %d", (percent, fraction) => expect(percentageFraction(percent)).toBe(fraction));

  const args = { customerGid: "gid://shopify/Customer/7", code: "PTS-AAAA-BBBB-CCCC", title: "t", startsAt: new Date("2026-12-04T10:00:00Z"), endsAt: new Date("2027-01-03T10:00:00Z") };
  const common = {
    title: "t",
    code: "PTS-AAAA-BBBB-CCCC",
    startsAt: "2026-12-04T10:00:00.000Z",
    endsAt: "2027-01-03T10:00:00.000Z",
    context: { customers: { add: ["gid://shopify/Customer/7"] } },
    usageLimit: 1,
    appliesOncePerCustomer: true,
  };

  it("fixed amount: discountCodeBasicCreate, the amount off the whole order, with the minimum subtotal", () => {
    expect(buildDiscountInput({ ...args, reward: RewardSchema.parse({ ...fixed, minimumOrder: "25.00" }) })).toEqual({
      mutation: "discountCodeBasicCreate",
      input: {
        ...common,
        minimumRequirement: { subtotal: { greaterThanOrEqualToSubtotal: "25.00" } },
        customerGets: { value: { discountAmount: { amount: "5.00", appliesOnEachItem: false } }, items: { all: true } },
        combinesWith: { orderDiscounts: false, productDiscounts: true, shippingDiscounts: true },
      },
    });
  });

  it("percentage: 15 becomes 0.15; no minimum requirement when the reward has none", () => {
    expect(buildDiscountInput({ ...args, reward: RewardSchema.parse({ ...fixed, kind: "percentage", value: 15 }) }).input).toEqual({
      ...common,
      customerGets: { value: { percentage: 0.15 }, items: { all: true } },
      combinesWith: { orderDiscounts: false, productDiscounts: true, shippingDiscounts: true },
    });
  });

  it("free shipping: discountCodeFreeShippingCreate to all countries, never combined with another shipping discount", () => {
    expect(buildDiscountInput({ ...args, reward: RewardSchema.parse({ id: "s", name: "s", kind: "free_shipping", pointsCost: 1 }) })).toEqual({
      mutation: "discountCodeFreeShippingCreate",
      input: { ...common, destination: { all: true }, combinesWith: { orderDiscounts: true, productDiscounts: true, shippingDiscounts: false } },
    });
  });

  it("the title names the redemption; only that redemption recognises the discount as its own", () => {
    const title = discountTitle({ reward: { name: "$5 off" }, redemptionId: "12" });
    expect(title).toBe("Loyalty reward: $5 off [redemption 12]");
    expect(isOwnDiscount({ title, redemptionId: "12" })).toBe(true);
    expect(isOwnDiscount({ title, redemptionId: "2" })).toBe(false);
    expect(isOwnDiscount({ title: null, redemptionId: "12" })).toBe(false);
  });

  it("reads userErrors: a taken code, and the reason recorded for a refusal", () => {
    const taken = [{ field: ["basicCodeDiscount", "code"], message: "Code must be unique. Please try a different code.", code: "TAKEN" }];
    expect(isCodeTaken(taken)).toBe(true);
    expect(isCodeTaken([{ field: null, message: "must be unique. Please try a different code.", code: null }])).toBe(false);
    expect(isCodeTaken([{ field: ["x"], message: "Starts at can't be blank", code: "BLANK" }])).toBe(false);
    expect(
      describeUserErrors([
        { field: ["basicCodeDiscount", "startsAt"], message: "Starts at can't be blank", code: "BLANK" },
        { field: null, message: "Something else" },
      ]),
    ).toBe("basicCodeDiscount.startsAt: Starts at can't be blank (BLANK); Something else");
  });

  it("affordable: the spendable balance covers the points cost", () => {
    const rewards = [RewardSchema.parse(fixed), RewardSchema.parse({ ...fixed, id: "b", pointsCost: 501 })];
    expect(markAffordable({ rewards, balance: 500 }).map((r) => r.affordable)).toEqual([true, false]);
  });
});
