// The feedback admin pages' service on a real database, on hand-seeded answers with known
// figures (tests/support/feedback-seed.ts): the overview (NPS, response rate, weekly NPS,
// product averages), the responses' filters and keyset pages, the cases inbox (resolve with
// who and when, reopen, notes, another shop's case), the rules editor's form (field errors,
// nothing stored when invalid, create / edit / delete through setFeedbackRules), the switches,
// the test email, and the customer page's feedback card. The browser flow is
// tests/e2e/feedback-ui.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import {
  getCustomerFeedback,
  getFeedbackOverview,
  getFeedbackSettingsPage,
  listFeedbackCases,
  listFeedbackResponses,
  parseResponseFilters,
  saveFeedbackSettingsForm,
  sendFeedbackTestEmail,
  updateFeedbackCase,
} from "../../app/services/admin-feedback.server";
import { getFeedbackSettings, listFeedbackRules } from "../../app/services/feedback/rules.server";
import { closeEmailQueue, closeQueues } from "../../app/queues.server";
import { useIntegrationEnv } from "../support/env";
import { seedFeedback, type SeededFeedback } from "../support/feedback-seed";

const SHOP = "admin-feedback-a.myshopify.com";
const OTHER = "admin-feedback-b.myshopify.com";
const PAGED = "admin-feedback-paged.myshopify.com";
const NOW = new Date("2026-12-09T12:00:00Z"); // a Wednesday: the current week starts Monday 2026-12-07
const ACTOR = "shopify-user:42";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let seeded: SeededFeedback;
let other: SeededFeedback;

beforeAll(async () => {
  env = await useIntegrationEnv();
  seeded = await seedFeedback(SHOP, NOW);
  other = await seedFeedback(OTHER, NOW);
});

afterAll(async () => {
  await closeEmailQueue();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const responses = (search: Record<string, string>, shop = SHOP) => listFeedbackResponses({ shop, filters: parseResponseFilters(new URLSearchParams(search)) });
const keys = (ids: string[]) => ids.map((id) => Object.entries(seeded.responseIds).find(([, v]) => v === id)?.[0] ?? `?${id}`);

describe("overview", () => {
  it("counts this shop's requests and answers: NPS, response rate, weekly NPS, product averages", async () => {
    const o = await getFeedbackOverview({ shop: SHOP, now: NOW, weeks: 5 });
    expect(o.stats).toEqual({ requested: 7, sent: 6, answered: 5, nps: 0, promoters: 2, passives: 1, detractors: 2, averageRating: 3.25, openCases: 2 });
    expect(o.responseRate).toBe(83.3);
    expect(o.weeks).toEqual([
      { label: "Nov 9", nps: null, responses: 0 },
      { label: "Nov 16", nps: 100, responses: 1 },
      { label: "Nov 23", nps: 100, responses: 1 },
      { label: "Nov 30", nps: -50, responses: 2 },
      { label: "Dec 7", nps: -100, responses: 1 },
    ]);
    expect(o.products).toEqual([
      { productGid: "gid://shopify/Product/9201", title: "Trail Shoe", ratings: 2, average: 3 },
      { productGid: "gid://shopify/Product/9202", title: "Merino Sock", ratings: 2, average: 3.5 },
    ]);
  });

  it("an empty shop has no NPS and no response rate", async () => {
    const o = await getFeedbackOverview({ shop: "empty-feedback.myshopify.com", now: NOW, weeks: 2 });
    expect(o.stats.nps).toBeNull();
    expect(o.responseRate).toBeNull();
    expect(o.weeks.map((w) => w.nps)).toEqual([null, null]);
  });
});

describe("responses", () => {
  it("lists newest first with the customer's link, the order name and the ratings; text is returned as stored", async () => {
    const page = await responses({});
    expect(keys(page.responses.map((r) => r.id))).toEqual(["cy-2", "cy-1", "bo-1", "ana-2", "ana-1"]);
    const bo = page.responses[2]!;
    expect(bo).toMatchObject({ customerId: "8102", customerName: "Bo <b>Bold</b>", orderName: "#1003", nps: 3, caseStatus: "open", sentiment: "negative", language: "en" });
    expect(bo.comment).toBe("<script>alert(1)</script> arrived broken");
    expect(bo.ratings).toEqual([{ title: "Trail Shoe", rating: 1, review: "Sole came off" }]);
    expect(page.products).toEqual([
      { id: "9202", title: "Merino Sock" },
      { id: "9201", title: "Trail Shoe" },
    ]);
    expect(page.languages).toEqual(["en", "es"]);
    expect(page.olderCursor).toBeNull();
  });

  it.each([
    [{ group: "detractor" }, ["cy-2", "bo-1"]],
    [{ group: "promoter" }, ["ana-2", "ana-1"]],
    [{ group: "passive" }, ["cy-1"]],
    [{ npsMin: "7", npsMax: "9" }, ["cy-1", "ana-2"]],
    [{ rating: "1" }, ["bo-1"]],
    [{ product: "9202" }, ["cy-1", "ana-2"]],
    [{ product: "9201", rating: "4" }, []],
    [{ product: "9201", rating: "5" }, ["ana-1"]],
    [{ sentiment: "negative" }, ["cy-2", "bo-1"]],
    [{ language: "es" }, ["ana-2"]],
    [{ from: "2026-12-04", to: "2026-12-06" }, ["cy-1", "bo-1"]],
    [{ group: "detractor", sentiment: "negative", from: "2026-12-05" }, ["cy-2"]],
    // Unusable values are ignored, not errors.
    [{ group: "bogus", rating: "9", from: "yesterday", product: "x'; DROP TABLE" }, ["cy-2", "cy-1", "bo-1", "ana-2", "ana-1"]],
  ])("filter %j", async (search, expected) => {
    expect(keys((await responses(search as Record<string, string>)).responses.map((r) => r.id))).toEqual(expected);
  });

  it("never shows another shop's responses", async () => {
    const ids = (await responses({})).responses.map((r) => r.id);
    for (const id of Object.values(other.responseIds)) expect(ids).not.toContain(id);
  });

  it("pages by (submitted_at, id) without losing or repeating rows, ties included", async () => {
    const db = getPool();
    // 120 responses, three per timestamp (ties), microsecond timestamps, no requests needed
    // (anonymous, as after a redaction).
    await db.query(
      `INSERT INTO feedback_responses (shop, nps, submitted_at)
       SELECT $1, g % 11, $2::timestamptz - make_interval(mins => g / 3) + interval '123 microseconds' FROM generate_series(0, 119) g`,
      [PAGED, NOW],
    );
    const { rows: expected } = await db.query<{ id: string }>(`SELECT id::text AS id FROM feedback_responses r WHERE shop = $1 ORDER BY r.submitted_at DESC, r.id DESC`, [PAGED]);
    const seen: string[] = [];
    let before: string | null = null;
    let pages = 0;
    do {
      const page = await responses(before ? { before } : {}, PAGED);
      seen.push(...page.responses.map((r) => r.id));
      before = page.olderCursor;
      pages += 1;
    } while (before && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(expected.map((r) => r.id));
    // With a filter, the cursor keeps it.
    const promoters = await responses({ group: "promoter" }, PAGED);
    expect(promoters.responses.every((r) => r.nps >= 9)).toBe(true);
    expect(promoters.responses).toHaveLength(21); // g % 11 in {9, 10} for g in 0..119
  });
});

describe("cases", () => {
  it("lists open cases newest first, resolves one with a note recording who and when, and it moves to resolved", async () => {
    const open = await listFeedbackCases({ shop: SHOP, status: "open" });
    expect(open.counts).toEqual({ open: 2, resolved: 0 });
    expect(open.cases.map((c) => c.id)).toEqual([seeded.caseIds["cy-2"], seeded.caseIds["bo-1"]]);
    expect(open.cases[1]).toMatchObject({ customerId: "8102", orderName: "#1003", nps: 3, reasons: ["detractor", "low_rating", "negative_text"], staffNote: null, resolvedBy: null });

    const when = new Date("2026-12-09T13:00:00Z");
    const resolved = await updateFeedbackCase({ shop: SHOP, fields: { intent: "resolve", caseId: seeded.caseIds["bo-1"]!, note: "  Sent a replacement  " }, actor: ACTOR, now: when });
    expect(resolved).toEqual({ status: 200, result: { ok: true, message: "Case resolved" } });
    const { rows } = await getPool().query(`SELECT status, staff_note, resolved_by, resolved_at FROM feedback_cases WHERE id = $1`, [seeded.caseIds["bo-1"]]);
    expect(rows[0]).toEqual({ status: "resolved", staff_note: "Sent a replacement", resolved_by: ACTOR, resolved_at: when });

    const after = await listFeedbackCases({ shop: SHOP, status: "open" });
    expect(after.cases.map((c) => c.id)).toEqual([seeded.caseIds["cy-2"]]);
    expect(after.counts).toEqual({ open: 1, resolved: 1 });
    const done = await listFeedbackCases({ shop: SHOP, status: "resolved" });
    expect(done.cases).toHaveLength(1);
    expect(done.cases[0]).toMatchObject({ id: seeded.caseIds["bo-1"], status: "resolved", staffNote: "Sent a replacement", resolvedBy: ACTOR });
    expect(done.cases[0]!.resolvedAt).toBeTruthy();

    // Resolving again changes nothing and says so.
    const again = await updateFeedbackCase({ shop: SHOP, fields: { intent: "resolve", caseId: seeded.caseIds["bo-1"]!, note: "other" }, actor: "shopify-user:7" });
    expect(again.status).toBe(409);
    const { rows: still } = await getPool().query(`SELECT staff_note, resolved_by FROM feedback_cases WHERE id = $1`, [seeded.caseIds["bo-1"]]);
    expect(still[0]).toEqual({ staff_note: "Sent a replacement", resolved_by: ACTOR });
  });

  it("reopens (clearing who and when, keeping the note) and saves a note alone", async () => {
    const reopened = await updateFeedbackCase({ shop: SHOP, fields: { intent: "reopen", caseId: seeded.caseIds["bo-1"]! }, actor: ACTOR });
    expect(reopened.status).toBe(200);
    const noted = await updateFeedbackCase({ shop: SHOP, fields: { intent: "note", caseId: seeded.caseIds["cy-2"]!, note: "Called, no answer" }, actor: ACTOR });
    expect(noted.status).toBe(200);
    const { rows } = await getPool().query(`SELECT id::text AS id, status, staff_note, resolved_by, resolved_at FROM feedback_cases WHERE shop = $1 ORDER BY id`, [SHOP]);
    expect(rows).toEqual([
      { id: seeded.caseIds["bo-1"], status: "open", staff_note: "Sent a replacement", resolved_by: null, resolved_at: null },
      { id: seeded.caseIds["cy-2"], status: "open", staff_note: "Called, no answer", resolved_by: null, resolved_at: null },
    ]);
  });

  it("refuses another shop's case, an unknown intent, a bad id and a too-long note, changing nothing", async () => {
    const before = (await getPool().query(`SELECT id, status, staff_note, updated_at FROM feedback_cases ORDER BY id`)).rows;
    expect((await updateFeedbackCase({ shop: SHOP, fields: { intent: "resolve", caseId: other.caseIds["bo-1"]! }, actor: ACTOR })).status).toBe(404);
    expect((await updateFeedbackCase({ shop: SHOP, fields: { intent: "delete", caseId: seeded.caseIds["bo-1"]! }, actor: ACTOR })).status).toBe(422);
    expect((await updateFeedbackCase({ shop: SHOP, fields: { intent: "resolve", caseId: "1 OR 1=1" }, actor: ACTOR })).status).toBe(422);
    const long = await updateFeedbackCase({ shop: SHOP, fields: { intent: "note", caseId: seeded.caseIds["bo-1"]!, note: "x".repeat(2001) }, actor: ACTOR });
    expect(long).toEqual({ status: 422, result: { ok: false, caseId: seeded.caseIds["bo-1"], error: "The note must be at most 2000 characters" } });
    expect((await getPool().query(`SELECT id, status, staff_note, updated_at FROM feedback_cases ORDER BY id`)).rows).toEqual(before);
  });
});

const ruleFields = (over: Record<string, string> = {}) => ({
  intent: "save-rule",
  originalName: "",
  name: "second",
  enabled: "true",
  trigger: "order_paid",
  delayDays: "2",
  posDelayDays: "",
  segment: "",
  minimumTotal: "",
  includeTypes: "",
  excludeTypes: "Gift Card, Sample",
  reminderCount: "1",
  reminderSpacingDays: "4",
  linkExpiryDays: "90",
  ...over,
});

describe("settings", () => {
  it("shows each invalid field's error at its field and stores nothing", async () => {
    const before = await listFeedbackRules(SHOP);
    const cases: [Record<string, string>, Record<string, string>][] = [
      [{ delayDays: "99" }, { delayDays: "delayDays must be between 0 and 60 days" }],
      [{ delayDays: "abc" }, { delayDays: "delayDays must be a number of days" }],
      [{ delayDays: "1.5" }, { delayDays: "delayDays must be a whole number of days" }],
      [{ name: "  " }, { name: "name must not be empty" }],
      [{ trigger: "order_delivered" }, { trigger: expect.stringContaining("order_delivered") as unknown as string }],
      [{ reminderCount: "4", linkExpiryDays: "0" }, { reminderCount: "reminders.count must be between 0 and 3", linkExpiryDays: "linkExpiryDays must be between 1 and 365" }],
      [{ minimumTotal: "twenty" }, { minimumTotal: expect.stringContaining("minimumTotal must be a decimal amount") as unknown as string }],
      [{ segment: "amount_spent >" }, { segment: expect.stringMatching(/^segment: /) as unknown as string }],
      [{ name: "after delivery" }, { name: 'A rule named "after delivery" already exists' }],
    ];
    for (const [over, errors] of cases) {
      const { status, result } = await saveFeedbackSettingsForm(SHOP, ruleFields(over));
      expect(status, JSON.stringify(over)).toBe(422);
      expect(result, JSON.stringify(over)).toEqual({ ok: false, errors });
    }
    expect(await listFeedbackRules(SHOP)).toEqual(before);
  });

  it("creates, edits and deletes rules through the rules service (the CLI's format)", async () => {
    const created = await saveFeedbackSettingsForm(SHOP, ruleFields());
    expect(created).toEqual({ status: 200, result: { ok: true, message: 'Rule "second" saved' } });
    const listing = await listFeedbackRules(SHOP);
    expect(listing.rules.map((r) => r.name)).toEqual(["after delivery", "second"]);
    const { id: _id, ...second } = listing.rules[1]!;
    expect(second).toEqual({
      name: "second",
      enabled: true,
      trigger: "order_paid",
      delayDays: 2,
      posDelayDays: null,
      orders: { segment: null, minimumTotal: null, productTypes: { include: [], exclude: ["Gift Card", "Sample"] } },
      reminders: { count: 1, spacingDays: 4 },
      linkExpiryDays: 90,
    });

    const edited = await saveFeedbackSettingsForm(SHOP, ruleFields({ originalName: "second", enabled: "false", delayDays: "0", posDelayDays: "1", segment: "amount_spent > 100", minimumTotal: "20.00" }));
    expect(edited.status).toBe(200);
    const again = (await listFeedbackRules(SHOP)).rules[1]!;
    expect(again).toMatchObject({ id: listing.rules[1]!.id, enabled: false, delayDays: 0, posDelayDays: 1, orders: { segment: "amount_spent > 100", minimumTotal: "20.00" } });

    // The page shows the rules as the form edits them.
    const page = await getFeedbackSettingsPage(SHOP);
    expect(page.rules[1]!.form).toMatchObject({ name: "second", enabled: false, delayDays: "0", posDelayDays: "1", excludeTypes: "Gift Card, Sample", segment: "amount_spent > 100" });

    expect((await saveFeedbackSettingsForm(SHOP, { intent: "delete-rule", originalName: "second" })).status).toBe(200);
    expect((await listFeedbackRules(SHOP)).rules.map((r) => r.name)).toEqual(["after delivery"]);
    expect((await saveFeedbackSettingsForm(SHOP, { intent: "delete-rule", originalName: "second" })).status).toBe(404);
    expect((await saveFeedbackSettingsForm(SHOP, ruleFields({ originalName: "gone" }))).status).toBe(404);
  });

  it("saves the negative-answer switches, keeping the rules", async () => {
    const rulesBefore = (await listFeedbackRules(SHOP)).rules;
    expect((await saveFeedbackSettingsForm(SHOP, { intent: "settings", tagNegative: "true", staffAlert: "false" })).status).toBe(200);
    expect(await getFeedbackSettings(getPool(), SHOP)).toEqual({ tagNegative: true, staffAlert: false });
    expect((await listFeedbackRules(SHOP)).rules).toEqual(rulesBefore);
  });

  it("previews the real feedback email with sample data", async () => {
    const page = await getFeedbackSettingsPage(SHOP);
    expect(page.previewSubject).toContain("Feedback Test Shop");
    expect(page.previewHtml).toContain("Sample product");
    expect(page.previewHtml).toContain("#1001");
  });

  it('"Send a test to me" queues the feedback email to the typed address, category test; a bad address is refused', async () => {
    expect(await sendFeedbackTestEmail(SHOP, "not an address")).toEqual({ ok: false, errors: { testAddress: "Enter an email address" } });
    expect(await sendFeedbackTestEmail(SHOP, "")).toEqual({ ok: false, errors: { testAddress: "Enter an email address" } });
    const sent = await sendFeedbackTestEmail(SHOP, " me@shop.example ");
    expect(sent).toEqual({ ok: true, message: "Test feedback email queued to me@shop.example" });
    const { rows } = await getPool().query(`SELECT category, to_address, customer_gid, subject, html FROM email_outbox WHERE shop = $1`, [SHOP]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ category: "test", to_address: "me@shop.example", customer_gid: null });
    expect(rows[0].html).toContain("Sample product");
  });
});

describe("customer page", () => {
  it("lists the customer's requests with their answers and the open case", async () => {
    const bo = await getCustomerFeedback({ shop: SHOP, customerGid: "gid://shopify/Customer/8102" });
    expect(bo.openCases).toBe(1);
    expect(bo.requests).toHaveLength(2);
    expect(bo.requests[0]).toMatchObject({ orderName: "#1007", status: "skipped", skipReason: "cancelled", answer: null, caseStatus: null });
    expect(bo.requests[1]).toMatchObject({
      orderName: "#1003",
      status: "answered",
      rule: "after delivery",
      caseStatus: "open",
      answer: { nps: 3, comment: "<script>alert(1)</script> arrived broken", sentiment: "negative", ratings: [{ title: "Trail Shoe", rating: 1, review: "Sole came off" }] },
    });
    const nobody = await getCustomerFeedback({ shop: OTHER, customerGid: "gid://shopify/Customer/9999" });
    expect(nobody).toEqual({ openCases: 0, requests: [] });
  });
});
