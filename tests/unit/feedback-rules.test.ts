// The feedback rules domain: the rules file's parsing, and the decisions taken from an order.
import { describe, expect, it } from "vitest";
import {
  caseReasons,
  checkBeforeSend,
  delayDaysFor,
  linkExpiresAt,
  netPromoterScore,
  nextReminderAt,
  npsGroup,
  parseFeedbackRules,
  productsToRate,
  sendAtFor,
  shouldSchedule,
  triggerReached,
  type FeedbackLine,
  type FeedbackOrder,
  type FeedbackRule,
} from "../../app/domain/feedback/rules";

const DAY = 86_400_000;
const T = new Date("2026-03-01T12:00:00Z");

function rule(overrides: Record<string, unknown> = {}): FeedbackRule {
  const parsed = parseFeedbackRules({ rules: [{ name: "r", trigger: "order_paid", delayDays: 7, ...overrides }] });
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  return parsed.file.rules[0]!;
}

const order = (o: Partial<FeedbackOrder> = {}): FeedbackOrder => ({
  gid: "gid://shopify/Order/1",
  customerGid: "gid://shopify/Customer/1",
  currency: "USD",
  totalPriceMinor: 5000n,
  refundedMinor: 0n,
  financialStatus: "paid",
  fulfillmentStatus: null,
  cancelledAt: null,
  test: false,
  sourceName: "web",
  ...o,
});

const line = (productGid: string | null, productType: string | null, giftCard = false): FeedbackLine => ({ productGid, productType, giftCard });

describe("rules file", () => {
  it("fills the documented defaults", () => {
    const parsed = parseFeedbackRules({ rules: [{ name: "after delivery", trigger: "order_fulfilled", delayDays: 0 }] });
    expect(parsed).toEqual({
      ok: true,
      file: {
        settings: { tagNegative: false, staffAlert: false },
        rules: [
          {
            name: "after delivery",
            enabled: true,
            trigger: "order_fulfilled",
            delayDays: 0,
            posDelayDays: null,
            orders: { segment: null, minimumTotal: null, productTypes: { include: [], exclude: [] } },
            reminders: { count: 0, spacingDays: 3 },
            linkExpiryDays: 180,
          },
        ],
      },
    });
  });

  it.each([
    ["delay above 60 days", { delayDays: 61 }, "rules.0.delayDays: delayDays must be between 0 and 60 days"],
    ["negative delay", { delayDays: -1 }, "rules.0.delayDays: delayDays must be between 0 and 60 days"],
    ["fractional delay", { delayDays: 1.5 }, "rules.0.delayDays: delayDays must be a whole number of days"],
    ["pos delay above 60", { posDelayDays: 90 }, "rules.0.posDelayDays: posDelayDays must be between 0 and 60 days"],
    ["unknown trigger", { trigger: "order_created" }, 'rules.0.trigger: trigger must be "order_paid" or "order_fulfilled"'],
    ["delivered (not carried by the payloads)", { trigger: "order_delivered" }, "order_delivered: the order webhooks this app receives carry no delivery status"],
    ["four reminders", { reminders: { count: 4, spacingDays: 2 } }, "rules.0.reminders.count: reminders.count must be between 0 and 3"],
    ["zero spacing", { reminders: { count: 1, spacingDays: 0 } }, "rules.0.reminders.spacingDays: reminders.spacingDays must be between 1 and 30"],
    ["bad minimum", { orders: { minimumTotal: "fifty" } }, "rules.0.orders.minimumTotal: minimumTotal must be a decimal amount"],
    ["bad segment", { orders: { segment: "amount_spent >" } }, "rules.0.orders.segment: segment:"],
    ["unknown segment attribute", { orders: { segment: "shoe_size > 3" } }, "rules.0.orders.segment: segment:"],
    ["unknown key", { delay: 3 }, "rules.0: Unrecognized key"],
    ["empty name", { name: " " }, "rules.0.name: name must not be empty"],
    ["link expiry 0", { linkExpiryDays: 0 }, "rules.0.linkExpiryDays: linkExpiryDays must be between 1 and 365"],
  ])("rejects %s with a message naming the field", (_label, overrides, message) => {
    const parsed = parseFeedbackRules({ rules: [{ name: "r", trigger: "order_paid", delayDays: 7, ...overrides }] });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors.join("\n")).toContain(message);
  });

  it("rejects two rules with one name, a missing rules array and non-objects", () => {
    const twice = parseFeedbackRules({ rules: [{ name: "a", trigger: "order_paid", delayDays: 1 }, { name: "a", trigger: "order_paid", delayDays: 2 }] });
    expect(twice).toEqual({ ok: false, errors: ['rules.1.name: rule name "a" is used twice'] });
    expect(parseFeedbackRules({}).ok).toBe(false);
    expect(parseFeedbackRules(null).ok).toBe(false);
    expect(parseFeedbackRules([]).ok).toBe(false);
  });

  it("accepts a valid segment query and settings", () => {
    const parsed = parseFeedbackRules({ settings: { tagNegative: true, staffAlert: true }, rules: [{ name: "vip", trigger: "order_paid", delayDays: 3, orders: { segment: "amount_spent > 100" } }] });
    expect(parsed.ok && parsed.file.rules[0]!.orders.segment).toBe("amount_spent > 100");
    expect(parsed.ok && parsed.file.settings).toEqual({ tagNegative: true, staffAlert: true });
  });
});

describe("scheduling", () => {
  it.each([
    ["order_paid", { financialStatus: "paid" }, true],
    ["order_paid", { financialStatus: "partially_refunded" }, true],
    ["order_paid", { financialStatus: "pending" }, false],
    ["order_paid", { financialStatus: "authorized" }, false],
    ["order_paid", { financialStatus: null }, false],
    ["order_fulfilled", { fulfillmentStatus: "fulfilled" }, true],
    ["order_fulfilled", { fulfillmentStatus: "partial" }, false],
    ["order_fulfilled", { fulfillmentStatus: null }, false],
  ] as const)("%s with %o reached: %s", (trigger, state, expected) => {
    expect(triggerReached(trigger, { financialStatus: null, fulfillmentStatus: null, ...state })).toBe(expected);
  });

  it.each([
    ["a paid order", rule(), order(), true],
    ["a test order", rule(), order({ test: true }), false],
    ["a cancelled order", rule(), order({ cancelledAt: T }), false],
    ["an order without customer", rule(), order({ customerGid: null }), false],
    ["a disabled rule", rule({ enabled: false }), order(), false],
    ["an unpaid order", rule(), order({ financialStatus: "pending" }), false],
  ])("schedules %s: %s", (_label, r, o, expected) => {
    expect(shouldSchedule({ rule: r, order: o })).toBe(expected);
  });

  it("uses the POS delay for POS orders only when the rule has one", () => {
    expect(delayDaysFor(rule({ posDelayDays: 0 }), { sourceName: "pos" })).toBe(0);
    expect(delayDaysFor(rule({ posDelayDays: 0 }), { sourceName: "web" })).toBe(7);
    expect(delayDaysFor(rule(), { sourceName: "pos" })).toBe(7);
    expect(sendAtFor(rule(), { sourceName: "web" }, T)).toEqual(new Date(T.getTime() + 7 * DAY));
  });
});

describe("send-time check", () => {
  const lines = [line("gid://shopify/Product/2", "Shoes"), line("gid://shopify/Product/1", "Socks"), line("gid://shopify/Product/1", "Socks"), line("gid://shopify/Product/9", null, true)];

  it.each([
    ["a good order", rule(), order(), { ok: true, productGids: ["gid://shopify/Product/1", "gid://shopify/Product/2"] }],
    ["a disabled rule", rule({ enabled: false }), order(), { ok: false, reason: "rule_disabled" }],
    ["a test order", rule(), order({ test: true }), { ok: false, reason: "test_order" }],
    ["a cancelled order", rule(), order({ cancelledAt: T }), { ok: false, reason: "cancelled" }],
    ["a refunded order (status)", rule(), order({ financialStatus: "refunded" }), { ok: false, reason: "refunded" }],
    ["a refunded order (amount)", rule(), order({ refundedMinor: 5000n }), { ok: false, reason: "refunded" }],
    ["a partly refunded order", rule(), order({ refundedMinor: 4999n, financialStatus: "partially_refunded" }), { ok: true, productGids: ["gid://shopify/Product/1", "gid://shopify/Product/2"] }],
    ["below the minimum", rule({ orders: { minimumTotal: "50.01" } }), order(), { ok: false, reason: "below_minimum" }],
    ["at the minimum", rule({ orders: { minimumTotal: "50" } }), order(), { ok: true, productGids: ["gid://shopify/Product/1", "gid://shopify/Product/2"] }],
    ["every product excluded", rule({ orders: { productTypes: { exclude: ["shoes", "SOCKS"] } } }), order(), { ok: false, reason: "no_products" }],
    ["one type excluded", rule({ orders: { productTypes: { exclude: ["Socks"] } } }), order(), { ok: true, productGids: ["gid://shopify/Product/2"] }],
    ["no included type", rule({ orders: { productTypes: { include: ["Hats"] } } }), order(), { ok: false, reason: "no_products" }],
    ["an included type", rule({ orders: { productTypes: { include: ["shoes"] } } }), order(), { ok: true, productGids: ["gid://shopify/Product/1", "gid://shopify/Product/2"] }],
  ])("%s", (_label, r, o, expected) => {
    expect(checkBeforeSend({ rule: r, order: o, lines })).toEqual(expected);
  });

  it("rates each product once and never gift cards", () => {
    expect(productsToRate(rule(), lines)).toEqual(["gid://shopify/Product/1", "gid://shopify/Product/2"]);
  });
});

describe("reminders and links", () => {
  it.each([
    [0, 0, null],
    [2, 0, 3],
    [2, 1, 6],
    [2, 2, null],
    [3, 2, 9],
  ])("count %i, %i sent: next after %s days", (count, sent, expectedDays) => {
    const r = rule({ reminders: { count, spacingDays: 3 } });
    const next = nextReminderAt({ rule: r, sentAt: T, remindersSent: sent });
    expect(next).toEqual(expectedDays === null ? null : new Date(T.getTime() + expectedDays * DAY));
  });

  it("expires links after the rule's days (180 by default)", () => {
    expect(linkExpiresAt(rule(), T)).toEqual(new Date(T.getTime() + 180 * DAY));
    expect(linkExpiresAt(rule({ linkExpiryDays: 30 }), T)).toEqual(new Date(T.getTime() + 30 * DAY));
  });
});

describe("answers", () => {
  it.each([
    [0, "detractor"],
    [6, "detractor"],
    [7, "passive"],
    [8, "passive"],
    [9, "promoter"],
    [10, "promoter"],
  ] as const)("NPS %i is a %s", (nps, group) => expect(npsGroup(nps)).toBe(group));

  it("computes the net promoter score", () => {
    expect(netPromoterScore({ promoters: 0, passives: 0, detractors: 0 })).toBeNull();
    expect(netPromoterScore({ promoters: 2, passives: 1, detractors: 1 })).toBe(25);
    expect(netPromoterScore({ promoters: 1, passives: 1, detractors: 1 })).toBe(0);
    expect(netPromoterScore({ promoters: 0, passives: 0, detractors: 3 })).toBe(-100);
  });

  it.each([
    [{ nps: 10, ratings: [5, 4], sentiment: null }, []],
    [{ nps: 6, ratings: [], sentiment: null }, ["detractor"]],
    [{ nps: 9, ratings: [5, 2], sentiment: null }, ["low_rating"]],
    [{ nps: 9, ratings: [3], sentiment: { label: "negative", score: -0.8 } }, ["negative_text"]],
    [{ nps: 9, ratings: [3], sentiment: { label: "neutral", score: -0.1 } }, []],
    [{ nps: 9, ratings: [3], sentiment: { label: "positive", score: 0.9 } }, []],
    [{ nps: 0, ratings: [1], sentiment: { label: "negative", score: -1 } }, ["detractor", "low_rating", "negative_text"]],
  ])("case reasons for %o: %o", (answer, expected) => {
    expect(caseReasons(answer)).toEqual(expected);
  });
});
