// The email sender: drains the outbox (outbox.server.ts has the state machine) through one
// pooled SMTP transport per process (nodemailer, SMTP_URL). Called by the worker's email job
// (jobs/email-sender.ts); any number of senders may run at once (rows are claimed with
// FOR UPDATE SKIP LOCKED under a lease).
//
// A pass claims due rows in batches (pending and due, or `sending` with an expired lease: a
// sender that died mid-send), cancels those whose address was suppressed meanwhile, sends the
// rest concurrently over the pool, and records each answer as it comes:
// - accepted (2xx after DATA): sent;
// - 5xx for the recipient (RCPT TO) or the message (DATA): failed, and the address suppressed
//   "bounced" in the same transaction;
// - 4xx, a lost or refused connection, a timeout: back to pending with exponential backoff;
//   after maxAttempts claims, failed;
// - 5xx elsewhere (MAIL FROM, AUTH, the greeting): the instance's SMTP setup is wrong, not
//   the address; retried like a transient error (never suppresses the customer).
// At-least-once at one edge: if the process dies after the SMTP server accepted a message and
// before its row was marked sent, the lease expires and the message is sent again, with the
// same Message-ID (decision 030).
import { randomUUID } from "node:crypto";
import nodemailer, { type Transporter } from "nodemailer";
import type SMTPPool from "nodemailer/lib/smtp-pool";
import { getEnv } from "../../env.server";
import { getPool, type Queryable } from "../../db.server";
import { logger } from "../../logger.server";
import { fromAddress, unsubscribeUrl } from "./links.server";
import { getShopEmailSettings, type ShopEmailSettings } from "./settings.server";
import { suppressAddress } from "./suppression.server";

export type SenderOptions = {
  /** Rows claimed at a time. */
  batchSize?: number;
  /** How long a claim is held before another sender may take the row over (default EMAIL_LEASE_MS). */
  leaseMs?: number;
  /** Claims after which a transient failure is final. */
  maxAttempts?: number;
  /** Backoff after the first transient failure (doubles per attempt, capped at 1 h, jittered). */
  retryBaseMs?: number;
  /** A pass stops claiming after this long. */
  maxPassMs?: number;
  shouldStop?: () => boolean;
  /** The transport to use (default: the process's pooled SMTP_URL transport). */
  transport?: Transporter;
};

export type SendReport = {
  configured: boolean;
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  bounced: number;
  cancelled: number;
  /** Whether rows were still due when the pass stopped (the next pass should follow at once). */
  moreDue: boolean;
  ms: number;
};

export const DEFAULT_MAX_ATTEMPTS = 8;

export function backoffMs(attempts: number, baseMs = 30_000, random: () => number = Math.random): number {
  const base = Math.min(3_600_000, baseMs * 2 ** Math.max(0, Math.min(attempts - 1, 16)));
  return Math.round(base * (0.75 + random() * 0.25));
}

type ErrorLike = { responseCode?: number; command?: string; code?: string; message?: string; response?: string };

export type SmtpFailure = { kind: "transient" | "bounce" | "setup"; message: string };

/** What an error from sendMail means for the message and its address. */
export function classifySmtpError(error: unknown): SmtpFailure {
  const e = (error ?? {}) as ErrorLike;
  const message = (e.response ?? e.message ?? String(error)).slice(0, 1_000);
  const code = typeof e.responseCode === "number" ? e.responseCode : null;
  if (code !== null && code >= 500 && code < 600) {
    const command = (e.command ?? "").toUpperCase();
    if (command === "RCPT TO" || command === "DATA") return { kind: "bounce", message };
    return { kind: "setup", message };
  }
  return { kind: "transient", message };
}

// ------------------------------------------------------------------ the transport

declare global {
  var __crmSmtp: { url: string; transport: Transporter } | undefined;
}

/** The process's pooled transport (null when SMTP_URL is unset). */
export function getSmtpTransport(): Transporter | null {
  const env = getEnv();
  if (!env.SMTP_URL) return null;
  if (globalThis.__crmSmtp?.url !== env.SMTP_URL) {
    globalThis.__crmSmtp?.transport.close();
    const options: SMTPPool.Options = {
      url: env.SMTP_URL,
      pool: true,
      maxConnections: env.SMTP_MAX_CONNECTIONS,
      maxMessages: 1_000,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 60_000,
    };
    globalThis.__crmSmtp = { url: env.SMTP_URL, transport: nodemailer.createTransport(options) };
  }
  return globalThis.__crmSmtp.transport;
}

export function closeSmtpTransport(): void {
  globalThis.__crmSmtp?.transport.close();
  globalThis.__crmSmtp = undefined;
}

// ------------------------------------------------------------------ claiming and recording

type ClaimedRow = {
  id: string;
  shop: string;
  to_address: string | null;
  subject: string;
  html: string;
  text: string;
  message_id: string;
  attempts: number;
  suppressed: string | null;
  redacted: boolean;
};

async function claim(db: Queryable, token: string, limit: number, leaseMs: number): Promise<ClaimedRow[]> {
  const { rows } = await db.query<ClaimedRow>(
    `WITH picked AS (
       SELECT id FROM email_outbox
        WHERE (status = 'pending' AND next_attempt_at <= now()) OR (status = 'sending' AND locked_until < now())
        ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
     )
     UPDATE email_outbox o SET status = 'sending', claim_token = $1, locked_until = now() + make_interval(secs => $3::double precision / 1000),
            attempts = o.attempts + 1, updated_at = now()
       FROM picked WHERE o.id = picked.id
     RETURNING o.id, o.shop, o.to_address, o.subject, o.html, o.text, o.message_id, o.attempts,
               (SELECT s.reason::text FROM email_suppressions s WHERE s.shop = o.shop AND s.address_hash = encode(sha256(convert_to(o.to_address, 'UTF8')), 'hex')) AS suppressed,
               EXISTS (SELECT 1 FROM customers c WHERE c.shop = o.shop AND c.gid = o.customer_gid AND c.redacted_at IS NOT NULL) AS redacted`,
    [token, limit, leaseMs],
  );
  return rows.sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
}

const GUARD = `WHERE id = $1 AND status = 'sending' AND claim_token = $2`;

async function recordSent(id: string, token: string, response: string): Promise<boolean> {
  const r = await getPool().query(
    `UPDATE email_outbox SET status = 'sent', sent_at = now(), completed_at = now(), smtp_response = $3, last_error = NULL,
            claim_token = NULL, locked_until = NULL, updated_at = now() ${GUARD}`,
    [id, token, response.slice(0, 1_000)],
  );
  return (r.rowCount ?? 0) > 0;
}

async function recordRetry(id: string, token: string, error: string, attempts: number, options: Required<Pick<SenderOptions, "maxAttempts" | "retryBaseMs">>): Promise<"retry" | "failed"> {
  const final = attempts >= options.maxAttempts;
  await getPool().query(
    `UPDATE email_outbox SET status = $3::"EmailStatus", last_error = $4, claim_token = NULL, locked_until = NULL,
            next_attempt_at = now() + make_interval(secs => $5::double precision / 1000),
            completed_at = CASE WHEN $3 = 'failed' THEN now() END, updated_at = now() ${GUARD}`,
    [id, token, final ? "failed" : "pending", final ? `attempts exhausted: ${error}` : error, final ? 0 : backoffMs(attempts, options.retryBaseMs)],
  );
  return final ? "failed" : "retry";
}

/** A permanent rejection of the recipient or the message: failed, and the address suppressed "bounced" (one transaction). */
async function recordBounce(row: ClaimedRow, token: string, error: string): Promise<boolean> {
  const client = await getPool().connect();
  try {
    await client.query("BEGIN");
    const r = await client.query(
      `UPDATE email_outbox SET status = 'failed', last_error = $3, smtp_response = $3, claim_token = NULL, locked_until = NULL,
              completed_at = now(), updated_at = now() ${GUARD}`,
      [row.id, token, error],
    );
    if ((r.rowCount ?? 0) > 0 && row.to_address) await suppressAddress(client, { shop: row.shop, address: row.to_address, reason: "bounced", detail: error });
    await client.query("COMMIT");
    return (r.rowCount ?? 0) > 0;
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

async function recordCancelled(id: string, token: string, reason: string): Promise<void> {
  await getPool().query(
    `UPDATE email_outbox SET status = 'cancelled', last_error = $3, claim_token = NULL, locked_until = NULL, completed_at = now(), updated_at = now() ${GUARD}`,
    [id, token, reason],
  );
}

// ------------------------------------------------------------------ the pass

let warnedUnconfigured = false;

async function senderIdentity(shop: string, cache: Map<string, Promise<{ settings: ShopEmailSettings; shopName: string }>>) {
  let found = cache.get(shop);
  if (!found) {
    found = (async () => {
      const settings = await getShopEmailSettings(getPool(), shop);
      const { rows } = await getPool().query<{ name: string | null }>(`SELECT name FROM shops WHERE domain = $1`, [shop]);
      return { settings, shopName: rows[0]?.name ?? shop.replace(/\.myshopify\.com$/, "") };
    })();
    cache.set(shop, found);
  }
  return found;
}

/** One pass over the outbox. Throws only for database failures (the job retries). */
export async function drainEmailOutbox(options: SenderOptions = {}): Promise<SendReport> {
  const started = Date.now();
  const o = { batchSize: 50, leaseMs: getEnv().EMAIL_LEASE_MS, maxAttempts: DEFAULT_MAX_ATTEMPTS, retryBaseMs: 30_000, maxPassMs: 60_000, ...options };
  const report: SendReport = { configured: true, claimed: 0, sent: 0, retried: 0, failed: 0, bounced: 0, cancelled: 0, moreDue: false, ms: 0 };
  const transport = o.transport ?? getSmtpTransport();
  if (!transport) {
    report.configured = false;
    const { rows } = await getPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM email_outbox WHERE status = 'pending' AND next_attempt_at <= now()`);
    if (rows[0]!.n > 0 && !warnedUnconfigured) {
      warnedUnconfigured = true;
      logger.warn({ due: rows[0]!.n }, "email.smtp_not_configured");
    }
    report.ms = Date.now() - started;
    return report;
  }
  const from = fromAddress();
  const identities = new Map<string, Promise<{ settings: ShopEmailSettings; shopName: string }>>();
  // A sliding window of up to batchSize messages in flight: claims top it up as answers come
  // back, so the pool's connections never wait for the slowest message of a batch.
  const send = async (row: ClaimedRow, token: string): Promise<void> => {
    const log = logger.child({ shop: row.shop, emailId: row.id });
    if (!row.to_address || row.suppressed || row.redacted) {
      await recordCancelled(row.id, token, row.redacted || !row.to_address ? "customer redacted" : `address suppressed (${row.suppressed})`);
      report.cancelled++;
      log.info({ reason: row.suppressed ?? "redacted" }, "email.cancelled");
      return;
    }
    const { settings, shopName } = await senderIdentity(row.shop, identities);
    const link = unsubscribeUrl(row.id);
    try {
      const info = await transport.sendMail({
        from: { name: settings.senderName ?? shopName, address: from },
        to: row.to_address,
        replyTo: settings.replyTo ?? undefined,
        subject: row.subject,
        html: row.html,
        text: row.text,
        messageId: row.message_id,
        headers: { "List-Unsubscribe": `<${link}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" },
      });
      if (await recordSent(row.id, token, String(info.response ?? "accepted"))) report.sent++;
      log.info({ attempt: row.attempts }, "email.sent");
    } catch (error) {
      const failure = classifySmtpError(error);
      if (failure.kind === "bounce") {
        if (await recordBounce(row, token, failure.message)) report.bounced++;
        log.warn({ smtp: failure.message }, "email.bounced");
        return;
      }
      const outcome = await recordRetry(row.id, token, failure.message, row.attempts, o);
      if (outcome === "failed") report.failed++;
      else report.retried++;
      log[failure.kind === "setup" || outcome === "failed" ? "error" : "warn"]({ smtp: failure.message, kind: failure.kind, attempt: row.attempts }, outcome === "failed" ? "email.failed" : "email.retrying");
    }
  };
  const inFlight = new Set<Promise<void>>();
  const refill = Math.max(1, Math.floor(o.batchSize / 2));
  let exhausted = false; // the last claim found nothing due
  let answered = 0; // answers recorded since that claim (a retry may have become due)
  for (;;) {
    const stop = o.shouldStop?.() || Date.now() - started > o.maxPassMs;
    const mayClaim = !stop && (!exhausted || (inFlight.size === 0 && answered > 0));
    // Top the window up once half of it came back (one claim per half window, not per message).
    if (mayClaim && inFlight.size <= o.batchSize - refill) {
      const token = randomUUID();
      const rows = await claim(getPool(), token, o.batchSize - inFlight.size, o.leaseMs);
      report.claimed += rows.length;
      exhausted = rows.length === 0;
      answered = 0;
      for (const row of rows) {
        const p: Promise<void> = send(row, token).finally(() => {
          inFlight.delete(p);
          answered++;
        });
        inFlight.add(p);
      }
    }
    if (inFlight.size > 0) {
      await Promise.race(inFlight);
      continue;
    }
    if (stop) {
      const { rows } = await getPool().query<{ due: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM email_outbox WHERE status = 'pending' AND next_attempt_at <= now()) AS due`,
      );
      report.moreDue = rows[0]!.due;
      break;
    }
    if (exhausted && answered === 0) break;
  }
  report.ms = Date.now() - started;
  return report;
}
