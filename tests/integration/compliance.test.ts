// The mandatory compliance topics and app/uninstalled, end to end through the ingress
// and the worker: what is stored, what is erased (everywhere), what is kept, and that
// one shop's erasure never touches another shop.
import { describe, expect, it } from "vitest";
import { getPool } from "../../app/db.server";
import { buildCustomerExport, exportAllCustomers } from "../../app/services/customer-export.server";
import { adjustPoints } from "../../app/services/loyalty/adjust.server";
import { saveProgram } from "../../app/services/loyalty/program.server";
import { reconcileSegmentTagSync } from "../../app/services/tag-sync/reconcile.server";
import { createSegment, listSegments } from "../../app/services/segments/segments.server";
import { queueEmail } from "../../app/services/email/outbox.server";
import { DEFAULT_EMAIL_SETTINGS, saveShopEmailSettings } from "../../app/services/email/settings.server";
import { isSuppressed, suppressAddress } from "../../app/services/email/suppression.server";
import {
  customerPayload,
  customerRedactPayload,
  dataRequestPayload,
  emailConsentPayload,
  orderPayload,
  productPayload,
  refundPayload,
  shopPayload,
  shopRedactPayload,
  tagsPayload,
  type CustomerSpec,
} from "../support/factories";
import { customerRow, deliverAndSettle, inboxRows, setUpPipelineHarness } from "../support/pipeline";
import { TEST_SHOP } from "../support/webhooks";

setUpPipelineHarness();

const cgid = (id: bigint) => `gid://shopify/Customer/${id}`;
const db = () => getPool();

async function allExportsText(shop: string): Promise<string> {
  const lines: string[] = [];
  for await (const e of exportAllCustomers(db(), shop)) lines.push(JSON.stringify(e));
  return lines.join("\n");
}

async function auditOf(shop: string, action: string) {
  const { rows } = await db().query(`SELECT subject, details FROM audit_log WHERE shop = $1 AND action = $2 ORDER BY id`, [shop, action]);
  return rows as { subject: string | null; details: Record<string, unknown> }[];
}

async function insertSession(shop: string, id: string) {
  await db().query(`INSERT INTO "Session" (id, shop, state, "isOnline", "accessToken") VALUES ($1, $2, 'state', false, 'shpat_test')`, [id, shop]);
}

describe("customers/data_request", () => {
  it("stores the customer's full export for the merchant and audits it", async () => {
    const c: CustomerSpec = { id: 3101n, email: "dora.request@example.com", firstName: "Dora", phone: "+15550103101" };
    await deliverAndSettle("customers/create", customerPayload(c));
    await deliverAndSettle("orders/create", orderPayload({ id: 31010n, customer: c, totalPrice: "40.00" }));
    await deliverAndSettle("orders/create", orderPayload({ id: 31011n, customer: c, totalPrice: "60.00", createdAt: "2026-01-16T10:00:00-05:00" }));
    await deliverAndSettle("refunds/create", refundPayload({ orderId: 31011n, amount: "10.00" }));

    await deliverAndSettle("customers/data_request", dataRequestPayload({ shop: TEST_SHOP, customerId: c.id, email: c.email, orderIds: [31010n, 31011n], requestId: 9999n }));

    const { rows } = await db().query(`SELECT customer_gid, request_id, data FROM data_exports WHERE shop = $1`, [TEST_SHOP]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ customer_gid: cgid(c.id), request_id: "9999" });
    const expected = await buildCustomerExport(db(), TEST_SHOP, cgid(c.id));
    expect(rows[0].data).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(rows[0].data).toMatchObject({
      shop: TEST_SHOP,
      customer: { id: cgid(c.id), email: "dora.request@example.com", firstName: "Dora", ordersCount: 2, totalSpent: { amount: "90.00", currencyCode: "USD" } },
      orders: [{ id: "gid://shopify/Order/31010" }, { id: "gid://shopify/Order/31011", refunded: { amount: "10.00", currencyCode: "USD" } }],
    });
    expect(await auditOf(TEST_SHOP, "customer.data_requested")).toEqual([
      { subject: cgid(c.id), details: expect.objectContaining({ requestId: "9999", found: true }) },
    ]);
  });

  it("a request for a customer the app never saw is answered with an explicit empty export", async () => {
    await deliverAndSettle("customers/data_request", dataRequestPayload({ shop: TEST_SHOP, customerId: 3199n, requestId: 10000n }));
    const { rows } = await db().query(`SELECT data FROM data_exports WHERE shop = $1 AND customer_gid = $2`, [TEST_SHOP, cgid(3199n)]);
    expect(rows).toEqual([{ data: expect.objectContaining({ shop: TEST_SHOP, customer: null }) }]);
    expect((await auditOf(TEST_SHOP, "customer.data_requested")).at(-1)).toEqual({ subject: cgid(3199n), details: expect.objectContaining({ found: false }) });
  });
});

describe("customers/redact", () => {
  // The redacted customer, and a neighbour whose ids start with the same digits.
  const r: CustomerSpec = {
    id: 4242n,
    email: "zelda.quillfeather@example.com",
    firstName: "Zelda",
    lastName: "Quillfeather",
    phone: "+15550104242",
    address1: "77 Hidden Lane",
    city: "Lowtown",
    note: "Prefers Thursday deliveries",
  };
  const k: CustomerSpec = { id: 42420n, email: "kept.keeper@example.com", firstName: "Keeper", lastName: "Staysalot", phone: "+15550142420" };
  // And a customer whose email contains the redacted one's email.
  const s: CustomerSpec = { id: 4243n, email: "azelda.quillfeather@example.com", firstName: "Substring" };
  const piiOfR = ["zelda.quillfeather@example.com", "Zelda", "Quillfeather", "+15550104242", "77 Hidden Lane", "Lowtown", "Prefers Thursday"];
  // A string occurs, but not only inside a longer one that is someone else's (azelda...).
  const mentions = (text: string, pii: string) => text.split("azelda.quillfeather@example.com").some((part) => part.includes(pii));

  it("erases the customer's personal data everywhere, keeps aggregates, and audits", async () => {
    await deliverAndSettle("customers/create", customerPayload(r));
    await deliverAndSettle("customers/create", customerPayload(k));
    await deliverAndSettle("customers/create", customerPayload(s));
    await deliverAndSettle("orders/create", orderPayload({ id: 424201n, customer: r, totalPrice: "50.00" }));
    await deliverAndSettle("orders/create", orderPayload({ id: 424202n, customer: r, totalPrice: "30.00", createdAt: "2026-01-18T10:00:00-05:00" }));
    await deliverAndSettle("refunds/create", refundPayload({ orderId: 424202n, amount: "5.00" }));
    await deliverAndSettle("orders/create", orderPayload({ id: 4242010n, customer: k, totalPrice: "70.00" }));
    await deliverAndSettle("orders/create", orderPayload({ id: 4243010n, customer: s, totalPrice: "11.00" }));
    await deliverAndSettle("customer.tags_added", tagsPayload({ customerId: r.id, tags: ["vip"], occurredAt: "2026-01-19T00:00:00Z" }));
    await deliverAndSettle("customers_email_marketing_consent/update", emailConsentPayload({ customerId: r.id, email: r.email!, state: "subscribed", updatedAt: "2026-01-19T00:00:00Z" }));
    await deliverAndSettle("customers/data_request", dataRequestPayload({ shop: TEST_SHOP, customerId: r.id, email: r.email, phone: r.phone }));
    const before = await customerRow(TEST_SHOP, cgid(r.id));
    expect(before).toMatchObject({ email: r.email, orders_count: 2, total_spent_minor: "7500" });
    const keptPayloadsBefore = (await inboxRows({ shop: TEST_SHOP })).filter((row) => row.payload.includes("kept.keeper@example.com")).length;
    const substringPayloadsBefore = (await inboxRows({ shop: TEST_SHOP })).filter((row) => row.payload.includes("azelda.quillfeather@example.com")).length;
    expect(keptPayloadsBefore).toBe(2);
    expect(substringPayloadsBefore).toBe(2);

    // An email queued for the customer (the feedback request for an order).
    await queueEmail(db(), {
      shop: TEST_SHOP, customerGid: cgid(r.id), to: r.email!, category: "feedback_request", idempotencyKey: "feedback-request:424201",
      render: async () => ({ subject: "Zelda, how was order #424201?", html: "<p>Hi Zelda Quillfeather</p>", text: "Hi Zelda Quillfeather" }),
    });

    await deliverAndSettle("customers/redact", customerRedactPayload({ shop: TEST_SHOP, customerId: r.id, email: r.email, phone: r.phone, orderIds: [424201n, 424202n] }));

    // Email: never emailed again (suppressed by the address's hash), the queued email cancelled and emptied.
    expect(await isSuppressed(db(), TEST_SHOP, r.email!)).toBe("redacted");
    const { rows: emailRows } = await db().query(`SELECT status, t::text AS row FROM email_outbox t WHERE shop = $1`, [TEST_SHOP]);
    expect(emailRows.map((e) => e.status)).toEqual(["cancelled"]);
    const emailTables = emailRows.map((e) => e.row).join("\n") + (await db().query(`SELECT t::text AS row FROM email_suppressions t WHERE shop = $1`, [TEST_SHOP])).rows.map((e) => e.row).join("\n");
    for (const pii of piiOfR) expect(mentions(emailTables, pii), pii).toBe(false);

    // The customer row: no personal data, aggregates kept.
    const { rows: customers } = await db().query(
      `SELECT email, first_name, last_name, phone, note, addresses, city, province, redacted_at, orders_count, total_spent_minor, refunded_minor
         FROM customers WHERE shop = $1 AND gid = $2`,
      [TEST_SHOP, cgid(r.id)],
    );
    expect(customers[0]).toMatchObject({
      email: null, first_name: null, last_name: null, phone: null, note: null, addresses: [], city: null, province: null,
      orders_count: 2, total_spent_minor: "7500", refunded_minor: "500",
    });
    expect(customers[0].redacted_at).toBeInstanceOf(Date);

    // Orders: no email, and nothing in the database still says whose they were by PII.
    const { rows: orders } = await db().query(`SELECT gid, email FROM orders WHERE shop = $1 AND gid = ANY($2)`, [TEST_SHOP, ["gid://shopify/Order/424201", "gid://shopify/Order/424202"]]);
    expect(orders.map((o) => o.email)).toEqual([null, null]);

    // Raw inbox payloads: none mentions the customer any more...
    const inbox = await inboxRows({ shop: TEST_SHOP });
    for (const pii of piiOfR) expect(inbox.filter((row) => mentions(row.payload, pii)).map((row) => `${row.topic}#${row.id}`), pii).toEqual([]);
    // ...while other customers' payloads are intact, including ids and emails that merely start or end alike.
    expect(inbox.filter((row) => row.payload.includes("kept.keeper@example.com"))).toHaveLength(keptPayloadsBefore);
    expect(inbox.filter((row) => row.payload.includes("azelda.quillfeather@example.com"))).toHaveLength(substringPayloadsBefore);
    expect(await customerRow(TEST_SHOP, cgid(k.id))).toMatchObject({ email: "kept.keeper@example.com", first_name: "Keeper", orders_count: 1 });

    // Earlier data exports of the customer are gone; no export shows the personal data.
    expect((await db().query(`SELECT 1 FROM data_exports WHERE shop = $1 AND customer_gid = $2`, [TEST_SHOP, cgid(r.id)])).rows).toEqual([]);
    const exportText = await allExportsText(TEST_SHOP);
    for (const pii of piiOfR) expect(mentions(exportText, pii), pii).toBe(false);
    expect(exportText).toContain("kept.keeper@example.com");
    const single = await buildCustomerExport(db(), TEST_SHOP, cgid(r.id));
    expect(single?.customer).toMatchObject({ redacted: true, email: null, firstName: null, lastName: null, phone: null, ordersCount: 2 });

    expect(await auditOf(TEST_SHOP, "customer.redacted")).toEqual([{ subject: cgid(r.id), details: expect.objectContaining({ ordersUnlinked: 2 }) }]);
  });

  it("late deliveries for the redacted customer do not bring personal data back", async () => {
    await deliverAndSettle("customers/update", customerPayload({ ...r, updatedAt: "2026-02-01T00:00:00-05:00" }));
    const row = await customerRow(TEST_SHOP, cgid(r.id));
    expect(row).toMatchObject({ email: null, first_name: null, last_name: null, phone: null });
  });

  it("a late orders/updated for one of the redacted customer's orders neither re-links it nor restores its email", async () => {
    await deliverAndSettle(
      "orders/updated",
      orderPayload({ id: 424201n, customer: r, totalPrice: "50.00", updatedAt: "2026-02-02T00:00:00-05:00", financialStatus: "refunded" }),
    );
    const { rows } = await db().query(`SELECT customer_gid, email, financial_status FROM orders WHERE shop = $1 AND gid = $2`, [
      TEST_SHOP,
      "gid://shopify/Order/424201",
    ]);
    expect(rows[0]).toEqual({ customer_gid: null, email: null, financial_status: "refunded" });
    const exportText = await allExportsText(TEST_SHOP);
    for (const pii of piiOfR) expect(mentions(exportText, pii), pii).toBe(false);
  });
});

describe("shop/redact", () => {
  const other = "other-tenant.myshopify.com";
  /** Every table with a `shop` column: a table added later cannot be forgotten by the purge. */
  async function shopTables(): Promise<string[]> {
    const { rows } = await db().query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'shop' AND table_name <> 'Session' ORDER BY table_name`,
    );
    return rows.map((r) => r.table_name);
  }

  async function countsFor(shop: string) {
    const counts: Record<string, number> = {};
    for (const table of await shopTables()) counts[table] = (await db().query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}" WHERE shop = $1`, [shop])).rows[0]!.n;
    counts.sessions = (await db().query<{ n: number }>(`SELECT count(*)::int AS n FROM "Session" WHERE shop = $1`, [shop])).rows[0]!.n;
    counts.shops = (await db().query<{ n: number }>(`SELECT count(*)::int AS n FROM shops WHERE domain = $1`, [shop])).rows[0]!.n;
    return counts;
  }

  async function populate(shop: string, base: bigint) {
    const c: CustomerSpec = { id: base, email: `buyer${base}@example.com` };
    // Segments and loyalty too: membership history, a program, ledger entries, a redemption.
    await createSegment({ shop, name: "Buyers", query: "number_of_orders >= 1", tag: "crm:buyers", tagSyncEnabled: true });
    await saveProgram({ shop, settings: { earn: { pointsPerUnit: 1 }, pendingDays: 0 }, actor: "owner@example.com" });
    await deliverAndSettle("customers/create", customerPayload(c), { shop });
    await deliverAndSettle("orders/create", orderPayload({ id: base * 10n, customer: c, totalPrice: "20.00" }), { shop });
    await deliverAndSettle("refunds/create", refundPayload({ orderId: base * 10n, amount: "1.00" }), { shop });
    await deliverAndSettle("customer.tags_added", tagsPayload({ customerId: base, tags: ["t"], occurredAt: "2026-01-01T00:00:00Z" }), { shop });
    await deliverAndSettle("products/create", productPayload({ id: base + 5n }), { shop });
    await deliverAndSettle("bulk_operations/finish", { admin_graphql_api_id: `gid://shopify/BulkOperation/${base}`, completed_at: null, created_at: null, error_code: null, status: "completed", type: "query" }, { shop });
    await deliverAndSettle("customers/data_request", dataRequestPayload({ shop, customerId: base }), { shop });
    await insertSession(shop, `offline_${shop}`);
    await adjustPoints({ shop, customerGid: cgid(base), points: 5, reason: "welcome", actor: "owner@example.com" });
    const [segment] = await listSegments(shop);
    await reconcileSegmentTagSync(shop, segment!.id);
    await db().query(
      `INSERT INTO loyalty_redemptions (shop, customer_gid, reward_id, reward, points, starts_at, expires_at, request_key)
       VALUES ($1, $2, 'r1', '{}'::jsonb, 10, now(), now() + interval '30 days', 'k1')`,
      [shop, cgid(base)],
    );
    // Email: a queued message, a suppression, the sender settings.
    await queueEmail(db(), {
      shop, customerGid: cgid(base), to: c.email!, category: "feedback_request", idempotencyKey: `feedback-request:${base}`,
      render: async () => ({ subject: "How was it?", html: "<p>Hi</p>", text: "Hi" }),
    });
    await suppressAddress(db(), { shop, address: `gone${base}@example.com`, reason: "unsubscribed" });
    await saveShopEmailSettings(db(), shop, { ...DEFAULT_EMAIL_SETTINGS, senderName: "Shop" });
  }

  it("deletes every row of that shop and none of another shop's", async () => {
    await populate(TEST_SHOP, 5101n);
    await populate(other, 5101n); // the same Shopify ids in another shop
    const otherBefore = await countsFor(other);
    // Populated: every table the pipeline, segments and loyalty write for a shop.
    const populated = ["customers", "orders", "line_items", "refunds", "customer_tags", "products", "data_exports", "audit_log", "webhook_events", "bulk_operations",
      "segments", "segment_members", "segment_membership_changes", "segment_shop_versions", "tag_writes", "loyalty_programs", "loyalty_program_versions", "loyalty_ledger", "loyalty_redemptions", "sessions", "shops",
      "email_outbox", "email_suppressions", "email_settings"];
    for (const shop of [other, TEST_SHOP]) {
      const counts = await countsFor(shop);
      expect(populated.filter((t) => !(counts[t]! > 0)), `tables left empty for ${shop}`).toEqual([]);
    }

    await deliverAndSettle("shop/redact", shopRedactPayload(TEST_SHOP));

    const after = await countsFor(TEST_SHOP);
    // Only the shop/redact delivery itself and the audit record of the erasure remain.
    expect(after).toEqual({ ...Object.fromEntries(Object.keys(after).map((key) => [key, 0])), webhook_events: 1, audit_log: 1 });
    expect((await inboxRows({ shop: TEST_SHOP }))[0]).toMatchObject({ topic: "shop/redact", status: "processed" });
    expect(await auditOf(TEST_SHOP, "shop.redacted")).toHaveLength(1);
    expect(await countsFor(other)).toEqual(otherBefore);
    expect(await customerRow(other, cgid(5101n))).toMatchObject({ email: "buyer5101@example.com", orders_count: 1, total_spent_minor: "1900" });
  });
});

describe("app/uninstalled", () => {
  it("deletes the shop's sessions and marks it uninstalled, keeping its CRM data", async () => {
    const shop = "uninstalling.myshopify.com";
    const bystander = "bystander.myshopify.com";
    await deliverAndSettle("customers/create", customerPayload({ id: 6101n }), { shop });
    await insertSession(shop, `offline_${shop}`);
    await insertSession(shop, `${shop}_online_1`);
    await insertSession(bystander, `offline_${bystander}`);

    await deliverAndSettle("app/uninstalled", shopPayload({ shop, name: "Uninstalling Store", currency: "EUR" }), { shop });

    expect((await inboxRows({ shop, topic: "app/uninstalled" }))[0]).toMatchObject({ status: "processed", last_error: null });
    expect((await db().query(`SELECT id FROM "Session" WHERE shop = $1`, [shop])).rows).toEqual([]);
    expect((await db().query(`SELECT id FROM "Session" WHERE shop = $1`, [bystander])).rows).toHaveLength(1);
    const { rows } = await db().query(`SELECT uninstalled_at, name FROM shops WHERE domain = $1`, [shop]);
    expect(rows[0].uninstalled_at).toBeInstanceOf(Date);
    expect(rows[0].name).toBe("Uninstalling Store");
    expect(await customerRow(shop, cgid(6101n))).not.toBeNull();
    expect(await auditOf(shop, "app.uninstalled")).toHaveLength(1);
  });

  it("marks a shop uninstalled even when the uninstall is the first event the app hears from it", async () => {
    const shop = "quiet-shop.myshopify.com";
    await insertSession(shop, `offline_${shop}`);
    await deliverAndSettle("app/uninstalled", shopPayload({ shop }), { shop, triggeredAt: new Date(Date.now() - 2_000).toISOString() });
    expect((await db().query(`SELECT id FROM "Session" WHERE shop = $1`, [shop])).rows).toEqual([]);
    const { rows } = await db().query(`SELECT uninstalled_at FROM shops WHERE domain = $1`, [shop]);
    expect(rows[0]?.uninstalled_at).toBeInstanceOf(Date);
  });
});
