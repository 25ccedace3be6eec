// Sends the feedback requests and reminders that are due (jobs/feedback-scheduler.ts runs it
// every FEEDBACK_SCHEDULER_INTERVAL_MS). PostgreSQL is the queue: each batch is one
// transaction that claims due rows with FOR UPDATE SKIP LOCKED (so several workers share the
// work and never take the same row), re-checks the rule and the order as they are now, renders
// the email and writes it to the email outbox (queueEmail, same transaction, key derived from
// the request), and records the outcome on the request. A crash before COMMIT leaves
// everything as it was; after COMMIT the outbox owns delivery. Redis holds only the repeating
// job, never one job per request.
import type pg from "pg";
import { withTransaction, type Queryable } from "../../db.server";
import { logger } from "../../logger.server";
import { analyzeSegmentQuery } from "../segments/definition";
import { compileTargets, LIVE_CUSTOMER } from "../segments/membership.server";
import { queueEmail, wakeEmailSender, type QueueEmailResult } from "../email/outbox.server";
import { getShopEmailSettings, type ShopEmailSettings } from "../email/settings.server";
import { renderFeedbackRequestEmail } from "../../emails/feedback-request";
import { checkBeforeSend, linkExpiresAt, nextReminderAt, productsToRate, type FeedbackLine, type SkipReason } from "../../domain/feedback/rules";
import { feedbackLinkUrl, signFeedbackToken } from "./links.server";
import { loadRuleById, type StoredRule } from "./rules.server";
import { ORDER_COLUMNS, toFeedbackOrder, type OrderRowForFeedback } from "./schedule.server";

export const FREQUENCY_CAP = { categories: ["feedback_request" as const], days: 30 };
/** A request whose email failed to render or queue is tried again this much later. */
const RETRY_LATER_MS = 60 * 60_000;

export type SchedulerReport = { sent: number; reminded: number; skipped: Partial<Record<SkipReason, number>>; remindersStopped: number; failed: number; batches: number };

type ClaimedRow = {
  id: string;
  shop: string;
  rule_id: string;
  order_gid: string;
  customer_gid: string | null;
  status: string;
  sent_at: Date | null;
  reminders_sent: number;
  link_expires_at: Date | null;
};

const CLAIMED = `r.id::text AS id, r.shop, r.rule_id::text AS rule_id, r.order_gid, r.customer_gid, r.status, r.sent_at, r.reminders_sent, r.link_expires_at`;

/** Per-transaction caches: a batch usually holds few rules and shops. */
class BatchContext {
  private rules = new Map<string, StoredRule | null>();
  private shops = new Map<string, { name: string; currency: string | null; settings: ShopEmailSettings }>();
  constructor(readonly db: Queryable) {}

  async rule(id: string): Promise<StoredRule | null> {
    if (!this.rules.has(id)) this.rules.set(id, await loadRuleById(this.db, id));
    return this.rules.get(id)!;
  }

  async shop(domain: string) {
    let shop = this.shops.get(domain);
    if (!shop) {
      const { rows } = await this.db.query<{ name: string | null; currency: string | null }>({
        name: "feedback-shop-name",
        text: `SELECT name, "currencyCode" AS currency FROM shops WHERE domain = $1`,
        values: [domain],
      });
      shop = { name: rows[0]?.name ?? domain.replace(/\.myshopify\.com$/, ""), currency: rows[0]?.currency ?? null, settings: await getShopEmailSettings(this.db, domain) };
      this.shops.set(domain, shop);
    }
    return shop;
  }
}

type OrderDetails = {
  order: ReturnType<typeof toFeedbackOrder>;
  name: string;
  email: string | null;
  lines: (FeedbackLine & { title: string; imageUrl?: string | null })[];
  customer: { firstName: string | null; email: string | null; redacted: boolean; deleted: boolean } | null;
};

async function loadOrder(db: Queryable, shop: string, orderGid: string): Promise<OrderDetails | null> {
  const { rows } = await db.query<
    OrderRowForFeedback & {
      name: string | null;
      email: string | null;
      lines: { productGid: string | null; productType: string | null; giftCard: boolean; title: string; imageUrl: string | null }[];
      first_name: string | null;
      customer_email: string | null;
      redacted: boolean | null;
      deleted: boolean | null;
    }
  >({
    name: "feedback-send-order",
    text: `SELECT ${ORDER_COLUMNS}, o.name, o.email,
                  COALESCE((SELECT json_agg(json_build_object('productGid', li.product_gid, 'productType', p.product_type, 'giftCard', li.gift_card, 'title', li.title, 'imageUrl', p.image_url) ORDER BY li.gid)
                              FROM line_items li LEFT JOIN products p ON p.shop = li.shop AND p.gid = li.product_gid
                             WHERE li.shop = o.shop AND li.order_gid = o.gid), '[]'::json) AS lines,
                  c.first_name, c.email AS customer_email, c.redacted_at IS NOT NULL AS redacted, c.deleted_at IS NOT NULL AS deleted
             FROM orders o LEFT JOIN customers c ON c.shop = o.shop AND c.gid = o.customer_gid
            WHERE o.shop = $1 AND o.gid = $2`,
    values: [shop, orderGid],
  });
  const row = rows[0];
  if (!row) return null;
  return {
    order: toFeedbackOrder(row),
    name: row.name ?? orderGid.replace(/^.*\//, "#"),
    email: row.email,
    lines: row.lines,
    customer: row.redacted === null ? null : { firstName: row.first_name, email: row.customer_email, redacted: row.redacted, deleted: row.deleted ?? false },
  };
}

const segmentCache = new Map<string, ReturnType<typeof analyzeSegmentQuery>>();

/** Whether the customer matches the rule's segment query now (the segment compiler, one indexed row). */
async function inSegment(db: Queryable, shop: string, customerGid: string, query: string, currency: string | null, now: Date): Promise<boolean> {
  let definition = segmentCache.get(query);
  if (!definition) {
    definition = analyzeSegmentQuery(query);
    if (segmentCache.size > 500) segmentCache.clear();
    segmentCache.set(query, definition);
  }
  // Checked when the rules were saved; a query the catalogue no longer accepts matches nobody.
  if (!definition.ok) return false;
  const { filters, values } = compileTargets([{ id: "0", ast: definition.ast }], 3, { now, currency });
  const { rows } = await db.query(`SELECT 1 FROM customers c WHERE ${LIVE_CUSTOMER} AND c.gid = $2 AND (${filters[0]})`, [shop, customerGid, ...values]);
  return rows.length > 0;
}

function skipReasonOf(result: QueueEmailResult): SkipReason | null {
  if (result.status === "capped") return "capped";
  if (result.status === "suppressed") return result.reason;
  return null;
}

async function renderFor({ ctx, request, details, productGids, expiresAt, reminder }: { ctx: BatchContext; request: ClaimedRow; details: OrderDetails; productGids: string[]; expiresAt: Date; reminder: number }) {
  const shop = await ctx.shop(request.shop);
  const titles = new Map<string, string>();
  const images = new Map<string, string | null>();
  for (const line of details.lines) {
    if (!line.productGid || titles.has(line.productGid)) continue;
    titles.set(line.productGid, line.title);
    images.set(line.productGid, line.imageUrl ?? null);
  }
  const answerUrl = feedbackLinkUrl(signFeedbackToken({ shop: request.shop, requestId: request.id, expiresAt }));
  return (links: { unsubscribeUrl: string }) =>
    renderFeedbackRequestEmail({
      shopName: shop.name,
      settings: shop.settings,
      firstName: details.customer?.firstName ?? null,
      orderName: details.name,
      products: productGids.map((gid) => ({ title: titles.get(gid) ?? "", imageUrl: images.get(gid) ?? null })),
      answerUrl,
      unsubscribeUrl: links.unsubscribeUrl,
      reminder,
    });
}

type Outcome = { kind: "sent" } | { kind: "reminded" } | { kind: "skipped"; reason: SkipReason } | { kind: "reminders_stopped" };

async function sendFirst(ctx: BatchContext, request: ClaimedRow, now: Date): Promise<Outcome> {
  const db = ctx.db;
  const skip = async (reason: SkipReason): Promise<Outcome> => {
    await db.query({
      name: "feedback-mark-skipped",
      text: `UPDATE feedback_requests SET status = 'skipped', skip_reason = $2, next_reminder_at = NULL, updated_at = now() WHERE id = $1`,
      values: [request.id, reason],
    });
    return { kind: "skipped", reason };
  };
  const stored = await ctx.rule(request.rule_id);
  if (!stored || stored.removed) return skip("rule_removed");
  const rule = stored.rule;
  const details = await loadOrder(db, request.shop, request.order_gid);
  if (!details) return skip("cancelled"); // the order is gone (shop data erased): nothing to ask about
  const check = checkBeforeSend({ rule, order: details.order, lines: details.lines });
  if (!check.ok) return skip(check.reason);
  const customerGid = details.order.customerGid!;
  if (details.customer?.redacted) return skip("redacted");
  if (rule.orders.segment !== null) {
    const shop = await ctx.shop(request.shop);
    if (!(await inSegment(db, request.shop, customerGid, rule.orders.segment, shop.currency, now))) return skip("not_in_segment");
  }
  const to = details.customer?.email ?? details.email;
  if (!to) return skip("no_email");
  const expiresAt = linkExpiresAt(rule, now);
  const result = await queueEmail(db, {
    shop: request.shop,
    customerGid,
    to,
    category: "feedback_request",
    idempotencyKey: `feedback-request:${request.id}`,
    frequencyCap: FREQUENCY_CAP,
    render: await renderFor({ ctx, request, details, productGids: check.productGids, expiresAt, reminder: 0 }),
  });
  const refused = skipReasonOf(result);
  if (refused) return skip(refused);
  await db.query({
    name: "feedback-mark-sent",
    text: `UPDATE feedback_requests SET status = 'sent', sent_at = $2, link_expires_at = $3, next_reminder_at = $4, customer_gid = $5, updated_at = now() WHERE id = $1`,
    values: [request.id, now, expiresAt, nextReminderAt({ rule, sentAt: now, remindersSent: 0 }), customerGid],
  });
  return { kind: "sent" };
}

async function sendReminder(ctx: BatchContext, request: ClaimedRow, now: Date): Promise<Outcome> {
  const db = ctx.db;
  const stop = async (): Promise<Outcome> => {
    await db.query({ name: "feedback-stop-reminders", text: `UPDATE feedback_requests SET next_reminder_at = NULL, updated_at = now() WHERE id = $1`, values: [request.id] });
    return { kind: "reminders_stopped" };
  };
  const stored = await ctx.rule(request.rule_id);
  if (!stored || stored.removed || !request.sent_at || !request.link_expires_at || request.link_expires_at <= now) return stop();
  const rule = stored.rule;
  const n = request.reminders_sent + 1;
  if (n > rule.reminders.count) return stop();
  const details = await loadOrder(db, request.shop, request.order_gid);
  if (!details || details.customer?.redacted) return stop();
  const check = checkBeforeSend({ rule, order: details.order, lines: details.lines });
  if (!check.ok) return stop();
  const to = details.customer?.email ?? details.email;
  if (!to) return stop();
  const result = await queueEmail(db, {
    shop: request.shop,
    customerGid: details.order.customerGid,
    to,
    category: "feedback_reminder",
    idempotencyKey: `feedback-reminder:${request.id}:${n}`,
    render: await renderFor({ ctx, request, details, productGids: productsToRate(rule, details.lines), expiresAt: request.link_expires_at, reminder: n }),
  });
  if (skipReasonOf(result)) return stop();
  await db.query({
    name: "feedback-mark-reminded",
    text: `UPDATE feedback_requests SET status = 'reminded', reminders_sent = $2, next_reminder_at = $3, updated_at = now() WHERE id = $1 AND status IN ('sent', 'reminded')`,
    values: [request.id, n, nextReminderAt({ rule, sentAt: request.sent_at, remindersSent: n })],
  });
  return { kind: "reminded" };
}

async function runOne(db: pg.PoolClient, ctx: BatchContext, request: ClaimedRow, now: Date, kind: "send" | "remind", report: SchedulerReport): Promise<void> {
  await db.query("SAVEPOINT feedback_request");
  try {
    const outcome = kind === "send" ? await sendFirst(ctx, request, now) : await sendReminder(ctx, request, now);
    await db.query("RELEASE SAVEPOINT feedback_request");
    if (outcome.kind === "sent") report.sent += 1;
    else if (outcome.kind === "reminded") report.reminded += 1;
    else if (outcome.kind === "reminders_stopped") report.remindersStopped += 1;
    else report.skipped[outcome.reason] = (report.skipped[outcome.reason] ?? 0) + 1;
  } catch (error) {
    // One bad request never holds up the others: it is tried again later, and logged.
    await db.query("ROLLBACK TO SAVEPOINT feedback_request");
    report.failed += 1;
    logger.error({ shop: request.shop, requestId: request.id, kind, err: error }, "feedback.send_failed");
    const retryAt = new Date(now.getTime() + RETRY_LATER_MS);
    await db.query(
      kind === "send" ? `UPDATE feedback_requests SET send_at = $2, updated_at = now() WHERE id = $1` : `UPDATE feedback_requests SET next_reminder_at = $2, updated_at = now() WHERE id = $1`,
      [request.id, retryAt],
    );
  }
}

/** One transaction: up to `batchSize` due requests of one kind. Returns how many were claimed. */
async function runBatch(kind: "send" | "remind", now: Date, batchSize: number, report: SchedulerReport): Promise<{ claimed: number; queued: boolean }> {
  return withTransaction(async (db) => {
    const { rows } = await db.query<ClaimedRow>(
      kind === "send"
        ? {
            name: "feedback-claim-due-sends",
            text: `SELECT ${CLAIMED} FROM feedback_requests r WHERE r.status = 'scheduled' AND r.send_at <= $1 ORDER BY r.send_at, r.id LIMIT $2 FOR UPDATE SKIP LOCKED`,
            values: [now, batchSize],
          }
        : {
            name: "feedback-claim-due-reminders",
            text: `SELECT ${CLAIMED} FROM feedback_requests r WHERE r.next_reminder_at IS NOT NULL AND r.next_reminder_at <= $1 AND r.status IN ('sent', 'reminded')
                    ORDER BY r.next_reminder_at, r.id LIMIT $2 FOR UPDATE SKIP LOCKED`,
            values: [now, batchSize],
          },
    );
    const ctx = new BatchContext(db);
    const before = report.sent + report.reminded;
    for (const request of rows) await runOne(db, ctx, request, now, kind, report);
    return { claimed: rows.length, queued: report.sent + report.reminded > before };
  });
}

/**
 * Sends what is due at `now`: first requests, then reminders, in batches of `batchSize`, at
 * most `maxBatches` per kind per run (the next run continues). Wakes the email sender once
 * after the batches that queued something have committed.
 */
export async function runFeedbackScheduler({ now = new Date(), batchSize = 200, maxBatches = 50 }: { now?: Date; batchSize?: number; maxBatches?: number } = {}): Promise<SchedulerReport> {
  const report: SchedulerReport = { sent: 0, reminded: 0, skipped: {}, remindersStopped: 0, failed: 0, batches: 0 };
  let queued = false;
  for (const kind of ["send", "remind"] as const) {
    for (let i = 0; i < maxBatches; i++) {
      const batch = await runBatch(kind, now, batchSize, report);
      report.batches += 1;
      queued ||= batch.queued;
      if (batch.claimed < batchSize) break;
    }
  }
  if (queued) await wakeEmailSender();
  const skipped = Object.values(report.skipped).reduce((a, b) => a + (b ?? 0), 0);
  if (report.sent + report.reminded + skipped + report.remindersStopped + report.failed > 0) logger.info(report, "feedback.scheduler_ran");
  return report;
}
