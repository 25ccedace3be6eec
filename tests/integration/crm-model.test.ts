// How deliveries change the CRM model, whatever order they arrive in: orders, refunds,
// cancellations, test orders, deleted customers, tags and email consent.
// Each step is delivered and fully applied before the next, so the arrival order at the
// worker is the order written here.
import { describe, expect, it } from "vitest";
import { getPool } from "../../app/db.server";
import { buildCustomerExport, exportAllCustomers } from "../../app/services/customer-export.server";
import {
  customerDeletePayload,
  customerPayload,
  emailConsentPayload,
  orderPayload,
  refundPayload,
  tagsPayload,
  type CustomerSpec,
} from "../support/factories";
import { customerRow, deliverAndSettle, orderRow, setUpPipelineHarness } from "../support/pipeline";
import { TEST_SHOP } from "../support/webhooks";

setUpPipelineHarness();

/** 2026-01-<day> at <hour>:00 in the shop's offset (-05:00), as Shopify writes it. */
const t = (day: number, hour = 10) => `2026-01-${String(day).padStart(2, "0")}T${String(hour).padStart(2, "0")}:00:00-05:00`;
const cgid = (id: bigint) => `gid://shopify/Customer/${id}`;
const ogid = (id: bigint) => `gid://shopify/Order/${id}`;
const customer = async (id: bigint) => customerRow(TEST_SHOP, cgid(id));
const order = async (id: bigint) => orderRow(TEST_SHOP, ogid(id));

describe("orders arriving out of order", () => {
  it("orders/updated before orders/create: the newer update wins", async () => {
    const c: CustomerSpec = { id: 1101n };
    await deliverAndSettle("orders/updated", orderPayload({ id: 11010n, customer: c, totalPrice: "80.00", financialStatus: "paid", createdAt: t(2), updatedAt: t(3) }));
    await deliverAndSettle("orders/create", orderPayload({ id: 11010n, customer: c, totalPrice: "100.00", financialStatus: "pending", createdAt: t(2) }));
    expect(await order(11010n)).toMatchObject({ financial_status: "paid", total_price_minor: "8000" });
    expect(await customer(1101n)).toMatchObject({ orders_count: 1, total_spent_minor: "8000", aov_minor: "8000" });
  });

  it("an older orders/updated after a newer one does not overwrite", async () => {
    const c: CustomerSpec = { id: 1102n };
    await deliverAndSettle("orders/create", orderPayload({ id: 11020n, customer: c, totalPrice: "100.00", financialStatus: "pending", createdAt: t(2) }));
    await deliverAndSettle("orders/updated", orderPayload({ id: 11020n, customer: c, totalPrice: "120.00", financialStatus: "paid", createdAt: t(2), updatedAt: t(4) }));
    await deliverAndSettle("orders/updated", orderPayload({ id: 11020n, customer: c, totalPrice: "110.00", financialStatus: "authorized", createdAt: t(2), updatedAt: t(3) }));
    expect(await order(11020n)).toMatchObject({ financial_status: "paid", total_price_minor: "12000" });
    expect(await customer(1102n)).toMatchObject({ orders_count: 1, total_spent_minor: "12000" });
    // A replayed orders/create (oldest of all) changes nothing either.
    await deliverAndSettle("orders/create", orderPayload({ id: 11020n, customer: c, totalPrice: "100.00", financialStatus: "pending", createdAt: t(2) }));
    expect(await order(11020n)).toMatchObject({ financial_status: "paid", total_price_minor: "12000" });
  });

  it("a customers/update older than the stored customer is ignored, also when embedded in an order", async () => {
    const id = 1103n;
    await deliverAndSettle("customers/update", customerPayload({ id, firstName: "Newer", email: "newer@example.com", updatedAt: t(5) }));
    await deliverAndSettle("customers/update", customerPayload({ id, firstName: "Older", email: "older@example.com", updatedAt: t(4) }));
    expect(await customer(id)).toMatchObject({ first_name: "Newer", email: "newer@example.com" });
    // An order whose embedded customer copy is older still counts, but does not roll the profile back.
    await deliverAndSettle("orders/create", orderPayload({ id: 11030n, customer: { id, firstName: "Oldest", email: "oldest@example.com", updatedAt: t(1) }, totalPrice: "9.99" }));
    expect(await customer(id)).toMatchObject({ first_name: "Newer", email: "newer@example.com", orders_count: 1, total_spent_minor: "999" });
    // A newer one does apply.
    await deliverAndSettle("customers/update", customerPayload({ id, firstName: "Newest", email: "newest@example.com", updatedAt: t(6) }));
    expect(await customer(id)).toMatchObject({ first_name: "Newest", email: "newest@example.com" });
  });

  it("an order moved to another customer leaves the first customer's aggregates right", async () => {
    const a: CustomerSpec = { id: 1104n };
    const b: CustomerSpec = { id: 1105n };
    await deliverAndSettle("orders/create", orderPayload({ id: 11040n, customer: a, totalPrice: "40.00", createdAt: t(2) }));
    await deliverAndSettle("orders/updated", orderPayload({ id: 11040n, customer: b, totalPrice: "40.00", createdAt: t(2), updatedAt: t(3) }));
    expect(await customer(1104n)).toMatchObject({ orders_count: 0, total_spent_minor: "0", first_order_at: null });
    expect(await customer(1105n)).toMatchObject({ orders_count: 1, total_spent_minor: "4000" });
  });
});

describe("refunds", () => {
  const c: CustomerSpec = { id: 1201n };
  const orderId = 12010n;

  it("a partial refund is subtracted", async () => {
    await deliverAndSettle("orders/create", orderPayload({ id: orderId, customer: c, totalPrice: "100.00", createdAt: t(2) }));
    await deliverAndSettle("refunds/create", refundPayload({ id: 120101n, orderId, amount: "30.00", createdAt: t(3) }));
    expect(await customer(1201n)).toMatchObject({ orders_count: 1, total_spent_minor: "7000", refunded_minor: "3000" });
    expect(await order(orderId)).toMatchObject({ refunded_minor: "3000", total_price_minor: "10000" });
  });

  it("several refunds add up", async () => {
    await deliverAndSettle("refunds/create", refundPayload({ id: 120102n, orderId, amount: "15.50", createdAt: t(4) }));
    expect(await customer(1201n)).toMatchObject({ total_spent_minor: "5450", refunded_minor: "4550" });
  });

  it("refunds arriving again inside orders/updated, and again as refunds/create, count once", async () => {
    const refunds = [
      { id: 120101n, orderId, amount: "30.00", createdAt: t(3) },
      { id: 120102n, orderId, amount: "15.50", createdAt: t(4) },
      { id: 120103n, orderId, amount: "10.00", createdAt: t(5) }, // only seen inside the order so far
    ];
    await deliverAndSettle("orders/updated", orderPayload({ id: orderId, customer: c, totalPrice: "100.00", financialStatus: "partially_refunded", createdAt: t(2), updatedAt: t(5), refunds }));
    expect(await customer(1201n)).toMatchObject({ total_spent_minor: "4450", refunded_minor: "5550" });
    // Shopify's separate refunds/create for the third refund, and a redelivery of the first with a new webhook id.
    await deliverAndSettle("refunds/create", refundPayload(refunds[2]!));
    await deliverAndSettle("refunds/create", refundPayload(refunds[0]!));
    expect(await customer(1201n)).toMatchObject({ orders_count: 1, total_spent_minor: "4450", refunded_minor: "5550" });
    const rows = await getPool().query(`SELECT count(*)::int AS n FROM refunds WHERE shop = $1 AND order_legacy_id = $2`, [TEST_SHOP, String(orderId)]);
    expect(rows.rows[0]).toEqual({ n: 3 });
  });

  it("a stale orders/updated still contributes its (immutable) refunds but not its old totals", async () => {
    const refunds = [{ id: 120104n, orderId, amount: "4.50", createdAt: t(6) }];
    await deliverAndSettle("orders/updated", orderPayload({ id: orderId, customer: c, totalPrice: "1.00", financialStatus: "pending", createdAt: t(2), updatedAt: t(2, 11), refunds }));
    expect(await order(orderId)).toMatchObject({ total_price_minor: "10000", financial_status: "partially_refunded", refunded_minor: "6000" });
    expect(await customer(1201n)).toMatchObject({ total_spent_minor: "4000", refunded_minor: "6000" });
  });

  it("a refund that arrives before its order is applied when the order arrives", async () => {
    const other: CustomerSpec = { id: 1202n };
    await deliverAndSettle("refunds/create", refundPayload({ id: 120201n, orderId: 12020n, amount: "20.00", createdAt: t(4) }));
    expect(await order(12020n)).toBeNull();
    await deliverAndSettle("orders/create", orderPayload({ id: 12020n, customer: other, totalPrice: "100.00", createdAt: t(3) }));
    expect(await order(12020n)).toMatchObject({ refunded_minor: "2000" });
    expect(await customer(1202n)).toMatchObject({ orders_count: 1, total_spent_minor: "8000", refunded_minor: "2000" });
  });

  it("refunds of a guest order (no customer) are kept on the order", async () => {
    await deliverAndSettle("orders/create", orderPayload({ id: 12030n, customer: null, totalPrice: "25.00" }));
    await deliverAndSettle("refunds/create", refundPayload({ id: 120301n, orderId: 12030n, amount: "5.00" }));
    expect(await order(12030n)).toMatchObject({ customer_gid: null, refunded_minor: "500" });
  });
});

describe("cancellations and test orders", () => {
  it("are excluded from ordersCount, totalSpent, AOV and first/last order", async () => {
    const c: CustomerSpec = { id: 1301n };
    await deliverAndSettle("orders/create", orderPayload({ id: 13010n, customer: c, totalPrice: "50.00", createdAt: t(5) }));
    await deliverAndSettle("orders/create", orderPayload({ id: 13011n, customer: c, totalPrice: "30.00", createdAt: t(1), test: true }));
    await deliverAndSettle("orders/create", orderPayload({ id: 13012n, customer: c, totalPrice: "20.00", createdAt: t(9) }));
    expect(await customer(1301n)).toMatchObject({ orders_count: 2, total_spent_minor: "7000", aov_minor: "3500" });
    await deliverAndSettle(
      "orders/cancelled",
      orderPayload({ id: 13012n, customer: c, totalPrice: "20.00", createdAt: t(9), updatedAt: t(10), cancelledAt: t(10), financialStatus: "voided" }),
    );
    const row = await customer(1301n);
    expect(row).toMatchObject({ orders_count: 1, total_spent_minor: "5000", aov_minor: "5000" });
    expect(row!.first_order_at).toEqual(new Date("2026-01-05T15:00:00Z"));
    expect(row!.last_order_at).toEqual(new Date("2026-01-05T15:00:00Z"));
    expect(await order(13012n)).toMatchObject({ financial_status: "voided", cancelled_at: new Date("2026-01-10T15:00:00Z") });
  });

  it("an orders/cancelled that arrives before orders/create keeps the order cancelled", async () => {
    const c: CustomerSpec = { id: 1302n };
    await deliverAndSettle("orders/cancelled", orderPayload({ id: 13020n, customer: c, totalPrice: "60.00", createdAt: t(2), updatedAt: t(3), cancelledAt: t(3) }));
    await deliverAndSettle("orders/create", orderPayload({ id: 13020n, customer: c, totalPrice: "60.00", createdAt: t(2) }));
    expect(await customer(1302n)).toMatchObject({ orders_count: 0, total_spent_minor: "0" });
  });
});

describe("deleted customers", () => {
  it("customers/delete marks the customer deleted (still in its own data_request export, not in the operator's export) and is not undone by late updates", async () => {
    const id = 1401n;
    await deliverAndSettle("customers/create", customerPayload({ id, email: "gone@example.com", updatedAt: t(1) }));
    await deliverAndSettle("orders/create", orderPayload({ id: 14010n, customer: { id }, totalPrice: "10.00" }));
    expect(await buildCustomerExport(getPool(), TEST_SHOP, cgid(id))).not.toBeNull();
    await deliverAndSettle("customers/delete", customerDeletePayload(id));
    expect((await customer(id))!.deleted_at).toBeInstanceOf(Date);
    // The app still holds its data (until customers/redact), so customers/data_request exports it.
    const deleted = { customer: { email: "gone@example.com", ordersCount: 1, deletedInShopifyAt: expect.any(String) }, orders: [expect.objectContaining({ id: "gid://shopify/Order/14010" })] };
    expect(await buildCustomerExport(getPool(), TEST_SHOP, cgid(id))).toMatchObject(deleted);
    // A customers/update delivered late (Shopify retries) does not resurrect it.
    await deliverAndSettle("customers/update", customerPayload({ id, email: "back@example.com", updatedAt: t(20) }));
    expect(await buildCustomerExport(getPool(), TEST_SHOP, cgid(id))).toMatchObject(deleted);
    const all = [];
    for await (const e of exportAllCustomers(getPool(), TEST_SHOP)) all.push(e.customer.id);
    expect(all).not.toContain(cgid(id));
    expect(all).toContain(cgid(1101n));
  });

  it("a delete that arrives before the customer's create still wins", async () => {
    const id = 1402n;
    await deliverAndSettle("customers/delete", customerDeletePayload(id));
    await deliverAndSettle("customers/create", customerPayload({ id, email: "late-create@example.com" }));
    expect(await buildCustomerExport(getPool(), TEST_SHOP, cgid(id))).toMatchObject({ customer: { email: null, deletedInShopifyAt: expect.any(String) } });
  });
});

describe("tags", () => {
  const id = 1501n;
  const tags = async () => (await customer(id))!.tags;

  it("tags events before the customer exists are kept once it arrives", async () => {
    await deliverAndSettle("customer.tags_added", tagsPayload({ customerId: id, tags: ["vip", "wholesale"], occurredAt: t(2) }));
    await deliverAndSettle("customers/create", customerPayload({ id, email: "tags@example.com" }));
    expect(await tags()).toEqual(["vip", "wholesale"]);
  });

  it("a removal older than the addition does not remove", async () => {
    await deliverAndSettle("customer.tags_removed", tagsPayload({ customerId: id, tags: ["vip"], occurredAt: t(1) }));
    expect(await tags()).toEqual(["vip", "wholesale"]);
  });

  it("a newer removal removes; an older re-addition arriving later does not bring it back", async () => {
    await deliverAndSettle("customer.tags_removed", tagsPayload({ customerId: id, tags: ["wholesale"], occurredAt: t(4) }));
    expect(await tags()).toEqual(["vip"]);
    await deliverAndSettle("customer.tags_added", tagsPayload({ customerId: id, tags: ["wholesale"], occurredAt: t(3) }));
    expect(await tags()).toEqual(["vip"]);
    await deliverAndSettle("customer.tags_added", tagsPayload({ customerId: id, tags: ["wholesale", "b2b"], occurredAt: t(5) }));
    expect(await tags()).toEqual(["b2b", "vip", "wholesale"]);
  });

  it("a customers/update does not wipe tags", async () => {
    await deliverAndSettle("customers/update", customerPayload({ id, email: "tags2@example.com", updatedAt: t(6) }));
    expect(await tags()).toEqual(["b2b", "vip", "wholesale"]);
  });
});

describe("email marketing consent", () => {
  const consent = async (id: bigint) => {
    const { rows } = await getPool().query(
      `SELECT email_marketing_state, email_opt_in_level, email_consent_at FROM customers WHERE shop = $1 AND gid = $2`,
      [TEST_SHOP, cgid(id)],
    );
    return rows[0];
  };

  it("applies the newest consent state whatever the arrival order", async () => {
    const id = 1601n;
    await deliverAndSettle("customers/create", customerPayload({ id }));
    await deliverAndSettle("customers_email_marketing_consent/update", emailConsentPayload({ customerId: id, state: "subscribed", optInLevel: "confirmed_opt_in", updatedAt: t(5) }));
    expect(await consent(id)).toEqual({ email_marketing_state: "subscribed", email_opt_in_level: "confirmed_opt_in", email_consent_at: new Date("2026-01-05T15:00:00Z") });
    await deliverAndSettle("customers_email_marketing_consent/update", emailConsentPayload({ customerId: id, state: "unsubscribed", updatedAt: t(4) }));
    expect(await consent(id)).toMatchObject({ email_marketing_state: "subscribed" });
    await deliverAndSettle("customers_email_marketing_consent/update", emailConsentPayload({ customerId: id, state: "unsubscribed", optInLevel: null, updatedAt: t(6) }));
    expect(await consent(id)).toEqual({ email_marketing_state: "unsubscribed", email_opt_in_level: null, email_consent_at: new Date("2026-01-06T15:00:00Z") });
    const exported = await buildCustomerExport(getPool(), TEST_SHOP, cgid(id));
    expect(exported!.customer.emailMarketingConsent).toEqual({ state: "unsubscribed", optInLevel: null, updatedAt: "2026-01-06T15:00:00.000Z" });
  });

  it("consent for a customer id above 2^53 lands on exactly that customer", async () => {
    const id = 9007199254740993n;
    const neighbour = 9007199254740992n; // what JSON.parse would have made of the id
    await deliverAndSettle("customers/create", customerPayload({ id }));
    await deliverAndSettle("customers/create", customerPayload({ id: neighbour }));
    await deliverAndSettle("customers_email_marketing_consent/update", emailConsentPayload({ customerId: id, state: "subscribed", updatedAt: t(7) }));
    expect(await consent(id)).toMatchObject({ email_marketing_state: "subscribed" });
    expect(await consent(neighbour)).toMatchObject({ email_marketing_state: null });
  });
});
