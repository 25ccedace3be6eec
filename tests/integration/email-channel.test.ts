// The email channel end to end on loopback: queueEmail in a transaction, the sender draining
// the outbox through a real SMTP server (smtp-server, the mail catcher) that the tests make
// defer or reject on purpose, the one-click unsubscribe on the built app server, a worker
// started after Redis was flushed, and customers/redact.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool, withTransaction } from "../../app/db.server";
import { renderTestEmail } from "../../app/emails/test-email";
import { unsubscribeUrl } from "../../app/services/email/links.server";
import { queueEmail, wakeEmailSender, type QueueEmailInput } from "../../app/services/email/outbox.server";
import { closeSmtpTransport, drainEmailOutbox, type SendReport } from "../../app/services/email/sender.server";
import { DEFAULT_EMAIL_SETTINGS, saveShopEmailSettings } from "../../app/services/email/settings.server";
import { isSuppressed, suppressAddress } from "../../app/services/email/suppression.server";
import { redactCustomer } from "../../app/services/privacy.server";
import { closeEmailQueue, getEmailQueue } from "../../app/queues.server";
import { ensureAppBuild, freePort, startAppServer, type AppServer } from "../support/admin-app-server";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { NODE_TSX, spawnChild, waitUntil, type ChildHandle } from "../support/pipeline";
import { startMailCatcher, type CaughtMessage, type MailCatcher, type Rejection } from "../twin/mail-catcher";

const SHOP = "email-channel.myshopify.com";
let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let catcher: MailCatcher;
let app: AppServer | undefined;
let worker: ChildHandle | undefined;
/** What the SMTP server answers, per recipient: a rejection for RCPT TO, or for the message. */
const rcptPolicy = new Map<string, () => Rejection | null>();
const dataPolicy = new Map<string, () => Rejection | null>();

beforeAll(async () => {
  catcher = await startMailCatcher({
    httpPort: null,
    onRcptTo: (address) => rcptPolicy.get(address)?.() ?? null,
    onMessage: (m) => dataPolicy.get(m.envelopeTo[0] ?? "")?.() ?? null,
  });
  env = await useIntegrationEnv({ SMTP_URL: catcher.smtpUrl, EMAIL_FROM_ADDRESS: "crm@mail.example.test" });
  await getPool().query(`INSERT INTO shops (domain, name) VALUES ($1, 'Ana''s Plants')`, [SHOP]);
});

afterAll(async () => {
  worker?.killGroup("SIGKILL");
  await app?.stop();
  closeSmtpTransport();
  await closeEmailQueue();
  await catcher?.close();
  await closeDb();
  await env?.dropDatabase();
});

let seq = 0;
function email(overrides: Partial<QueueEmailInput> = {}): QueueEmailInput {
  seq++;
  return {
    shop: SHOP,
    customerGid: `gid://shopify/Customer/${1000 + seq}`,
    to: `buyer${seq}@example.com`,
    category: "feedback_request",
    idempotencyKey: `feedback-request:${randomUUID()}`,
    render: ({ unsubscribeUrl }) =>
      renderTestEmail({
        shopName: "Ana's Plants",
        settings: { ...DEFAULT_EMAIL_SETTINGS, footerAddress: "1 Garden Row, Lisbon" },
        firstName: "Maria",
        orderName: "#1001",
        products: [{ title: "Monstera", imageUrl: "https://cdn.example.test/monstera.png", url: null }],
        unsubscribeUrl,
      }),
    ...overrides,
  };
}

async function queue(input: QueueEmailInput): Promise<string> {
  const r = await withTransaction((c) => queueEmail(c, input));
  if (r.status !== "queued") throw new Error(`not queued: ${JSON.stringify(r)}`);
  return r.id;
}

async function row(id: string) {
  return (await getPool().query(`SELECT * FROM email_outbox WHERE id = $1`, [id])).rows[0];
}

const header = (m: CaughtMessage, name: string) => m.headerLines.find((h) => h.key === name.toLowerCase())?.line.replace(/^[^:]+:\s*/, "").replace(/\r?\n\s+/g, " ");
const delivered = (to: string) => catcher.messages.filter((m) => m.envelopeTo.includes(to));

/** Drains until nothing is due (fast retries for the tests). */
async function drain(): Promise<SendReport> {
  return drainEmailOutbox({ retryBaseMs: 1 });
}

describe("sending", () => {
  it("a queued email arrives once with an HTML and a text part, List-Unsubscribe one-click headers and the row's Message-ID", async () => {
    await saveShopEmailSettings(getPool(), SHOP, { ...DEFAULT_EMAIL_SETTINGS, senderName: "Ana from Ana's Plants", replyTo: "ana@plants.example.test" });
    const to = "maria@example.com";
    const id = await queue(email({ to: "Maria@Example.com" }));
    const report = await drain();
    expect(report).toMatchObject({ configured: true, claimed: 1, sent: 1 });
    const [m] = delivered(to);
    expect(delivered(to)).toHaveLength(1);
    const saved = await row(id);
    expect(saved).toMatchObject({ status: "sent", attempts: 1, claim_token: null });
    expect(m!.messageId).toBe(saved.message_id);
    expect(m!.subject).toBe("Test email from Ana's Plants");
    expect(m!.from).toBe('"Ana from Ana\'s Plants" <crm@mail.example.test>');
    expect(m!.envelopeFrom).toBe("crm@mail.example.test");
    expect(header(m!, "Reply-To")).toBe("ana@plants.example.test");
    expect(m!.html).toContain("Maria");
    expect(m!.html).toContain("#1001");
    expect(m!.html).toContain('src="https://cdn.example.test/monstera.png"');
    expect(m!.html).toContain("1 Garden Row, Lisbon");
    expect(m!.html).toContain('name="viewport"');
    expect(m!.text).toContain("Hi Maria");
    expect(m!.text).not.toContain("<");
    const link = unsubscribeUrl(id);
    expect(m!.html).toContain(link);
    expect(m!.text).toContain(link);
    expect(header(m!, "List-Unsubscribe")).toBe(`<${link}>`);
    expect(header(m!, "List-Unsubscribe-Post")).toBe("List-Unsubscribe=One-Click");
    await saveShopEmailSettings(getPool(), SHOP, DEFAULT_EMAIL_SETTINGS);
  });

  it("a duplicate idempotency key is sent once", async () => {
    const input = email();
    await queue(input);
    expect((await withTransaction((c) => queueEmail(c, input))).status).toBe("duplicate");
    await drain();
    await drain();
    expect(delivered(input.to)).toHaveLength(1);
  });

  it("a 4xx deferral is retried with backoff and delivered once", async () => {
    const input = email();
    let tries = 0;
    rcptPolicy.set(input.to, () => (++tries === 1 ? { code: 451, message: "4.7.1 Greylisted, try again later" } : null));
    const id = await queue(input);
    expect(await drainEmailOutbox({ retryBaseMs: 60_000 })).toMatchObject({ sent: 0, retried: 1 });
    const deferred = await row(id);
    expect(deferred).toMatchObject({ status: "pending", attempts: 1 });
    expect(deferred.last_error).toContain("451");
    // Backed off (45-60 s after a first failure at this base): not due yet.
    expect(deferred.next_attempt_at.getTime()).toBeGreaterThan(Date.now() + 30_000);
    expect((await drain()).claimed).toBe(0);
    await getPool().query(`UPDATE email_outbox SET next_attempt_at = now() WHERE id = $1`, [id]);
    expect((await drain()).sent).toBe(1);
    expect(await row(id)).toMatchObject({ status: "sent", attempts: 2 });
    expect(delivered(input.to)).toHaveLength(1);
    expect(tries).toBe(2);
  });

  it("a 4xx after the message data (DATA) is retried too", async () => {
    const input = email();
    let tries = 0;
    dataPolicy.set(input.to, () => (++tries === 1 ? { code: 452, message: "4.3.1 Insufficient system storage" } : null));
    const id = await queue(input);
    await drain();
    await waitUntil(async () => (await drain(), (await row(id)).status === "sent"), { what: "the retry to be sent" });
    expect(delivered(input.to)).toHaveLength(1);
  });

  it("transient failures stop after the maximum attempts: failed, the address not suppressed", async () => {
    const input = email();
    rcptPolicy.set(input.to, () => ({ code: 421, message: "4.4.2 try later" }));
    const id = await queue(input);
    for (let i = 0; i < 3; i++) {
      await getPool().query(`UPDATE email_outbox SET next_attempt_at = now() WHERE id = $1 AND status = 'pending'`, [id]);
      await drainEmailOutbox({ maxAttempts: 3, retryBaseMs: 60_000 });
    }
    expect(await row(id)).toMatchObject({ status: "failed", attempts: 3 });
    expect((await row(id)).last_error).toMatch(/^attempts exhausted/);
    expect(await isSuppressed(getPool(), SHOP, input.to)).toBeNull();
    expect(delivered(input.to)).toHaveLength(0);
  });

  it("a 5xx for the recipient fails the email and suppresses the address as bounced", async () => {
    const input = email();
    rcptPolicy.set(input.to, () => ({ code: 550, message: "5.1.1 No such user" }));
    const id = await queue(input);
    expect(await drain()).toMatchObject({ bounced: 1, sent: 0 });
    expect(await row(id)).toMatchObject({ status: "failed", attempts: 1 });
    expect(await isSuppressed(getPool(), SHOP, input.to)).toBe("bounced");
    expect(await withTransaction((c) => queueEmail(c, email({ to: input.to })))).toEqual({ status: "suppressed", reason: "bounced" });
    await drain();
    expect(delivered(input.to)).toHaveLength(0);
  });

  it("a 5xx for the message content (after DATA) bounces too", async () => {
    const input = email();
    dataPolicy.set(input.to, () => ({ code: 554, message: "5.7.1 Message rejected" }));
    const id = await queue(input);
    await drain();
    expect(await row(id)).toMatchObject({ status: "failed" });
    expect(await isSuppressed(getPool(), SHOP, input.to)).toBe("bounced");
  });

  it("an address suppressed after the email was queued is not sent to", async () => {
    const input = email();
    const id = await queue(input);
    await suppressAddress(getPool(), { shop: SHOP, address: input.to.toUpperCase(), reason: "unsubscribed" });
    expect(await drain()).toMatchObject({ cancelled: 1, sent: 0 });
    expect(await row(id)).toMatchObject({ status: "cancelled" });
    expect(delivered(input.to)).toHaveLength(0);
  });

  it("an email scheduled for later waits until it is due", async () => {
    const input = email({ sendAfter: new Date(Date.now() + 3_600_000) });
    const id = await queue(input);
    expect((await drain()).claimed).toBe(0);
    await getPool().query(`UPDATE email_outbox SET next_attempt_at = now() WHERE id = $1`, [id]);
    expect((await drain()).sent).toBe(1);
    expect(delivered(input.to)).toHaveLength(1);
  });

  it("a sender that died mid-send (lease expired) is taken over: sent once more with the same Message-ID; a live lease is left alone", async () => {
    const live = await queue(email());
    const dead = await queue(email());
    await getPool().query(`UPDATE email_outbox SET status = 'sending', claim_token = $2, attempts = 1, locked_until = now() + interval '1 minute' WHERE id = $1`, [live, randomUUID()]);
    await getPool().query(`UPDATE email_outbox SET status = 'sending', claim_token = $2, attempts = 1, locked_until = now() - interval '1 second' WHERE id = $1`, [dead, randomUUID()]);
    const report = await drain();
    expect(report).toMatchObject({ claimed: 1, sent: 1 });
    expect(await row(dead)).toMatchObject({ status: "sent", attempts: 2 });
    expect(await row(live)).toMatchObject({ status: "sending" });
    const messageId = (await row(dead)).message_id;
    expect(catcher.messages.filter((x) => x.messageId === messageId)).toHaveLength(1);
    // Leave nothing in flight for the next tests.
    await getPool().query(`UPDATE email_outbox SET status = 'cancelled', claim_token = NULL, locked_until = NULL WHERE id = $1`, [live]);
  });

  it("without SMTP_URL the sender leaves rows pending", async () => {
    const before = process.env.SMTP_URL;
    const id = await queue(email());
    const { getEnv } = await import("../../app/env.server");
    const cached = getEnv();
    const saved = cached.SMTP_URL;
    cached.SMTP_URL = undefined;
    try {
      expect(await drain()).toMatchObject({ configured: false, claimed: 0 });
      expect(await row(id)).toMatchObject({ status: "pending", attempts: 0 });
    } finally {
      cached.SMTP_URL = saved;
      process.env.SMTP_URL = before;
    }
    expect((await drain()).sent).toBe(1);
  });
});

describe("a worker started after Redis was flushed", () => {
  it("delivers every email queued while no sender ran, exactly once", { timeout: 120_000 }, async () => {
    const inputs = Array.from({ length: 20 }, () => email());
    for (const input of inputs) await queue(input);
    await wakeEmailSender(); // a wake-up nobody reads...
    expect(await getEmailQueue().count()).toBeGreaterThan(0);
    const redis = new Redis(env.REDIS_URL);
    await redis.flushdb(); // ...and lost with Redis
    redis.disconnect();
    await closeEmailQueue();

    worker = spawnChild(NODE_TSX[0], [...NODE_TSX[1], "jobs/worker.ts"], childProcessEnv({ EMAIL_SWEEP_INTERVAL_MS: "300", LOG_LEVEL: "warn" }));
    await waitUntil(async () => inputs.every((i) => delivered(i.to).length > 0), { timeoutMs: 90_000, what: `the worker to send 20 emails (stderr: ${worker.stderr().slice(-500)})` });
    // Some sweeps later, still once each.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (const input of inputs) expect(delivered(input.to), input.to).toHaveLength(1);
    const { rows } = await getPool().query(`SELECT status, count(*)::int AS n FROM email_outbox WHERE idempotency_key = ANY($1) GROUP BY status`, [inputs.map((i) => i.idempotencyKey)]);
    expect(rows).toEqual([{ status: "sent", n: 20 }]);
    worker.killGroup("SIGTERM");
    await worker.exited;
    worker = undefined;
  });
});

describe("a worker killed mid-send (SIGKILL)", () => {
  const workerEnv = () => childProcessEnv({ EMAIL_SWEEP_INTERVAL_MS: "300", EMAIL_LEASE_MS: "2000", LOG_LEVEL: "warn" });
  const startWorker = () => spawnChild(NODE_TSX[0], [...NODE_TSX[1], "jobs/worker.ts"], workerEnv());

  async function killWhen(input: QueueEmailInput, answer: Rejection | null): Promise<string> {
    let frozen = false;
    const id = await queue(input);
    worker = startWorker();
    const current = worker;
    // The SMTP server has the whole message: freeze the worker before answering, so the
    // answer reaches a process that can no longer record it, then kill it.
    dataPolicy.set(input.to, () => {
      if (frozen) return null;
      frozen = true;
      current.killGroup("SIGSTOP");
      return answer;
    });
    await waitUntil(async () => frozen, { timeoutMs: 60_000, what: `the worker to send (stderr: ${current.stderr().slice(-500)})` });
    current.killGroup("SIGKILL");
    expect((await current.exited).signal).toBe("SIGKILL");
    worker = undefined;
    expect(await row(id)).toMatchObject({ status: "sending", attempts: 1 });
    return id;
  }

  it("killed before the server answered: after the lease, delivered exactly once", { timeout: 120_000 }, async () => {
    const input = email();
    // The server refuses the message it saw (the dead client would never learn it was accepted).
    const id = await killWhen(input, { code: 451, message: "4.3.0 try again" });
    expect(delivered(input.to)).toHaveLength(0);
    worker = startWorker();
    await waitUntil(async () => (await row(id)).status === "sent", { timeoutMs: 60_000, what: "the restarted worker to send it" });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(delivered(input.to)).toHaveLength(1);
    expect(await row(id)).toMatchObject({ status: "sent", attempts: 2 });
    worker.killGroup("SIGTERM");
    await worker.exited;
    worker = undefined;
  });

  it("killed after the server accepted, before the row was marked sent: sent again with the same Message-ID (the documented edge)", { timeout: 120_000 }, async () => {
    const input = email();
    const id = await killWhen(input, null);
    expect(delivered(input.to)).toHaveLength(1);
    worker = startWorker();
    await waitUntil(async () => (await row(id)).status === "sent", { timeoutMs: 60_000, what: "the restarted worker to send it" });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const copies = delivered(input.to);
    expect(copies).toHaveLength(2);
    expect(new Set(copies.map((m) => m.messageId))).toEqual(new Set([(await row(id)).message_id]));
    expect(await row(id)).toMatchObject({ status: "sent", attempts: 2 });
    worker.killGroup("SIGTERM");
    await worker.exited;
    worker = undefined;
  });
});

describe("customers/redact", () => {
  it("suppresses the customer's addresses by hash, erases its emails and cancels the unsent ones", async () => {
    const gid = "gid://shopify/Customer/880088";
    const address = "redact.me@example.com";
    await getPool().query(`INSERT INTO customers (shop, gid, email) VALUES ($1, $2, $3)`, [SHOP, gid, address]);
    const sent = await queue(email({ customerGid: gid, to: address }));
    await drain();
    const pending = await queue(email({ customerGid: gid, to: "Other.Address@example.com" }));
    await withTransaction((c) => redactCustomer(c, { shop: SHOP, customerGid: gid, orderLegacyIds: [], inboxId: "0" }));
    expect(await row(sent)).toMatchObject({ status: "sent", to_address: null, subject: "[redacted]", html: "[redacted]", text: "[redacted]", smtp_response: null });
    expect(await row(pending)).toMatchObject({ status: "cancelled", to_address: null });
    expect(await isSuppressed(getPool(), SHOP, address)).toBe("redacted");
    expect(await isSuppressed(getPool(), SHOP, "other.address@example.com")).toBe("redacted");
    for (const table of ["email_outbox", "email_suppressions"]) {
      const { rows } = await getPool().query(`SELECT count(*)::int AS n FROM ${table} t WHERE t::text ILIKE '%redact.me%' OR t::text ILIKE '%other.address%'`);
      expect(rows[0].n, table).toBe(0);
    }
    expect(await withTransaction((c) => queueEmail(c, email({ customerGid: null, to: address })))).toEqual({ status: "suppressed", reason: "redacted" });
    expect(await withTransaction((c) => queueEmail(c, email({ customerGid: gid, to: "new@example.com" })))).toEqual({ status: "suppressed", reason: "redacted" });
  });
});

describe("unsubscribe link (the built app server)", () => {
  beforeAll(async () => {
    ensureAppBuild();
    app = await startAppServer({ port: await freePort(), env: {} });
  }, 180_000);

  const path = (url: string) => new URL(url).pathname;

  it("GET shows a page with a button and changes nothing; the one-click POST unsubscribes; later emails are refused", async () => {
    const input = email();
    const id = await queue(input);
    const get = await fetch(`${app!.origin}${path(unsubscribeUrl(id))}`);
    expect(get.status).toBe(200);
    expect(get.headers.get("cache-control")).toBe("no-store");
    expect(get.headers.get("x-robots-tag")).toBe("noindex");
    const page = await get.text();
    expect(page).toContain("Ana&#x27;s Plants");
    expect(page).toMatch(/<form method="post"/i);
    expect(await isSuppressed(getPool(), SHOP, input.to)).toBeNull();

    // What a mailbox provider sends for List-Unsubscribe-Post (RFC 8058): no cookies, no confirmation.
    const post = await fetch(`${app!.origin}${path(unsubscribeUrl(id))}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(post.status).toBe(200);
    expect(await post.text()).toContain("You are unsubscribed");
    expect(await isSuppressed(getPool(), SHOP, input.to)).toBe("unsubscribed");
    // Idempotent.
    expect((await fetch(`${app!.origin}${path(unsubscribeUrl(id))}`, { method: "POST", body: "List-Unsubscribe=One-Click", headers: { "content-type": "application/x-www-form-urlencoded" } })).status).toBe(200);
    expect(await withTransaction((c) => queueEmail(c, email({ to: input.to })))).toEqual({ status: "suppressed", reason: "unsubscribed" });
    // The email already queued is not sent either.
    expect(await drain()).toMatchObject({ cancelled: 1 });
    expect(delivered(input.to)).toHaveLength(0);
  });

  it("a tampered or unknown token gets a clear 4xx page and unsubscribes nothing", async () => {
    const input = email();
    const id = await queue(input);
    const good = path(unsubscribeUrl(id));
    const sig = good.split(".").pop()!;
    const tampered = [
      good.replace(`/${id}.`, `/${Number(id) + 1}.`),
      good.slice(0, -1) + (sig.endsWith("A") ? "B" : "A"),
      "/email/unsubscribe/not-a-token",
      "/email/unsubscribe/%E0%A4%A",
      `/email/unsubscribe/${id}.${"A".repeat(500)}`,
    ];
    for (const p of tampered) {
      for (const method of ["GET", "POST"]) {
        const r = await fetch(`${app!.origin}${p}`, { method, ...(method === "POST" ? { body: "List-Unsubscribe=One-Click", headers: { "content-type": "application/x-www-form-urlencoded" } } : {}) });
        expect(r.status, `${method} ${p}`).toBeGreaterThanOrEqual(400);
        expect(r.status, `${method} ${p}`).toBeLessThan(500);
      }
    }
    const bad = await fetch(`${app!.origin}${tampered[1]}`, { method: "POST", body: "List-Unsubscribe=One-Click", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("This link is not valid");
    expect(await isSuppressed(getPool(), SHOP, input.to)).toBeNull();
    // A well-signed token whose email no longer exists (the shop's data was purged): 404.
    await getPool().query(`DELETE FROM email_outbox WHERE id = $1`, [id]);
    const gone = await fetch(`${app!.origin}${good}`);
    expect(gone.status).toBe(404);
    expect(await gone.text()).toContain("This link has expired");
  });
});
