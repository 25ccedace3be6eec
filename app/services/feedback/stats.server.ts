// Read models for the CLI (and later the admin): the shop's feedback figures, a customer's requests.
import { getPool, type Queryable } from "../../db.server";
import { netPromoterScore } from "../../domain/feedback/rules";

export type FeedbackStats = {
  requested: number;
  sent: number;
  answered: number;
  nps: number | null;
  promoters: number;
  passives: number;
  detractors: number;
  averageRating: number | null;
  openCases: number;
};

/**
 * requested: every request (skipped included); sent: requests whose email went out (sent,
 * reminded or answered after a send); answered: requests with a response. NPS and the groups
 * count every response of the shop, redacted ones included (anonymous, docs/feedback.md);
 * averageRating is over every product rating, to two decimals.
 */
export async function getFeedbackStats(shop: string, db: Queryable = getPool()): Promise<FeedbackStats> {
  const { rows } = await db.query<{
    requested: number;
    sent: number;
    answered: number;
    promoters: number;
    passives: number;
    detractors: number;
    average_rating: string | null;
    open_cases: number;
  }>(
    `SELECT (SELECT count(*) FROM feedback_requests WHERE shop = $1)::int AS requested,
            (SELECT count(*) FROM feedback_requests WHERE shop = $1 AND sent_at IS NOT NULL)::int AS sent,
            (SELECT count(*) FROM feedback_requests WHERE shop = $1 AND status = 'answered')::int AS answered,
            (SELECT count(*) FROM feedback_responses WHERE shop = $1 AND nps >= 9)::int AS promoters,
            (SELECT count(*) FROM feedback_responses WHERE shop = $1 AND nps BETWEEN 7 AND 8)::int AS passives,
            (SELECT count(*) FROM feedback_responses WHERE shop = $1 AND nps <= 6)::int AS detractors,
            (SELECT round(avg(rating), 2)::text FROM feedback_product_ratings WHERE shop = $1) AS average_rating,
            (SELECT count(*) FROM feedback_cases WHERE shop = $1 AND status = 'open')::int AS open_cases`,
    [shop],
  );
  const r = rows[0]!;
  return {
    requested: r.requested,
    sent: r.sent,
    answered: r.answered,
    nps: netPromoterScore({ promoters: r.promoters, passives: r.passives, detractors: r.detractors }),
    promoters: r.promoters,
    passives: r.passives,
    detractors: r.detractors,
    averageRating: r.average_rating === null ? null : Number(r.average_rating),
    openCases: r.open_cases,
  };
}

export type CustomerRequest = {
  id: string;
  rule: string;
  orderGid: string;
  status: "scheduled" | "sent" | "reminded" | "answered" | "skipped";
  skipReason: string | null;
  sendAt: string;
  sentAt: string | null;
  remindersSent: number;
  nextReminderAt: string | null;
  linkExpiresAt: string | null;
  answeredAt: string | null;
  nps: number | null;
};

export async function listCustomerRequests(shop: string, customerGid: string, db: Queryable = getPool()): Promise<CustomerRequest[]> {
  const { rows } = await db.query<{
    id: string;
    rule: string;
    order_gid: string;
    status: CustomerRequest["status"];
    skip_reason: string | null;
    send_at: Date;
    sent_at: Date | null;
    reminders_sent: number;
    next_reminder_at: Date | null;
    link_expires_at: Date | null;
    answered_at: Date | null;
    nps: number | null;
  }>(
    `SELECT r.id::text AS id, fr.name AS rule, r.order_gid, r.status, r.skip_reason, r.send_at, r.sent_at, r.reminders_sent, r.next_reminder_at,
            r.link_expires_at, r.answered_at, s.nps
       FROM feedback_requests r JOIN feedback_rules fr ON fr.id = r.rule_id
       LEFT JOIN feedback_responses s ON s.request_id = r.id
      WHERE r.shop = $1 AND r.customer_gid = $2
      ORDER BY r.id`,
    [shop, customerGid],
  );
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return rows.map((r) => ({
    id: r.id,
    rule: r.rule,
    orderGid: r.order_gid,
    status: r.status,
    skipReason: r.skip_reason,
    sendAt: r.send_at.toISOString(),
    sentAt: iso(r.sent_at),
    remindersSent: r.reminders_sent,
    nextReminderAt: iso(r.next_reminder_at),
    linkExpiresAt: iso(r.link_expires_at),
    answeredAt: iso(r.answered_at),
    nps: r.nps,
  }));
}
