// Feedback data in the customer export (customers/data_request, `crm customer export`) and
// its erasure (customers/redact; shop/redact deletes every feedback table of the shop in
// privacy.server.ts's purge). docs/feedback.md "Privacy" says what stays:
//
// - erased: every request of the customer (rows deleted), the comment, review texts,
//   language and sentiment of each response, the response's link to the request, order and
//   customer, and the customer's cases (with their staff notes);
// - kept, anonymous: each response's NPS score and each product's star rating (no text, no
//   order, no customer), so shop NPS and the product averages that feed published ratings
//   do not change when a customer is forgotten.
import type { Queryable } from "../../db.server";
import { markProductRatingsDirty } from "../product-ratings/outbox.server";

export type FeedbackExport = {
  requests: { id: string; orderId: string; status: string; skipReason: string | null; sentAt: string | null; remindersSent: number; answeredAt: string | null }[];
  responses: {
    requestId: string | null;
    orderId: string | null;
    nps: number;
    comment: string | null;
    language: string | null;
    sentiment: string | null;
    submittedAt: string;
    updatedAt: string;
    productRatings: { productId: string; rating: number; review: string | null }[];
  }[];
  cases: { status: string; reasons: string[]; staffNote: string | null; createdAt: string; resolvedAt: string | null }[];
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function buildFeedbackExport(db: Queryable, shop: string, customerGid: string): Promise<FeedbackExport> {
  const requests = await db.query<{ id: string; order_gid: string; status: string; skip_reason: string | null; sent_at: Date | null; reminders_sent: number; answered_at: Date | null }>(
    `SELECT id::text AS id, order_gid, status, skip_reason, sent_at, reminders_sent, answered_at FROM feedback_requests WHERE shop = $1 AND customer_gid = $2 ORDER BY id`,
    [shop, customerGid],
  );
  const responses = await db.query<{
    request_id: string | null;
    order_gid: string | null;
    nps: number;
    comment: string | null;
    language: string | null;
    sentiment_label: string | null;
    submitted_at: Date;
    updated_at: Date;
    ratings: { productId: string; rating: number; review: string | null }[];
  }>(
    `SELECT s.request_id::text AS request_id, s.order_gid, s.nps, s.comment, s.language, s.sentiment_label, s.submitted_at, s.updated_at,
            COALESCE((SELECT json_agg(json_build_object('productId', p.product_gid, 'rating', p.rating, 'review', p.review) ORDER BY p.product_gid)
                        FROM feedback_product_ratings p WHERE p.response_id = s.id), '[]'::json) AS ratings
       FROM feedback_responses s WHERE s.shop = $1 AND s.customer_gid = $2 ORDER BY s.id`,
    [shop, customerGid],
  );
  const cases = await db.query<{ status: string; reasons: string[]; staff_note: string | null; created_at: Date; resolved_at: Date | null }>(
    `SELECT status, reasons, staff_note, created_at, resolved_at FROM feedback_cases WHERE shop = $1 AND customer_gid = $2 ORDER BY id`,
    [shop, customerGid],
  );
  return {
    requests: requests.rows.map((r) => ({ id: r.id, orderId: r.order_gid, status: r.status, skipReason: r.skip_reason, sentAt: iso(r.sent_at), remindersSent: r.reminders_sent, answeredAt: iso(r.answered_at) })),
    responses: responses.rows.map((r) => ({
      requestId: r.request_id,
      orderId: r.order_gid,
      nps: r.nps,
      comment: r.comment,
      language: r.language,
      sentiment: r.sentiment_label,
      submittedAt: r.submitted_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
      productRatings: r.ratings,
    })),
    cases: cases.rows.map((c) => ({ status: c.status, reasons: c.reasons, staffNote: c.staff_note, createdAt: c.created_at.toISOString(), resolvedAt: iso(c.resolved_at) })),
  };
}

/** customers/redact: see the header. `orderGids`: the customer's orders (also those already unlinked). */
export async function eraseCustomerFeedback(db: Queryable, input: { shop: string; customerGid: string; orderGids: readonly string[] }): Promise<{ responses: number; requests: number; cases: number }> {
  const { shop, customerGid } = input;
  const orderGids = [...new Set(input.orderGids)];
  const { rows: responses } = await db.query<{ id: string }>(
    `SELECT s.id::text AS id FROM feedback_responses s
      WHERE s.shop = $1 AND (s.customer_gid = $2 OR s.order_gid = ANY($3::text[])
             OR s.request_id IN (SELECT r.id FROM feedback_requests r WHERE r.shop = $1 AND (r.customer_gid = $2 OR r.order_gid = ANY($3::text[]))))
      ORDER BY s.id FOR UPDATE`,
    [shop, customerGid, orderGids],
  );
  const ids = responses.map((r) => r.id);
  const cases = await db.query(`DELETE FROM feedback_cases WHERE shop = $1 AND (customer_gid = $2 OR response_id = ANY($3::bigint[]))`, [shop, customerGid, ids]);
  const erased = await db.query<{ product_gid: string }>(
    `UPDATE feedback_product_ratings SET review = NULL, updated_at = now() WHERE response_id = ANY($1::bigint[]) RETURNING product_gid`,
    [ids],
  );
  // The stars stay (anonymous), so the published averages should not move; the products are
  // still marked so the writer re-publishes them from what is now stored.
  await markProductRatingsDirty(db, shop, erased.rows.map((r) => r.product_gid));
  await db.query(
    `UPDATE feedback_responses SET comment = NULL, language = NULL, sentiment_score = NULL, sentiment_label = NULL,
            customer_gid = NULL, order_gid = NULL, request_id = NULL, redacted_at = COALESCE(redacted_at, now()), updated_at = now()
      WHERE id = ANY($1::bigint[])`,
    [ids],
  );
  const requests = await db.query(`DELETE FROM feedback_requests WHERE shop = $1 AND (customer_gid = $2 OR order_gid = ANY($3::text[]))`, [shop, customerGid, orderGids]);
  return { responses: ids.length, requests: requests.rowCount ?? 0, cases: cases.rowCount ?? 0 };
}

/** Every feedback table of a shop, children first (shop/redact). */
export const FEEDBACK_TABLES = [
  "feedback_cases",
  "feedback_product_ratings",
  "feedback_responses",
  "feedback_requests",
  "feedback_rules",
  "feedback_settings",
  "product_rating_writes",
  "shop_metafield_definitions",
] as const;
