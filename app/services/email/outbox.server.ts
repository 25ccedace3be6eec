// The email outbox (table email_outbox; migration 20261207030000_email_channel; decision 030).
// One row per message, written by queueEmail with the caller's client, i.e. in the
// transaction that decides the message (a feedback request, a staff alert), with an
// idempotency key derived from that cause. The worker's sender (sender.server.ts) drains it:
//
//   pending --claim (lease: claim_token, locked_until)--> sending --accepted--> sent
//                 ^                                          |  \--5xx at RCPT/DATA--> failed (+ address suppressed "bounced")
//                 \------ 4xx / connection lost (backoff) ---/   \--attempts exhausted--> failed
//   sending with an expired lease (the sender died) --claim again--> sending (same Message-ID)
//   pending/sending --address suppressed or customer redacted before it went out--> cancelled
//
// Every transition is one guarded statement (`WHERE status = 'sending' AND claim_token = $`),
// so an outcome is recorded at most once and never by a sender whose lease was taken over.
import { z } from "zod";
import type { Queryable } from "../../db.server";
import { logger } from "../../logger.server";
import { enqueueEmailDrain } from "../../queues.server";
import { messageIdFor, unsubscribeUrl } from "./links.server";
import { addressHash, normalizeAddress, type SuppressionReason } from "./suppression.server";

export const EMAIL_CATEGORIES = ["feedback_request", "feedback_reminder", "staff_alert", "test", "automation"] as const;
export type EmailCategory = (typeof EMAIL_CATEGORIES)[number];

export type RenderedEmail = { subject: string; html: string; text: string };

export type QueueEmailInput = {
  shop: string;
  /** null for staff alerts and tests */
  customerGid: string | null;
  /** recipient address */
  to: string;
  category: EmailCategory;
  /** Derived from the cause, e.g. `feedback-request:<requestId>`; unique per shop: a second call with the same key changes nothing. */
  idempotencyKey: string;
  /** default: now */
  sendAfter?: Date;
  /**
   * Per-customer frequency cap: refuse ("capped") when an email of one of these categories was
   * sent or queued to this customer (to this address when customerGid is null) within `days`.
   * Omit for no cap. Race-free when queueEmail runs inside a transaction (a transaction-level
   * advisory lock per customer serialises concurrent callers).
   */
  frequencyCap?: { categories: EmailCategory[]; days: number };
  /** Called once, inside queueEmail, with the links the channel owns. Pure rendering. */
  render: (links: { unsubscribeUrl: string }) => Promise<RenderedEmail>;
};

export type QueueEmailResult =
  | { status: "queued"; id: string }
  | { status: "duplicate"; id: string }
  | { status: "suppressed"; reason: SuppressionReason }
  | { status: "capped" };

const InputSchema = z.object({
  shop: z.string().min(1),
  customerGid: z.string().min(1).nullable(),
  to: z.email(),
  category: z.enum(EMAIL_CATEGORIES),
  idempotencyKey: z.string().min(1).max(500),
  sendAfter: z.date().optional(),
  frequencyCap: z.object({ categories: z.array(z.enum(EMAIL_CATEGORIES)).min(1), days: z.number().positive().max(3650) }).optional(),
});

const RenderedSchema = z.object({
  // No line breaks in a header; nodemailer encodes the rest.
  subject: z
    .string()
    .trim()
    .min(1)
    .max(998)
    .refine((s) => !/[\r\n]/.test(s), "subject must be one line"),
  html: z.string().min(1),
  text: z.string().min(1),
});

/** Bad input for queueEmail (a programming error of the caller): nothing was written. */
export class EmailInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EmailInputError";
  }
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ");
}

/** Writes one outbox row with the caller's client, i.e. in the caller's transaction. */
export async function queueEmail(client: Queryable, input: QueueEmailInput): Promise<QueueEmailResult> {
  const parsed = InputSchema.safeParse(input);
  if (!parsed.success) throw new EmailInputError(`invalid email: ${issues(parsed.error)}`);
  const { shop, customerGid, category, idempotencyKey, frequencyCap } = parsed.data;
  const address = normalizeAddress(parsed.data.to);

  const existing = await client.query<{ id: string }>(`SELECT id FROM email_outbox WHERE shop = $1 AND idempotency_key = $2`, [shop, idempotencyKey]);
  if (existing.rows[0]) return { status: "duplicate", id: existing.rows[0].id };

  const blocked = await client.query<{ reason: SuppressionReason | null; redacted: boolean }>(
    `SELECT (SELECT reason::text FROM email_suppressions WHERE shop = $1 AND address_hash = $2) AS reason,
            EXISTS (SELECT 1 FROM customers WHERE shop = $1 AND gid = $3 AND redacted_at IS NOT NULL) AS redacted`,
    [shop, addressHash(address), customerGid],
  );
  const { reason, redacted } = blocked.rows[0]!;
  if (redacted) return { status: "suppressed", reason: "redacted" };
  if (reason) return { status: "suppressed", reason };

  if (frequencyCap) {
    const subject = customerGid ?? `address:${address}`;
    // Serialises concurrent queueEmail calls for one customer until the caller's transaction ends.
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('crm-email-cap:' || $1 || ':' || $2, 0))`, [shop, subject]);
    const { rows } = await client.query<{ capped: boolean }>(
      `SELECT EXISTS (
         SELECT 1 FROM email_outbox
          WHERE shop = $1 AND ${customerGid ? "customer_gid = $2" : "customer_gid IS NULL AND to_address = $2"}
            AND category = ANY($3::text[]) AND status IN ('pending', 'sending', 'sent')
            AND greatest(created_at, COALESCE(sent_at, created_at)) > now() - make_interval(secs => $4::double precision * 86400)
       ) AS capped`,
      [shop, customerGid ?? address, frequencyCap.categories, frequencyCap.days],
    );
    if (rows[0]!.capped) return { status: "capped" };
  }

  // The row's id first: the unsubscribe link and the Message-ID are derived from it.
  const { rows: idRows } = await client.query<{ id: string }>(`SELECT nextval(pg_get_serial_sequence('email_outbox', 'id'))::text AS id`);
  const id = idRows[0]!.id;
  const rendered = RenderedSchema.safeParse(await input.render({ unsubscribeUrl: unsubscribeUrl(id) }));
  if (!rendered.success) throw new EmailInputError(`invalid rendered email: ${issues(rendered.error)}`);
  const sendAfter = parsed.data.sendAfter ?? null;
  const inserted = await client.query<{ id: string }>(
    `INSERT INTO email_outbox (id, shop, customer_gid, to_address, category, idempotency_key, subject, html, text, message_id, send_after, next_attempt_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, COALESCE($11::timestamptz, now()), COALESCE($11::timestamptz, now()))
     ON CONFLICT (shop, idempotency_key) DO NOTHING
     RETURNING id`,
    [id, shop, customerGid, address, category, idempotencyKey, rendered.data.subject, rendered.data.html, rendered.data.text, messageIdFor(id, shop), sendAfter],
  );
  if (inserted.rows[0]) return { status: "queued", id };
  // A concurrent caller with the same key committed first.
  const again = await client.query<{ id: string }>(`SELECT id FROM email_outbox WHERE shop = $1 AND idempotency_key = $2`, [shop, idempotencyKey]);
  return { status: "duplicate", id: again.rows[0]!.id };
}

/** How long wakeEmailSender waits for Redis before leaving the rows to the periodic drain. */
const WAKE_TIMEOUT_MS = 1_000;

/**
 * After the caller's transaction commits: wake the sender (a BullMQ job; losing it loses
 * nothing, the periodic drain finds due rows anyway). Never throws.
 */
export async function wakeEmailSender(): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const adding = enqueueEmailDrain();
    adding.catch(() => undefined);
    await Promise.race([
      adding,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from Redis within ${WAKE_TIMEOUT_MS} ms`)), WAKE_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    logger.warn({ err: (error as Error).message }, "email.wake_failed");
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------ queries for the sender, privacy and the UI

export type OutboxCounts = Record<"pending" | "sending" | "sent" | "failed" | "cancelled", number>;

export async function outboxCounts(db: Queryable, shop: string): Promise<OutboxCounts> {
  const { rows } = await db.query<{ status: keyof OutboxCounts; n: string }>(`SELECT status, count(*) AS n FROM email_outbox WHERE shop = $1 GROUP BY status`, [shop]);
  const out: OutboxCounts = { pending: 0, sending: 0, sent: 0, failed: 0, cancelled: 0 };
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}

/**
 * customers/redact: the customer's messages (and any other message to its address) lose
 * their address, content and SMTP answers; those not yet sent are cancelled. The rows stay,
 * without personal data, for the frequency cap and the counts. Returns how many rows changed.
 */
export async function eraseCustomerEmails(db: Queryable, input: { shop: string; customerGid: string; address: string | null }): Promise<number> {
  const r = await db.query(
    `UPDATE email_outbox SET
            status = CASE WHEN status IN ('pending', 'sending') THEN 'cancelled'::"EmailStatus" ELSE status END,
            last_error = CASE WHEN status IN ('pending', 'sending') THEN 'customer redacted' WHEN last_error IS NULL THEN NULL ELSE '[redacted]' END,
            completed_at = COALESCE(completed_at, now()), claim_token = NULL, locked_until = NULL,
            to_address = NULL, subject = '[redacted]', html = '[redacted]', text = '[redacted]', smtp_response = NULL, updated_at = now()
      WHERE shop = $1 AND (customer_gid = $2 OR ($3::text IS NOT NULL AND to_address = $3))`,
    [input.shop, input.customerGid, input.address ? normalizeAddress(input.address) : null],
  );
  return r.rowCount ?? 0;
}
