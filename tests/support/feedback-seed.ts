// Hand-seeded feedback data for the feedback admin tests (tests/integration/admin-feedback.test.ts,
// tests/e2e/feedback-ui.test.ts): customers, products, orders, one rule, and requests with
// their responses, product ratings and cases written directly in SQL, so every figure the
// pages show is known exactly. The answer flow itself (the public page) is exercised through
// the real submitAnswer elsewhere.
import { getPool } from "../../app/db.server";
import { setFeedbackRules } from "../../app/services/feedback/rules.server";

const DAY = 86_400_000;

export type SeededAnswer = {
  key: string;
  customer: number;
  order: number;
  nps: number;
  comment: string | null;
  language: string | null;
  sentiment: "positive" | "neutral" | "negative" | null;
  daysAgo: number;
  ratings: { product: number; rating: number; review?: string }[];
  caseReasons?: string[];
};

export const FEEDBACK_CUSTOMERS = [
  { id: 8101, first: "Ana", last: "Lima", email: "ana.fb@example.com" },
  { id: 8102, first: "Bo", last: "<b>Bold</b>", email: "bo.fb@example.com" },
  { id: 8103, first: "Cy", last: "Ng", email: "cy.fb@example.com" },
];
export const FEEDBACK_PRODUCTS = [
  { id: 9201, title: "Trail Shoe" },
  { id: 9202, title: "Merino Sock" },
];

/**
 * Five answers: two promoters, one passive, two detractors (NPS (2-2)/5 = 0.0), each with a
 * case where it says so; plus one request sent and unanswered and one skipped.
 */
export const FEEDBACK_ANSWERS: SeededAnswer[] = [
  { key: "ana-1", customer: 8101, order: 81001, nps: 10, comment: "Loved the shoes", language: "en", sentiment: "positive", daysAgo: 20, ratings: [{ product: 9201, rating: 5, review: "Perfect fit" }] },
  { key: "ana-2", customer: 8101, order: 81002, nps: 9, comment: "Me encantó", language: "es", sentiment: "positive", daysAgo: 10, ratings: [{ product: 9202, rating: 4 }] },
  { key: "bo-1", customer: 8102, order: 81003, nps: 3, comment: "<script>alert(1)</script> arrived broken", language: "en", sentiment: "negative", daysAgo: 5, ratings: [{ product: 9201, rating: 1, review: "Sole came off" }], caseReasons: ["detractor", "low_rating", "negative_text"] },
  { key: "cy-1", customer: 8103, order: 81004, nps: 7, comment: null, language: "en", sentiment: null, daysAgo: 3, ratings: [{ product: 9202, rating: 3 }] },
  { key: "cy-2", customer: 8103, order: 81005, nps: 5, comment: "Slow delivery", language: "en", sentiment: "negative", daysAgo: 1, ratings: [], caseReasons: ["detractor", "negative_text"] },
];

/** sentRequestId: order #1006's request (Ana), sent and unanswered; the order has both products. */
export type SeededFeedback = { ruleId: string; responseIds: Record<string, string>; caseIds: Record<string, string>; sentRequestId: string };

export async function seedFeedback(shop: string, now: Date): Promise<SeededFeedback> {
  const db = getPool();
  await db.query(`INSERT INTO shops (domain, name) VALUES ($1, 'Feedback Test Shop') ON CONFLICT (domain) DO NOTHING`, [shop]);
  for (const c of FEEDBACK_CUSTOMERS) {
    await db.query(`INSERT INTO customers (shop, gid, first_name, last_name, email) VALUES ($1, $2, $3, $4, $5)`, [shop, `gid://shopify/Customer/${c.id}`, c.first, c.last, c.email]);
  }
  for (const p of FEEDBACK_PRODUCTS) await db.query(`INSERT INTO products (shop, gid, title) VALUES ($1, $2, $3)`, [shop, `gid://shopify/Product/${p.id}`, p.title]);
  await setFeedbackRules(shop, { rules: [{ name: "after delivery", trigger: "order_fulfilled", delayDays: 5 }] });
  const { rows: rule } = await db.query<{ id: string }>(`SELECT id::text AS id FROM feedback_rules WHERE shop = $1`, [shop]);
  const ruleId = rule[0]!.id;
  const orders = [...FEEDBACK_ANSWERS.map((a) => ({ order: a.order, customer: a.customer })), { order: 81006, customer: 8101 }, { order: 81007, customer: 8102 }];
  for (const o of orders) {
    await db.query(
      `INSERT INTO orders (shop, gid, legacy_id, customer_gid, name, currency, total_price_minor, shopify_created_at, shopify_updated_at)
       VALUES ($1, $2, $3, $4, $5, 'USD', 5000, $6, $6)`,
      [shop, `gid://shopify/Order/${o.order}`, String(o.order), `gid://shopify/Customer/${o.customer}`, `#${o.order - 80000}`, new Date(now.getTime() - 40 * DAY)],
    );
  }
  const responseIds: Record<string, string> = {};
  const caseIds: Record<string, string> = {};
  for (const a of FEEDBACK_ANSWERS) {
    const at = new Date(now.getTime() - a.daysAgo * DAY);
    const sent = new Date(at.getTime() - DAY);
    const { rows: req } = await db.query<{ id: string }>(
      `INSERT INTO feedback_requests (shop, rule_id, order_gid, customer_gid, status, triggered_at, send_at, sent_at, link_expires_at, answered_at)
       VALUES ($1, $2, $3, $4, 'answered', $5, $5, $5, $6, $7) RETURNING id::text AS id`,
      [shop, ruleId, `gid://shopify/Order/${a.order}`, `gid://shopify/Customer/${a.customer}`, sent, new Date(sent.getTime() + 180 * DAY), at],
    );
    const { rows: resp } = await db.query<{ id: string }>(
      `INSERT INTO feedback_responses (shop, request_id, order_gid, customer_gid, nps, comment, language, sentiment_label, sentiment_score, submitted_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id::text AS id`,
      [shop, req[0]!.id, `gid://shopify/Order/${a.order}`, `gid://shopify/Customer/${a.customer}`, a.nps, a.comment, a.language, a.sentiment, a.sentiment === null ? null : a.sentiment === "negative" ? -0.5 : 0.5, at],
    );
    responseIds[a.key] = resp[0]!.id;
    for (const r of a.ratings) {
      await db.query(`INSERT INTO feedback_product_ratings (shop, response_id, product_gid, rating, review) VALUES ($1, $2, $3, $4, $5)`, [
        shop,
        resp[0]!.id,
        `gid://shopify/Product/${r.product}`,
        r.rating,
        r.review ?? null,
      ]);
    }
    if (a.caseReasons) {
      const { rows: k } = await db.query<{ id: string }>(
        `INSERT INTO feedback_cases (shop, response_id, customer_gid, order_gid, reasons, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id::text AS id`,
        [shop, resp[0]!.id, `gid://shopify/Customer/${a.customer}`, `gid://shopify/Order/${a.order}`, a.caseReasons, at],
      );
      caseIds[a.key] = k[0]!.id;
    }
  }
  // Sent and unanswered (its order has both products); skipped (never sent).
  for (const p of FEEDBACK_PRODUCTS) {
    await db.query(`INSERT INTO line_items (shop, gid, order_gid, product_gid, title, quantity, price_minor) VALUES ($1, $2, 'gid://shopify/Order/81006', $3, $4, 1, 2500)`, [
      shop,
      `gid://shopify/LineItem/${p.id}6`,
      `gid://shopify/Product/${p.id}`,
      p.title,
    ]);
  }
  const twoDaysAgo = new Date(now.getTime() - 2 * DAY);
  const { rows: sent } = await db.query<{ id: string }>(
    `INSERT INTO feedback_requests (shop, rule_id, order_gid, customer_gid, status, triggered_at, send_at, sent_at, link_expires_at)
     VALUES ($1, $2, 'gid://shopify/Order/81006', 'gid://shopify/Customer/8101', 'sent', $3, $3, $3, $4) RETURNING id::text AS id`,
    [shop, ruleId, twoDaysAgo, new Date(twoDaysAgo.getTime() + 180 * DAY)],
  );
  await db.query(
    `INSERT INTO feedback_requests (shop, rule_id, order_gid, customer_gid, status, skip_reason, triggered_at, send_at)
     VALUES ($1, $2, 'gid://shopify/Order/81007', 'gid://shopify/Customer/8102', 'skipped', 'cancelled', $3, $3)`,
    [shop, ruleId, twoDaysAgo],
  );
  return { ruleId, responseIds, caseIds, sentRequestId: sent[0]!.id };
}
