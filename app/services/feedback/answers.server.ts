// The public answer page's service: what the page shows for a link, and saving an answer.
//
// A link is `/feedback/<token>` (links.server.ts): the request it names must exist, the
// signature must match that request's shop, and the expiry must not have passed. A request
// whose email never went out has no valid link. Answering again edits the same response (one
// per request); the loyalty `feedback` bonus is given once per request whatever the rating;
// a detractor, a 1-2 star rating or clearly negative text opens a case (once per response),
// and, when the shop turned them on, tags the customer `crm:feedback-negative` through the
// tag outbox and emails the shop's staff alert address.
import { z } from "zod";
import { getPool, withTransaction, type Queryable } from "../../db.server";
import { logger } from "../../logger.server";
import { caseReasons, type CaseReason } from "../../domain/feedback/rules";
import { feedbackLanguage } from "../../domain/feedback/translations";
import { analyzeSentiment } from "../../domain/feedback/sentiment";
import { tagKey } from "../../shopify/customer-tags";
import { awardFeedbackBonus } from "../loyalty/adjust.server";
import { queueEmail, wakeEmailSender } from "../email/outbox.server";
import { getShopEmailSettings } from "../email/settings.server";
import { renderStaffAlertEmail } from "../../emails/feedback-staff-alert";
import { verifyFeedbackToken, parseFeedbackToken } from "./links.server";
import { getFeedbackSettings } from "./rules.server";
import { MAX_COMMENT_CHARS, MAX_REVIEW_CHARS } from "../../domain/feedback/limits";

export { MAX_COMMENT_CHARS, MAX_FORM_BYTES, MAX_REVIEW_CHARS } from "../../domain/feedback/limits";
import { markProductRatingsDirty, wakeProductRatingsWriter } from "../product-ratings/outbox.server";
import { reevaluateSegmentsForCustomers } from "../segments/reevaluate.server";

export const NEGATIVE_TAG = "crm:feedback-negative";

export type LinkProblem = { ok: false; status: 404 | 410; reason: "unknown" | "expired" };

export type AnswerView = {
  ok: true;
  requestId: string;
  shopName: string;
  locale: string;
  orderName: string;
  products: { title: string }[];
  expiresAt: string;
  answer: { nps: number; comment: string; ratings: { rating: number | null; review: string }[] } | null;
};

type RequestRow = {
  id: string;
  shop: string;
  order_gid: string;
  customer_gid: string | null;
  status: string;
  sent_at: Date | null;
  link_expires_at: Date | null;
};

/** The request a token names, if the token is genuine and current. */
async function resolveToken(db: Queryable, token: string, now: Date, lock = false): Promise<RequestRow | LinkProblem> {
  const parts = parseFeedbackToken(token);
  if (!parts) return { ok: false, status: 404, reason: "unknown" };
  const { rows } = await db.query<RequestRow>(
    `SELECT id::text AS id, shop, order_gid, customer_gid, status, sent_at, link_expires_at FROM feedback_requests WHERE id = $1${lock ? " FOR UPDATE" : ""}`,
    [parts.requestId],
  );
  const request = rows[0];
  if (!request || request.sent_at === null) return { ok: false, status: 404, reason: "unknown" };
  const check = verifyFeedbackToken(token, request.shop, now);
  if (!check.ok) return check.reason === "expired" ? { ok: false, status: 410, reason: "expired" } : { ok: false, status: 404, reason: "unknown" };
  return request;
}

const isProblem = (value: RequestRow | LinkProblem): value is LinkProblem => "ok" in value;

type ProductRow = { product_gid: string; title: string };

/** The products the page asks about: the order's products (one each), in a stable order. */
async function requestProducts(db: Queryable, shop: string, orderGid: string): Promise<ProductRow[]> {
  const { rows } = await db.query<ProductRow>(
    `SELECT DISTINCT ON (li.product_gid) li.product_gid, li.title
       FROM line_items li WHERE li.shop = $1 AND li.order_gid = $2 AND li.product_gid IS NOT NULL AND NOT li.gift_card
      ORDER BY li.product_gid, li.gid`,
    [shop, orderGid],
  );
  return rows;
}

async function shopLook(db: Queryable, shop: string): Promise<{ name: string; locale: string }> {
  const [{ rows }, settings] = [await db.query<{ name: string | null }>(`SELECT name FROM shops WHERE domain = $1`, [shop]), await getShopEmailSettings(db, shop)];
  return { name: rows[0]?.name ?? shop.replace(/\.myshopify\.com$/, ""), locale: settings.locale };
}

export async function loadAnswerPage(token: string, now = new Date()): Promise<AnswerView | LinkProblem> {
  const db = getPool();
  const request = await resolveToken(db, token, now);
  if (isProblem(request)) return request;
  const products = await requestProducts(db, request.shop, request.order_gid);
  const look = await shopLook(db, request.shop);
  const { rows: orderRows } = await db.query<{ name: string | null }>(`SELECT name FROM orders WHERE shop = $1 AND gid = $2`, [request.shop, request.order_gid]);
  const { rows: responses } = await db.query<{ id: string; nps: number; comment: string | null }>(`SELECT id::text AS id, nps, comment FROM feedback_responses WHERE request_id = $1`, [request.id]);
  let answer: AnswerView["answer"] = null;
  if (responses[0]) {
    const { rows: ratings } = await db.query<{ product_gid: string; rating: number; review: string | null }>(`SELECT product_gid, rating, review FROM feedback_product_ratings WHERE response_id = $1`, [responses[0].id]);
    const byProduct = new Map(ratings.map((r) => [r.product_gid, r]));
    answer = {
      nps: responses[0].nps,
      comment: responses[0].comment ?? "",
      ratings: products.map((p) => ({ rating: byProduct.get(p.product_gid)?.rating ?? null, review: byProduct.get(p.product_gid)?.review ?? "" })),
    };
  }
  return {
    ok: true,
    requestId: request.id,
    shopName: look.name,
    locale: look.locale,
    orderName: orderRows[0]?.name ?? "",
    products: products.map((p) => ({ title: p.title })),
    expiresAt: request.link_expires_at!.toISOString(),
    answer,
  };
}

const optionalText = (max: number, field: string) =>
  z
    .string()
    .max(max, `${field} must be at most ${max} characters`)
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? null : v.trim()));

/** The form: nps (0-10, required), comment, and per product index i: rating-i (1-5, optional), review-i. */
export function buildAnswerSchema(productCount: number) {
  const shape: Record<string, z.ZodTypeAny> = {
    nps: z.string({ message: "nps is required" }).regex(/^(?:[0-9]|10)$/, "nps must be a whole number from 0 to 10").transform(Number),
    comment: optionalText(MAX_COMMENT_CHARS, "comment"),
  };
  for (let i = 0; i < productCount; i++) {
    shape[`rating-${i}`] = z
      .string()
      .regex(/^[1-5]$/, "a rating must be 1 to 5 stars")
      .optional()
      .transform((v) => (v === undefined ? null : Number(v)));
    shape[`review-${i}`] = optionalText(MAX_REVIEW_CHARS, "a review");
  }
  return z.object(shape).strict();
}

export type SubmitResult =
  | { ok: true; edited: boolean; caseOpened: boolean; bonusAwarded: boolean }
  | LinkProblem
  | { ok: false; status: 400; errors: string[] };

/** Form fields as strings (a repeated field is invalid: a radio group sends one value). */
export function formFields(entries: Iterable<[string, unknown]>): Record<string, string> | { duplicate: string } {
  const fields: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (typeof value !== "string") return { duplicate: key };
    if (Object.hasOwn(fields, key)) return { duplicate: key };
    fields[key] = value;
  }
  return fields;
}

export async function submitAnswer(token: string, fields: Record<string, string>, now = new Date()): Promise<SubmitResult> {
  // Resolve (and reject) without a transaction first: a forged link costs one indexed read.
  const first = await resolveToken(getPool(), token, now);
  if (isProblem(first)) return first;
  const products = await requestProducts(getPool(), first.shop, first.order_gid);
  const parsed = buildAnswerSchema(products.length).safeParse(fields);
  if (!parsed.success) return { ok: false, status: 400, errors: parsed.error.issues.map((i) => (i.code === "unrecognized_keys" ? "the form has fields this request does not have" : i.message)) };
  const data = parsed.data as Record<string, number | string | null> & { nps: number; comment: string | null };
  const look = await shopLook(getPool(), first.shop);
  // Sentiment before the transaction (pure, bounded): comment and reviews together.
  const texts = [data.comment, ...products.map((_, i) => data[`review-${i}`] as string | null)].filter((t): t is string => t !== null);
  const sentiment = texts.length > 0 ? await analyzeSentiment(texts.join("\n"), { languageHint: look.locale }) : null;
  const ratings = products.map((p, i) => ({ productGid: p.product_gid, rating: data[`rating-${i}`] as number | null, review: data[`review-${i}`] as string | null }));

  let wake = false;
  let ratingsChanged = false;
  const result = await withTransaction(async (db): Promise<SubmitResult> => {
    const request = await resolveToken(db, token, now, true);
    if (isProblem(request)) return request;
    const { rows: saved } = await db.query<{ id: string; inserted: boolean }>(
      `INSERT INTO feedback_responses (shop, request_id, order_gid, customer_gid, nps, comment, language, sentiment_score, sentiment_label, submitted_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (request_id) DO UPDATE SET nps = EXCLUDED.nps, comment = EXCLUDED.comment, language = EXCLUDED.language,
              sentiment_score = EXCLUDED.sentiment_score, sentiment_label = EXCLUDED.sentiment_label, updated_at = $10, edits = feedback_responses.edits + 1
       RETURNING id::text AS id, (xmax = 0) AS inserted`,
      [request.shop, request.id, request.order_gid, request.customer_gid, data.nps, data.comment, sentiment?.language ?? (texts.length > 0 ? null : feedbackLanguage(look.locale)), sentiment?.score ?? null, sentiment?.label ?? null, now],
    );
    const response = saved[0]!;
    const rated = ratings.filter((r) => r.rating !== null);
    // Products whose published rating may move: those rated before this save and those rated now.
    const { rows: before } = await db.query<{ product_gid: string; rating: number }>(`SELECT product_gid, rating FROM feedback_product_ratings WHERE response_id = $1`, [response.id]);
    const beforeMap = new Map(before.map((r) => [r.product_gid, r.rating]));
    const changed = [...before.filter((b) => !rated.some((r) => r.productGid === b.product_gid)).map((b) => b.product_gid), ...rated.filter((r) => beforeMap.get(r.productGid) !== r.rating).map((r) => r.productGid)];
    if (changed.length > 0) {
      await markProductRatingsDirty(db, request.shop, changed);
      ratingsChanged = true;
    }
    await db.query(`DELETE FROM feedback_product_ratings WHERE response_id = $1 AND NOT (product_gid = ANY($2::text[]))`, [response.id, rated.map((r) => r.productGid)]);
    if (rated.length > 0) {
      await db.query(
        `INSERT INTO feedback_product_ratings (shop, response_id, product_gid, rating, review)
         SELECT $1, $2, p, r, v FROM unnest($3::text[], $4::int[], $5::text[]) AS x(p, r, v)
         ON CONFLICT (response_id, product_gid) DO UPDATE SET rating = EXCLUDED.rating, review = EXCLUDED.review, updated_at = now()`,
        [request.shop, response.id, rated.map((r) => r.productGid), rated.map((r) => r.rating), rated.map((r) => r.review)],
      );
    }
    await db.query(
      `UPDATE feedback_requests SET status = 'answered', answered_at = COALESCE(answered_at, $2), next_reminder_at = NULL, updated_at = now() WHERE id = $1`,
      [request.id, now],
    );
    // The loyalty bonus: keyed by the request, so once, and never looking at the answer.
    const bonus = request.customer_gid ? await awardFeedbackBonus({ shop: request.shop, customerGid: request.customer_gid, feedbackId: request.id, submittedAt: now, now }, db) : null;
    const reasons = caseReasons({ nps: data.nps, ratings: rated.map((r) => r.rating!), sentiment });
    const opened = reasons.length > 0 ? await openCase(db, { shop: request.shop, responseId: response.id, customerGid: request.customer_gid, orderGid: request.order_gid, reasons }) : null;
    if (opened?.created) wake = await afterCaseOpened(db, { shop: request.shop, caseId: opened.id, customerGid: request.customer_gid, shopName: look.name, nps: data.nps, comment: data.comment, reasons });
    // The answer changed the customer's feedback (and maybe points and an open case): the
    // segments on nps_score, nps_group, feedback_count, has_open_case, loyalty_points, ... follow now.
    if (request.customer_gid) await reevaluateSegmentsForCustomers(db, request.shop, [request.customer_gid], { kind: "event" }, { now });
    return { ok: true, edited: !response.inserted, caseOpened: opened?.created ?? false, bonusAwarded: bonus !== null };
  });
  if (wake) await wakeEmailSender();
  if (result.ok && ratingsChanged) await wakeProductRatingsWriter(first.shop);
  if (result.ok) logger.info({ shop: first.shop, requestId: first.id, edited: result.edited, caseOpened: result.caseOpened }, "feedback.answered");
  return result;
}

async function openCase(db: Queryable, c: { shop: string; responseId: string; customerGid: string | null; orderGid: string; reasons: CaseReason[] }): Promise<{ id: string; created: boolean }> {
  const { rows } = await db.query<{ id: string; created: boolean }>(
    `INSERT INTO feedback_cases (shop, response_id, customer_gid, order_gid, reasons) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (response_id) DO UPDATE SET reasons = EXCLUDED.reasons, updated_at = now()
     RETURNING id::text AS id, (xmax = 0) AS created`,
    [c.shop, c.responseId, c.customerGid, c.orderGid, c.reasons],
  );
  return rows[0]!;
}

/** The shop's optional effects of a new case; returns whether an email was queued. */
async function afterCaseOpened(
  db: Queryable,
  c: { shop: string; caseId: string; customerGid: string | null; shopName: string; nps: number; comment: string | null; reasons: CaseReason[] },
): Promise<boolean> {
  const settings = await getFeedbackSettings(db, c.shop);
  if (settings.tagNegative && c.customerGid) {
    // Through the tag outbox (source "feedback": no reconciler removes it); not when the
    // customer already carries it or an open write exists (partial unique index).
    await db.query(
      `INSERT INTO tag_writes (shop, customer_gid, tag, tag_key, action, source)
       SELECT $1, $2, $3, $4, 'add', 'feedback'
        WHERE NOT EXISTS (SELECT 1 FROM app_added_tags a WHERE a.shop = $1 AND a.customer_gid = $2 AND a.tag_key = $4)
          AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.shop = $1 AND c.gid = $2 AND $3 = ANY(c.tags))
       ON CONFLICT DO NOTHING`,
      [c.shop, c.customerGid, NEGATIVE_TAG, tagKey(NEGATIVE_TAG)],
    );
  }
  if (!settings.staffAlert) return false;
  const email = await getShopEmailSettings(db, c.shop);
  if (!email.staffAlertAddress) {
    logger.warn({ shop: c.shop, caseId: c.caseId }, "feedback.staff_alert_without_address");
    return false;
  }
  const result = await queueEmail(db, {
    shop: c.shop,
    customerGid: null,
    to: email.staffAlertAddress,
    category: "staff_alert",
    idempotencyKey: `feedback-case:${c.caseId}`,
    render: ({ unsubscribeUrl }) => renderStaffAlertEmail({ shopName: c.shopName, settings: email, caseId: c.caseId, nps: c.nps, comment: c.comment, reasons: c.reasons, unsubscribeUrl }),
  });
  return result.status === "queued";
}
