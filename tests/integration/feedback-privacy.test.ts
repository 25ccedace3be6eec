// Feedback data under the privacy webhooks: customers/data_request exports it,
// customers/redact erases the text and the link to the person (anonymous scores and star
// ratings stay), shop/redact deletes every feedback row of the shop.
import { describe, expect, it } from "vitest";
import { getPool } from "../../app/db.server";
import { buildCustomerExport } from "../../app/services/customer-export.server";
import { setFeedbackRules } from "../../app/services/feedback/rules.server";
import { runFeedbackScheduler } from "../../app/services/feedback/scheduler.server";
import { submitAnswer } from "../../app/services/feedback/answers.server";
import { signFeedbackToken } from "../../app/services/feedback/links.server";
import { customerRedactPayload, dataRequestPayload, orderPayload, shopRedactPayload } from "../support/factories";
import { deliverAndSettle, setUpPipelineHarness } from "../support/pipeline";
import { TEST_SHOP } from "../support/webhooks";

setUpPipelineHarness();

const db = () => getPool();
const lia = { id: 7301n, email: "lia.private@example.com", firstName: "Lia" };
const max = { id: 7302n, email: "max.private@example.com", firstName: "Max" };
const LIA = "gid://shopify/Customer/7301";
const MAX = "gid://shopify/Customer/7302";
const SECRET_TEXT = "Lia's private complaint about the parcel";

async function answered(customer: typeof lia, orderId: bigint, nps: string, comment: string) {
  await deliverAndSettle("orders/paid", orderPayload({ id: orderId, customer, totalPrice: "25.00", lines: [{ productId: 9301n, title: "Mug", price: "25.00" }] }));
  await runFeedbackScheduler();
  const { rows } = await db().query<{ id: string; link_expires_at: Date }>(`SELECT id::text AS id, link_expires_at FROM feedback_requests WHERE shop = $1 AND order_gid = $2`, [TEST_SHOP, `gid://shopify/Order/${orderId}`]);
  const token = signFeedbackToken({ shop: TEST_SHOP, requestId: rows[0]!.id, expiresAt: rows[0]!.link_expires_at });
  const result = await submitAnswer(token, { nps, comment, "rating-0": "2", "review-0": `${comment} (review)` });
  expect(result).toMatchObject({ ok: true });
}

describe("feedback and privacy", () => {
  it("data_request exports the customer's requests, answers and cases; redact erases them but keeps the anonymous scores; shop/redact deletes all", async () => {
    await setFeedbackRules(TEST_SHOP, { rules: [{ name: "now", trigger: "order_paid", delayDays: 0 }] });
    await answered(lia, 73001n, "4", SECRET_TEXT);
    await answered(max, 73002n, "10", "Great mug");

    // customers/data_request: the export carries the feedback.
    await deliverAndSettle("customers/data_request", dataRequestPayload({ shop: TEST_SHOP, customerId: lia.id, email: lia.email, orderIds: [73001n], requestId: 7777n }));
    const { rows: exports } = await db().query<{ data: { feedback: Record<string, { nps?: number; comment?: string; productRatings?: unknown[]; reasons?: string[]; status?: string }[]> } }>(
      `SELECT data FROM data_exports WHERE shop = $1 AND customer_gid = $2`,
      [TEST_SHOP, LIA],
    );
    const feedback = exports[0]!.data.feedback;
    expect(feedback.requests!.map((r) => r.status)).toEqual(["answered"]);
    expect(feedback.responses!.map((r) => [r.nps, r.comment, r.productRatings])).toEqual([[4, SECRET_TEXT, [{ productId: "gid://shopify/Product/9301", rating: 2, review: `${SECRET_TEXT} (review)` }]]]);
    expect(feedback.cases!.map((c) => [c.status, c.reasons])).toEqual([["open", ["detractor", "low_rating"]]]);

    // customers/redact: text and links to the person go; scores and stars stay, anonymous.
    await deliverAndSettle("customers/redact", customerRedactPayload({ shop: TEST_SHOP, customerId: lia.id, email: lia.email, orderIds: [73001n] }));
    const everything = JSON.stringify(
      await Promise.all(
        ["feedback_requests", "feedback_responses", "feedback_product_ratings", "feedback_cases"].map(async (t) => (await db().query(`SELECT * FROM ${t} WHERE shop = $1`, [TEST_SHOP])).rows),
      ),
    );
    expect(everything).not.toContain("private complaint");
    expect(everything).not.toContain(LIA);
    expect(everything).not.toContain("gid://shopify/Order/73001");
    const { rows: responses } = await db().query(`SELECT nps, comment, customer_gid, order_gid, request_id IS NULL AS unlinked, redacted_at IS NOT NULL AS redacted FROM feedback_responses WHERE shop = $1 ORDER BY nps`, [TEST_SHOP]);
    expect(responses).toEqual([
      { nps: 4, comment: null, customer_gid: null, order_gid: null, unlinked: true, redacted: true },
      { nps: 10, comment: "Great mug", customer_gid: MAX, order_gid: "gid://shopify/Order/73002", unlinked: false, redacted: false },
    ]);
    const { rows: ratings } = await db().query(`SELECT rating, review FROM feedback_product_ratings WHERE shop = $1 ORDER BY review NULLS FIRST`, [TEST_SHOP]);
    expect(ratings).toEqual([
      { rating: 2, review: null },
      { rating: 2, review: "Great mug (review)" },
    ]);
    const { rows: cases } = await db().query(`SELECT customer_gid FROM feedback_cases WHERE shop = $1`, [TEST_SHOP]);
    expect(cases).toEqual([{ customer_gid: MAX }]);
    const { rows: requests } = await db().query(`SELECT customer_gid FROM feedback_requests WHERE shop = $1`, [TEST_SHOP]);
    expect(requests).toEqual([{ customer_gid: MAX }]);
    // Max's own export is untouched and Lia has nothing left to export.
    expect((await buildCustomerExport(db(), TEST_SHOP, MAX))!.feedback.responses.map((r) => r.comment)).toEqual(["Great mug"]);
    expect((await buildCustomerExport(db(), TEST_SHOP, LIA))!.feedback).toEqual({ requests: [], responses: [], cases: [] });

    // shop/redact: nothing of the shop's feedback remains.
    await deliverAndSettle("shop/redact", shopRedactPayload(TEST_SHOP));
    for (const table of ["feedback_rules", "feedback_settings", "feedback_requests", "feedback_responses", "feedback_product_ratings", "feedback_cases"]) {
      const { rows } = await db().query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE shop = $1`, [TEST_SHOP]);
      expect(rows[0]!.n, table).toBe(0);
    }
  });
});
