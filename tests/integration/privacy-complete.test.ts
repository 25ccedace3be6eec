// Privacy, complete (issue 11 items 6 and 7; decision 038): customers/redact through the
// real pipeline leaves no personal data in ANY table (found by scanning every text, array and
// JSON column information_schema lists), keeps anonymous ledger amounts, and later payloads
// for the redacted customer stay erased; customers/data_request exports everything held, even
// for a customer deleted in Shopify; the inbox retention policy drops old bodies only.
import { beforeAll, describe, expect, it } from "vitest";
import { getPool } from "../../app/db.server";
import { adjustPoints } from "../../app/services/loyalty/adjust.server";
import { saveProgram } from "../../app/services/loyalty/program.server";
import { createSegment, listSegments } from "../../app/services/segments/segments.server";
import { reconcileSegmentTagSync } from "../../app/services/tag-sync/reconcile.server";
import { queueEmail } from "../../app/services/email/outbox.server";
import { setFeedbackRules } from "../../app/services/feedback/rules.server";
import { runFeedbackScheduler } from "../../app/services/feedback/scheduler.server";
import { submitAnswer } from "../../app/services/feedback/answers.server";
import { signFeedbackToken } from "../../app/services/feedback/links.server";
import { dropExpiredInboxPayloads } from "../../app/services/inbox-retention.server";
import { replayEvents } from "../../app/services/event-replay.server";
import { buildCustomerExport } from "../../app/services/customer-export.server";
import {
  checkoutPayload,
  customerDeletePayload,
  customerPayload,
  customerRedactPayload,
  dataRequestPayload,
  orderPayload,
  refundPayload,
  smsConsentPayload,
  tagsPayload,
  type CustomerSpec,
} from "../support/factories";
import { deliverAndSettle, setUpPipelineHarness } from "../support/pipeline";
import { TEST_SHOP } from "../support/webhooks";

setUpPipelineHarness();

// One database for the file: the shop's program, segment and feedback rule, once.
beforeAll(async () => {
  await saveProgram({ shop: TEST_SHOP, settings: { earn: { pointsPerUnit: 1 }, pendingDays: 0 }, actor: "owner@example.com" });
  await createSegment({ shop: TEST_SHOP, name: "Buyers", query: "number_of_orders >= 1", tag: "crm:buyers", tagSyncEnabled: true });
  await setFeedbackRules(TEST_SHOP, { rules: [{ name: "now", trigger: "order_paid", delayDays: 0 }] });
});

const db = () => getPool();
const cgid = (id: bigint) => `gid://shopify/Customer/${id}`;

/** Every (table, column) of a text-like, array or JSON type in the public schema. */
async function textColumns(): Promise<{ table: string; column: string }[]> {
  const { rows } = await db().query<{ table_name: string; column_name: string }>(
    `SELECT c.table_name, c.column_name FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
      WHERE c.table_schema = 'public' AND (c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'USER-DEFINED'))
      ORDER BY 1, 2`,
  );
  return rows.map((r) => ({ table: r.table_name, column: r.column_name }));
}

/** Where each needle occurs (case-insensitive), as "table.column: needle". */
async function scan(needles: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const { table, column } of await textColumns()) {
    const { rows } = await db().query<{ needle: string }>(
      `SELECT n AS needle FROM unnest($1::text[]) AS n WHERE EXISTS (SELECT 1 FROM "${table}" WHERE strpos(lower("${column}"::text), lower(n)) > 0)`,
      [needles],
    );
    for (const r of rows) found.push(`${table}.${column}: ${r.needle}`);
  }
  return found;
}

const q: CustomerSpec = {
  id: 8801n,
  email: "quintessa.marblewick@example.com",
  firstName: "Quintessa",
  lastName: "Marblewick",
  phone: "+15550188011",
  address1: "913 Juniper Hollow",
  city: "Brackenford",
  countryCode: "IS",
  note: "Allergic to hazelnuts",
};
const other: CustomerSpec = { id: 8802n, email: "otto.keeps@example.com", firstName: "Otto", lastName: "Keeps" };
// A customer deleted in Shopify (not redacted): its data_request.
const d: CustomerSpec = { ...q, id: 8803n, email: "quintessa.deleted@example.com" };
const REFUND_NOTE = "crushed box left by the hedge";
const LEDGER_REASON = "goodwill for the lost hazelnut parcel";
const COMMENT = "the ribbon smelled of lavender soap";
const OTHER_COMMENT = "Otto liked the tin";
const PII = [q.email!, q.firstName!, q.lastName!, q.phone!, q.address1!, q.city!, q.note!, REFUND_NOTE, LEDGER_REASON, COMMENT, "vip-quintessa"];

async function answerFeedback(customer: CustomerSpec, orderId: bigint) {
  await runFeedbackScheduler();
  const { rows } = await db().query<{ id: string; link_expires_at: Date }>(
    `SELECT id::text AS id, link_expires_at FROM feedback_requests WHERE shop = $1 AND order_gid = $2`,
    [TEST_SHOP, `gid://shopify/Order/${orderId}`],
  );
  expect(rows, `feedback request for ${customer.firstName}`).toHaveLength(1);
  const token = signFeedbackToken({ shop: TEST_SHOP, requestId: rows[0]!.id, expiresAt: rows[0]!.link_expires_at });
  const comment = customer.id === other.id ? OTHER_COMMENT : COMMENT;
  expect(await submitAnswer(token, { nps: "3", comment, "rating-0": "2", "review-0": `${comment} (review)` })).toMatchObject({ ok: true });
}

async function ledgerSum(customerGid: string): Promise<number> {
  const { rows } = await db().query<{ n: number }>(`SELECT COALESCE(sum(points), 0)::int AS n FROM loyalty_ledger WHERE shop = $1 AND customer_gid = $2`, [TEST_SHOP, customerGid]);
  return rows[0]!.n;
}

/** A customer with data in every table the app keeps about a person. */
async function populate(c: CustomerSpec, base: bigint) {
  await deliverAndSettle("customers/create", customerPayload(c));
  await deliverAndSettle("orders/paid", orderPayload({ id: base + 1n, customer: c, totalPrice: "40.00", lines: [{ productId: 9801n, title: "Tin", price: "40.00" }] }));
  await deliverAndSettle("refunds/create", { ...refundPayload({ orderId: base + 1n, amount: "5.00" }), note: c.id === other.id ? "Damaged" : REFUND_NOTE });
  await deliverAndSettle("customer.tags_added", tagsPayload({ customerId: c.id, tags: [c.id === other.id ? "regular" : "vip-quintessa"], occurredAt: "2026-01-19T00:00:00Z" }));
  // Issue 16's customer facts: SMS consent, a checkout left open (and its locale), the birth date.
  await deliverAndSettle("customers_marketing_consent/update", smsConsentPayload({ customerId: c.id, phone: c.phone ?? undefined, state: "subscribed", updatedAt: "2026-01-19T00:00:00Z" }));
  await deliverAndSettle("checkouts/create", checkoutPayload({ token: `tok-${c.id}`, customer: c, createdAt: "2026-01-18T10:00:00-05:00", locale: "is-IS" }));
  await db().query(`UPDATE customers SET birth_date = '1961-07-23' WHERE shop = $1 AND gid = $2`, [TEST_SHOP, cgid(c.id)]);
  await adjustPoints({ shop: TEST_SHOP, customerGid: cgid(c.id), points: 25, reason: c.id === other.id ? "welcome" : LEDGER_REASON, actor: "owner@example.com" });
  await db().query(
    `INSERT INTO loyalty_redemptions (shop, customer_gid, reward_id, reward, points, starts_at, expires_at, request_key)
     VALUES ($1, $2, 'r1', '{"title": "5 off"}'::jsonb, 10, now(), now() + interval '30 days', $3)`,
    [TEST_SHOP, cgid(c.id), `k-${c.id}`],
  );
  await db().query(
    `INSERT INTO loyalty_tier_changes (shop, customer_gid, from_tier, to_tier, metric, window_kind, value, program_version, cause)
     VALUES ($1, $2, NULL, 'Gold', 'points', 'lifetime', 25, 1, 'refresh')`,
    [TEST_SHOP, cgid(c.id)],
  );
  await queueEmail(db(), {
    shop: TEST_SHOP, customerGid: cgid(c.id), to: c.email!, category: "test", idempotencyKey: `hello-${c.id}`,
    render: async () => ({ subject: `Hello ${c.firstName}`, html: `<p>Hi ${c.firstName} ${c.lastName}</p>`, text: `Hi ${c.firstName} ${c.lastName}` }),
  });
  await answerFeedback(c, base + 1n);
}

describe("customers/redact, complete", () => {
  it("leaves none of the customer's personal data in any table, keeps anonymous ledger amounts, and later payloads stay erased", async () => {
    await populate(q, 880100n);
    await populate(other, 880200n);
    const [segment] = await listSegments(TEST_SHOP);
    await reconcileSegmentTagSync(TEST_SHOP, segment!.id);
    // The tag outbox wrote the segment tag to Shopify earlier: an app-added tag.
    const { rows: writes } = await db().query<{ id: string }>(`SELECT id::text AS id FROM tag_writes WHERE shop = $1 AND customer_gid = $2`, [TEST_SHOP, cgid(q.id)]);
    expect(writes.length).toBeGreaterThan(0);
    await db().query(`INSERT INTO app_added_tags (shop, customer_gid, tag_key, tag, source, write_id) VALUES ($1, $2, 'crm:buyers', 'crm:buyers', 'segment:1', $3)`, [TEST_SHOP, cgid(q.id), writes[0]!.id]);

    // Before: the personal data is in many places (the scan is able to find it).
    const before = await scan(PII);
    for (const place of ["customers.email", "customers.tags", "customer_tags.tag", "refunds.note", "loyalty_ledger.reason", "audit_log.details", "webhook_events.payload", "email_outbox.html", "feedback_responses.comment"]) {
      expect(before.some((f) => f.startsWith(`${place}:`)), place).toBe(true);
    }
    for (const table of ["segment_members", "segment_membership_changes", "loyalty_redemptions", "loyalty_tier_changes", "tag_writes", "app_added_tags", "checkouts"]) {
      const { rows } = await db().query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE shop = $1 AND customer_gid = $2`, [TEST_SHOP, cgid(q.id)]);
      expect(rows[0]!.n, table).toBeGreaterThan(0);
    }
    const qPoints = await ledgerSum(cgid(q.id));
    const otherPoints = await ledgerSum(cgid(other.id));
    expect(qPoints).toBeGreaterThan(0);
    const { rows: memberCount } = await db().query<{ member_count: number }>(`SELECT member_count FROM segments WHERE id = $1`, [segment!.id]);
    expect(memberCount[0]!.member_count).toBe(2);

    await deliverAndSettle("customers/redact", customerRedactPayload({ shop: TEST_SHOP, customerId: q.id, email: q.email, phone: q.phone, orderIds: [880101n] }));

    expect(await scan(PII)).toEqual([]);
    const { rows: profile } = await db().query(
      `SELECT country_code, state, tags, email_marketing_state, sms_marketing_state, sms_consent_at, locale, locale_at, birth_date, abandoned_checkout_at, segment_cities, segment_regions,
              redacted_at IS NOT NULL AS redacted, orders_count FROM customers WHERE shop = $1 AND gid = $2`,
      [TEST_SHOP, cgid(q.id)],
    );
    expect(profile).toEqual([
      { country_code: null, state: null, tags: [], email_marketing_state: null, sms_marketing_state: null, sms_consent_at: null, locale: null, locale_at: null, birth_date: null, abandoned_checkout_at: null, segment_cities: [], segment_regions: [], redacted: true, orders_count: 1 },
    ]);
    expect((await db().query(`SELECT count(*)::int AS n FROM checkouts WHERE shop = $1 AND customer_gid = $2`, [TEST_SHOP, cgid(q.id)])).rows).toEqual([{ n: 0 }]);
    // The customer's id remains only where the redaction itself is recorded.
    const idPlaces = (await scan([cgid(q.id)])).filter((f) => f !== `customers.gid: ${cgid(q.id)}` && f !== `audit_log.subject: ${cgid(q.id)}`);
    expect(idPlaces).toEqual([]);
    const { rows: audit } = await db().query(`SELECT action FROM audit_log WHERE shop = $1 AND subject = $2 AND details <> '{"redacted": true}'::jsonb`, [TEST_SHOP, cgid(q.id)]);
    expect(audit).toEqual([{ action: "customer.redacted" }]);
    // Ledger: the amounts stay, anonymous; the other customer's balance is unchanged.
    expect(await ledgerSum(cgid(q.id))).toBe(0);
    expect(await ledgerSum("redacted")).toBe(qPoints);
    expect(await ledgerSum(cgid(other.id))).toBe(otherPoints);
    const { rows: anonymous } = await db().query(`SELECT source, reason, order_gid, rule FROM loyalty_ledger WHERE shop = $1 AND customer_gid = 'redacted'`, [TEST_SHOP]);
    expect(anonymous.length).toBeGreaterThan(0);
    for (const row of anonymous) expect(row).toEqual({ source: "redacted", reason: "redacted", order_gid: null, rule: {} });
    expect((await db().query(`SELECT member_count FROM segments WHERE id = $1`, [segment!.id])).rows[0]).toEqual({ member_count: 1 });
    // Outside the sanctioned path the ledger is still append-only.
    await expect(db().query(`UPDATE loyalty_ledger SET reason = 'x' WHERE shop = $1 AND customer_gid = $2`, [TEST_SHOP, cgid(other.id)])).rejects.toThrow(/append-only/);
    const client = await db().connect();
    try {
      await client.query("BEGIN");
      await client.query(`SELECT set_config('crm.loyalty_ledger_erasure', 'on', true)`);
      await expect(client.query(`UPDATE loyalty_ledger SET points = points + 1 WHERE shop = $1 AND customer_gid = 'redacted'`, [TEST_SHOP])).rejects.toThrow(/append-only/);
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
    // The other customer keeps everything.
    const otherText = (await scan([other.email!, "Otto"])).join("\n");
    for (const place of ["customers.email", "customers.first_name", "email_outbox.html", "feedback_responses.comment", "webhook_events.payload"]) expect(otherText, place).toContain(place);

    // Late deliveries for the redacted customer: a profile update, a new order, a refund
    // with a note on its old order, tags. Nothing personal comes back; the new order's
    // amount is kept for the shop's analytics, without the person.
    const lastBefore = (await db().query<{ id: string }>(`SELECT max(id)::text AS id FROM webhook_events`)).rows[0]!.id;
    const late = { ...q, updatedAt: "2026-03-01T00:00:00-05:00" };
    await deliverAndSettle("customers/update", customerPayload(late));
    await deliverAndSettle("orders/create", orderPayload({ id: 880109n, customer: late, totalPrice: "33.00", createdAt: "2026-03-01T10:00:00-05:00" }));
    await deliverAndSettle("refunds/create", { ...refundPayload({ orderId: 880101n, amount: "1.00", createdAt: "2026-03-02T10:00:00-05:00" }), note: REFUND_NOTE });
    await deliverAndSettle("customer.tags_added", tagsPayload({ customerId: q.id, tags: ["vip-quintessa"], occurredAt: "2026-03-03T00:00:00Z" }));
    await deliverAndSettle("customers_marketing_consent/update", smsConsentPayload({ customerId: q.id, phone: q.phone!, state: "subscribed", updatedAt: "2026-03-03T00:00:00Z" }));
    await deliverAndSettle("checkouts/create", checkoutPayload({ token: "tok-late", customer: late, createdAt: "2026-03-03T10:00:00-05:00", locale: "is-IS" }));
    await deliverAndSettle("customers/data_request", dataRequestPayload({ shop: TEST_SHOP, customerId: q.id, email: q.email, phone: q.phone }));
    expect(await scan(PII)).toEqual([]);
    // The late SMS consent and checkout stored nothing about the person.
    expect((await db().query(`SELECT sms_marketing_state, locale FROM customers WHERE shop = $1 AND gid = $2`, [TEST_SHOP, cgid(q.id)])).rows).toEqual([{ sms_marketing_state: null, locale: null }]);
    expect((await db().query(`SELECT count(*)::int AS n FROM checkouts WHERE shop = $1 AND (customer_gid = $2 OR token = 'tok-late')`, [TEST_SHOP, cgid(q.id)])).rows).toEqual([{ n: 0 }]);
    const { rows: lateOrder } = await db().query(`SELECT customer_gid, email, total_price_minor, redacted_at IS NOT NULL AS redacted FROM orders WHERE shop = $1 AND gid = $2`, [TEST_SHOP, "gid://shopify/Order/880109"]);
    expect(lateOrder).toEqual([{ customer_gid: null, email: null, total_price_minor: "3300", redacted: true }]);
    // Every late body was replaced in the transaction that applied it.
    const { rows: lateRows } = await db().query(`SELECT topic, status, payload FROM webhook_events WHERE shop = $1 AND id > $2 ORDER BY id`, [TEST_SHOP, lastBefore]);
    expect(lateRows).toEqual(
      ["customers/update", "orders/create", "refunds/create", "customer.tags_added", "customers_marketing_consent/update", "checkouts/create", "customers/data_request"].map((topic) => ({ topic, status: "processed", payload: '{"redacted":true}' })),
    );
  });

  it("redacting a customer the app never saw keeps its later payloads out", async () => {
    const ghost: CustomerSpec = { id: 8809n, email: "ghost.unseen@example.com", firstName: "Ghostly", lastName: "Unseenworth" };
    await deliverAndSettle("customers/redact", customerRedactPayload({ shop: TEST_SHOP, customerId: ghost.id, email: ghost.email, orderIds: [] }));
    await deliverAndSettle("customers/create", customerPayload(ghost));
    await deliverAndSettle("orders/create", orderPayload({ id: 880901n, customer: ghost, totalPrice: "12.00" }));
    expect(await scan([ghost.email!, "Ghostly", "Unseenworth"])).toEqual([]);
  });
});

describe("customers/data_request, complete", () => {
  it("exports everything held, also for a customer deleted in Shopify", async () => {
    await populate(d, 880300n);
    expect((await buildCustomerExport(db(), TEST_SHOP, cgid(d.id)))!.segments.memberships).toEqual([expect.objectContaining({ segment: "Buyers" })]);
    await deliverAndSettle("customers/delete", customerDeletePayload(d.id));
    expect((await db().query(`SELECT deleted_at IS NOT NULL AS deleted FROM customers WHERE shop = $1 AND gid = $2`, [TEST_SHOP, cgid(d.id)])).rows).toEqual([{ deleted: true }]);

    await deliverAndSettle("customers/data_request", dataRequestPayload({ shop: TEST_SHOP, customerId: d.id, email: d.email, orderIds: [880301n], requestId: 8888n }));
    const { rows } = await db().query(`SELECT data FROM data_exports WHERE shop = $1 AND customer_gid = $2`, [TEST_SHOP, cgid(d.id)]);
    expect(rows).toHaveLength(1);
    const data = rows[0]!.data;
    expect(data.customer).toMatchObject({ id: cgid(d.id), email: d.email, firstName: "Quintessa", note: q.note, tags: ["vip-quintessa"], deletedInShopifyAt: expect.any(String) });
    // Issue 16's customer facts: SMS consent, language, birth date, checkouts.
    expect(data.customer).toMatchObject({
      smsMarketingConsent: { state: "subscribed", optInLevel: "single_opt_in", updatedAt: "2026-01-19T00:00:00.000Z" },
      locale: "is-IS",
      birthDate: "1961-07-23",
    });
    expect(data.checkouts).toEqual([{ token: `tok-${d.id}`, createdAt: "2026-01-18T15:00:00.000Z", updatedAt: "2026-01-18T15:00:00.000Z", completedAt: null, orderId: null }]);
    expect(data.orders).toHaveLength(1);
    expect(data.orders[0].refunds).toEqual([expect.objectContaining({ note: REFUND_NOTE })]);
    expect(data.loyalty.balance + data.loyalty.pending).toBe(await ledgerSum(cgid(d.id)));
    expect(data.loyalty).toMatchObject({
      tier: "Gold",
      ledger: expect.arrayContaining([expect.objectContaining({ points: 25, kind: "adjust", reason: LEDGER_REASON })]),
      redemptions: [expect.objectContaining({ rewardId: "r1", points: 10, status: "pending" })],
      tierChanges: [expect.objectContaining({ from: null, to: "Gold" })],
    });
    // Deleted in Shopify, the customer left the segment: both moves are in its history.
    expect(data.segments).toEqual({
      memberships: [],
      history: [expect.objectContaining({ segment: "Buyers", change: "entered" }), expect.objectContaining({ segment: "Buyers", change: "exited" })],
    });
    expect(data.feedback.responses).toEqual([expect.objectContaining({ nps: 3, comment: COMMENT })]);
    expect(data.emails).toEqual(expect.arrayContaining([expect.objectContaining({ to: d.email, subject: "Hello Quintessa", category: "test" })]));
  });
});

describe("inbox retention", () => {
  it("drops the bodies of old processed and ignored rows only, in batches, and their replay is refused", async () => {
    const now = new Date("2026-12-07T12:00:00Z");
    const day = 86_400_000;
    const insert = async (webhookId: string, status: string, processedDaysAgo: number | null) => {
      const { rows } = await db().query<{ id: string }>(
        `INSERT INTO webhook_events (shop, webhook_id, topic, api_version, payload, status, processed_at, received_at)
         VALUES ($1, $2, 'customers/update', '2025-10', '{"email":"kept@example.com"}', $3::"WebhookStatus", $4, $5) RETURNING id::text AS id`,
        [TEST_SHOP, webhookId, status, processedDaysAgo === null ? null : new Date(now.getTime() - processedDaysAgo * day), new Date(now.getTime() - 40 * day)],
      );
      return rows[0]!.id;
    };
    const oldProcessed = [await insert("p1", "processed", 31), await insert("p2", "processed", 45), await insert("p3", "processed", 90)];
    const oldIgnored = await insert("i1", "ignored", 31);
    const recent = await insert("p4", "processed", 29);
    const dead = await insert("d1", "dead", null);

    const report = await dropExpiredInboxPayloads(db(), { retentionDays: 30, now, batchSize: 2 });
    // 2 + 2 rows, then an empty batch that says nothing is left.
    expect(report).toMatchObject({ dropped: 4, batches: 3, complete: true });
    const { rows } = await db().query<{ id: string; payload: string | null; dropped: boolean }>(
      `SELECT id::text AS id, payload, payload_dropped_at IS NOT NULL AS dropped FROM webhook_events WHERE shop = $1 ORDER BY id`,
      [TEST_SHOP],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const id of [...oldProcessed, oldIgnored]) expect(byId.get(id)).toMatchObject({ payload: null, dropped: true });
    for (const id of [recent, dead]) expect(byId.get(id)).toMatchObject({ payload: '{"email":"kept@example.com"}', dropped: false });
    // A second run finds nothing; a bounded run says when more is left.
    expect(await dropExpiredInboxPayloads(db(), { retentionDays: 30, now })).toMatchObject({ dropped: 0, complete: true });
    expect(await dropExpiredInboxPayloads(db(), { retentionDays: 1, now, batchSize: 1, maxBatches: 1 })).toMatchObject({ dropped: 1, complete: false });

    const replay = await replayEvents({ shop: TEST_SHOP, status: "ignored" });
    expect(replay).toMatchObject({ replayed: 0, refused: [{ id: oldIgnored, reason: expect.stringContaining("retention") }] });
    expect((await db().query(`SELECT status FROM webhook_events WHERE id = $1`, [oldIgnored])).rows).toEqual([{ status: "ignored" }]);
    // A dead-lettered row whose body customers/redact erased is refused too; one with its body is replayed.
    const erased = await insert("d2", "dead", null);
    await db().query(`UPDATE webhook_events SET payload = '{"redacted":true}' WHERE id = $1`, [erased]);
    const deadReplay = await replayEvents({ shop: TEST_SHOP, status: "dead", ids: [dead, erased] });
    expect(deadReplay).toMatchObject({ replayed: 1, ids: [dead], refused: [{ id: erased, reason: "payload erased by customers/redact" }] });
  });
});
