// A feedback request end to end through the real pipeline: signed order webhooks -> worker
// apply (request scheduled, delay 0) -> the scheduler writes the email to the outbox -> the
// link in that email followed over HTTP against the built app server -> the form submitted ->
// the answer in the CLI's stats and requests, the loyalty ledger's bonus (once), a case, the
// negative tag through the tag outbox and a staff alert. Reminders stop once answered; a
// cancelled order's request is never sent; hostile links and answers get clear 4xx pages.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool, withTransaction } from "../../app/db.server";
import { saveProgram } from "../../app/services/loyalty/program.server";
import { saveShopEmailSettings } from "../../app/services/email/settings.server";
import { setFeedbackRules } from "../../app/services/feedback/rules.server";
import { runFeedbackScheduler } from "../../app/services/feedback/scheduler.server";
import { signFeedbackToken } from "../../app/services/feedback/links.server";
import { closeQueues, closeEmailQueue } from "../../app/queues.server";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { orderPayload } from "../support/factories";
import { deliverAndSettle, runCli, startInProcessWorker } from "../support/pipeline";
import { ensureAppBuild, freePort, startAppServer, type AppServer } from "../support/admin-app-server";

const SHOP = "feedback-answer.myshopify.com";
const OTHER = "feedback-answer-other.myshopify.com";
const ana = { id: 7201n, email: "ana.answer@example.com", firstName: "Ana" };
const bo = { id: 7202n, email: "bo.answer@example.com", firstName: "Bo" };
const cy = { id: 7203n, email: "cy.answer@example.com", firstName: "Cy" };
const ANA_GID = "gid://shopify/Customer/7201";
const DAY = 86_400_000;

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let server: AppServer;
let cliEnv: NodeJS.ProcessEnv;
const crm = (...args: string[]) => runCli(args, cliEnv);

type OutboxRow = { id: string; idempotency_key: string; category: string; to_address: string; customer_gid: string | null; subject: string; html: string; text: string };

async function outbox(shop: string): Promise<OutboxRow[]> {
  const { rows } = await getPool().query<OutboxRow>(
    `SELECT id::text AS id, idempotency_key, category, to_address, customer_gid, subject, html, text FROM email_outbox WHERE shop = $1 ORDER BY id`,
    [shop],
  );
  return rows;
}

async function requestOf(shop: string, orderGid: string) {
  const { rows } = await getPool().query<{ id: string; status: string; skip_reason: string | null; reminders_sent: number; next_reminder_at: Date | null; link_expires_at: Date | null }>(
    `SELECT id::text AS id, status, skip_reason, reminders_sent, next_reminder_at, link_expires_at FROM feedback_requests WHERE shop = $1 AND order_gid = $2`,
    [shop, orderGid],
  );
  return rows[0]!;
}

const linkIn = (text: string) => {
  const match = /(http:\/\/127\.0\.0\.1:\d+\/feedback\/[A-Za-z0-9._-]+)/.exec(text);
  if (!match) throw new Error(`no feedback link in:\n${text}`);
  return match[1]!;
};

const post = (url: string, fields: Record<string, string> | string, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: typeof fields === "string" ? fields : new URLSearchParams(fields).toString(),
  });

let now: Date;
let anaLink: string;

beforeAll(async () => {
  const port = await freePort();
  env = await useIntegrationEnv({ SHOPIFY_APP_URL: `http://127.0.0.1:${port}` });
  cliEnv = childProcessEnv();
  ensureAppBuild();
  server = await startAppServer({ port, env: { DATABASE_URL: env.DATABASE_URL, REDIS_URL: env.REDIS_URL, LOG_LEVEL: "warn" } });
  await saveProgram({ shop: SHOP, settings: { earn: { pointsPerUnit: 1 }, bonuses: { feedback: 50 } }, actor: "owner", now: new Date(Date.now() - 10 * DAY) });
  await withTransaction((db) => saveShopEmailSettings(db, SHOP, { senderName: "Answer Shop", replyTo: null, footerAddress: "1 Main St", locale: "es", staffAlertAddress: "staff@answer.example" }));
  await setFeedbackRules(SHOP, {
    settings: { tagNegative: true, staffAlert: true },
    rules: [{ name: "right away", trigger: "order_paid", delayDays: 0, reminders: { count: 2, spacingDays: 1 } }],
  });
  await setFeedbackRules(OTHER, { rules: [{ name: "other", trigger: "order_paid", delayDays: 0 }] });
  const worker = startInProcessWorker();
  try {
    const lines = [
      { productId: 9101n, title: "Merino <Crew> Sock", price: "20.00" },
      { productId: 9102n, title: "Trail Shoe", price: "80.00" },
    ];
    await deliverAndSettle("orders/paid", orderPayload({ id: 72001n, customer: ana, totalPrice: "100.00", name: "#2001", lines }), { shop: SHOP });
    // Paid, then cancelled before the scheduler runs: never sent.
    await deliverAndSettle("orders/paid", orderPayload({ id: 72002n, customer: bo, totalPrice: "30.00", name: "#2002" }), { shop: SHOP });
    await deliverAndSettle("orders/cancelled", orderPayload({ id: 72002n, customer: bo, totalPrice: "30.00", name: "#2002", cancelledAt: new Date().toISOString(), updatedAt: new Date(Date.now() + 1000).toISOString() }), { shop: SHOP });
    // Unanswered: its reminders go out.
    await deliverAndSettle("orders/paid", orderPayload({ id: 72003n, customer: cy, totalPrice: "30.00", name: "#2003" }), { shop: SHOP });
    // A request of another shop.
    await deliverAndSettle("orders/paid", orderPayload({ id: 72004n, customer: ana, totalPrice: "30.00", name: "#9" }), { shop: OTHER });
  } finally {
    await worker.close();
  }
  now = new Date();
});

afterAll(async () => {
  await server?.stop();
  await closeEmailQueue();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

describe("sending", () => {
  it("the scheduler queues one email per due request (the answer link, first name, order, products) and skips the cancelled order", async () => {
    const report = await runFeedbackScheduler({ now });
    // Every shop's due requests: this shop's two, and the other shop's one.
    expect(report).toMatchObject({ sent: 3, skipped: { cancelled: 1 }, failed: 0 });
    expect((await requestOf(SHOP, "gid://shopify/Order/72002"))).toMatchObject({ status: "skipped", skip_reason: "cancelled" });
    const mails = await outbox(SHOP);
    expect(mails.map((m) => [m.category, m.to_address])).toEqual([
      ["feedback_request", "ana.answer@example.com"],
      ["feedback_request", "cy.answer@example.com"],
    ]);
    const anaRequest = await requestOf(SHOP, "gid://shopify/Order/72001");
    expect(anaRequest.status).toBe("sent");
    expect(anaRequest.link_expires_at!.getTime() - now.getTime()).toBeCloseTo(180 * DAY, -4);
    const mail = mails[0]!;
    expect(mail.idempotency_key).toBe(`feedback-request:${anaRequest.id}`);
    expect(mail.customer_gid).toBe(ANA_GID);
    // The shop's locale is Spanish.
    expect(mail.subject).toContain("¿Qué tal tu pedido");
    expect(mail.text).toContain("Hola, Ana:");
    expect(mail.text).toContain("#2001");
    expect(mail.text).toContain("Trail Shoe");
    expect(mail.html).toContain("Merino &lt;Crew&gt; Sock");
    anaLink = linkIn(mail.text);
    expect(mail.html).toContain(anaLink);
    // Running again sends nothing twice.
    expect(await runFeedbackScheduler({ now })).toMatchObject({ sent: 0, reminded: 0, skipped: {} });
    expect(await outbox(SHOP)).toHaveLength(2);
  });

  it("the other shop's request went to its own outbox", async () => {
    expect((await outbox(OTHER)).map((m) => m.to_address)).toEqual(["ana.answer@example.com"]);
  });
});

describe("answering over HTTP", () => {
  it("the page is a plain accessible form in the shop's language", async () => {
    const response = await fetch(anaLink);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('lang="es"');
    expect(html).toMatch(/<fieldset><legend id="nps-legend">¿Qué probabilidad hay de que recomiendes/);
    expect(html.match(/type="radio" name="nps"/g)).toHaveLength(11);
    expect(html.match(/type="radio" name="rating-0"/g)).toHaveLength(5);
    expect(html).toContain('<label class="text-label" for="comment">');
    expect(html).toContain("Merino &lt;Crew&gt; Sock");
    expect(html).not.toContain("app-bridge");
    expect(html).not.toContain("Polaris");
  });

  it("a detractor's answer is saved, gives the bonus once, opens a case, tags and alerts; escaped where shown", async () => {
    const comment = `<script>alert("x")</script> Muy mal, llegó roto`;
    const response = await post(anaLink, { nps: "3", comment, "rating-0": "1", "review-0": "<img src=x onerror=alert(1)>", "rating-1": "4" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toMatch(/\/feedback\/.+\?saved=1$/);
    const page = await (await fetch(anaLink + "?saved=1")).text();
    expect(page).toContain("¡Gracias!");
    expect(page).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Muy mal");
    expect(page).not.toContain("<script>alert");
    expect(page).not.toContain("<img src=x");

    const { rows: responses } = await getPool().query(`SELECT nps, comment, customer_gid, sentiment_label, language, edits FROM feedback_responses WHERE shop = $1`, [SHOP]);
    expect(responses).toEqual([{ nps: 3, comment, customer_gid: ANA_GID, sentiment_label: "negative", language: "es", edits: 0 }]);
    const { rows: ratings } = await getPool().query(`SELECT product_gid, rating, review FROM feedback_product_ratings WHERE shop = $1 ORDER BY product_gid`, [SHOP]);
    expect(ratings).toEqual([
      { product_gid: "gid://shopify/Product/9101", rating: 1, review: "<img src=x onerror=alert(1)>" },
      { product_gid: "gid://shopify/Product/9102", rating: 4, review: null },
    ]);
    const { rows: cases } = await getPool().query(`SELECT status, reasons, customer_gid FROM feedback_cases WHERE shop = $1`, [SHOP]);
    expect(cases).toEqual([{ status: "open", reasons: ["detractor", "low_rating", "negative_text"], customer_gid: ANA_GID }]);
    const { rows: tags } = await getPool().query(`SELECT customer_gid, tag, action, source, status::text AS status FROM tag_writes WHERE shop = $1`, [SHOP]);
    expect(tags).toEqual([{ customer_gid: ANA_GID, tag: "crm:feedback-negative", action: "add", source: "feedback", status: "pending" }]);
    const alerts = (await outbox(SHOP)).filter((m) => m.category === "staff_alert");
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ to_address: "staff@answer.example", customer_gid: null });
    expect(alerts[0]!.html).toContain("&lt;script&gt;");
    expect(alerts[0]!.html).not.toContain("<script>");
  });

  it("answering again edits the same response; the bonus stays once; a replayed POST changes nothing more", async () => {
    const edit = { nps: "9", comment: "Actually fine", "rating-0": "4" };
    expect((await post(anaLink, edit)).status).toBe(303);
    expect((await post(anaLink, edit)).status).toBe(303);
    const { rows } = await getPool().query(`SELECT nps, comment, edits FROM feedback_responses WHERE shop = $1`, [SHOP]);
    expect(rows).toEqual([{ nps: 9, comment: "Actually fine", edits: 2 }]);
    const { rows: ratings } = await getPool().query(`SELECT product_gid, rating FROM feedback_product_ratings WHERE shop = $1`, [SHOP]);
    expect(ratings).toEqual([{ product_gid: "gid://shopify/Product/9101", rating: 4 }]);
    const { rows: ledger } = await getPool().query(`SELECT idempotency_key, points FROM loyalty_ledger WHERE shop = $1 AND customer_gid = $2 AND idempotency_key LIKE 'bonus:feedback:%'`, [SHOP, ANA_GID]);
    const request = await requestOf(SHOP, "gid://shopify/Order/72001");
    expect(ledger).toEqual([{ idempotency_key: `bonus:feedback:${request.id}`, points: 50 }]);
    // The page shows the saved answer for editing.
    const page = await (await fetch(anaLink)).text();
    const checked = [...page.matchAll(/<input[^>]*name="nps"[^>]*>/g)].map((m) => m[0]).filter((tag) => tag.includes('checked=""'));
    expect(checked).toHaveLength(1);
    expect(checked[0]).toContain('value="9"');
    expect(page).toContain("Actually fine");
  });

  it("reminders stop once answered; the unanswered request gets them, spaced, at most the rule's count", async () => {
    expect(await requestOf(SHOP, "gid://shopify/Order/72001")).toMatchObject({ status: "answered", next_reminder_at: null });
    const day1 = await runFeedbackScheduler({ now: new Date(now.getTime() + DAY + 60_000) });
    expect(day1).toMatchObject({ sent: 0, reminded: 1 });
    const day2 = await runFeedbackScheduler({ now: new Date(now.getTime() + 2 * DAY + 60_000) });
    expect(day2).toMatchObject({ reminded: 1 });
    const day5 = await runFeedbackScheduler({ now: new Date(now.getTime() + 5 * DAY) });
    expect(day5).toMatchObject({ reminded: 0 });
    const reminders = (await outbox(SHOP)).filter((m) => m.category === "feedback_reminder");
    const cyRequest = await requestOf(SHOP, "gid://shopify/Order/72003");
    expect(reminders.map((m) => [m.idempotency_key, m.to_address])).toEqual([
      [`feedback-reminder:${cyRequest.id}:1`, "cy.answer@example.com"],
      [`feedback-reminder:${cyRequest.id}:2`, "cy.answer@example.com"],
    ]);
    expect(reminders[0]!.subject).toContain("Un recordatorio");
    expect(cyRequest).toMatchObject({ status: "reminded", reminders_sent: 2, next_reminder_at: null });
  });

  it("the CLI shows the answer in stats and in the customer's requests", async () => {
    const stats = await crm("feedback", "stats", "--shop", SHOP);
    expect(stats.stderr).toBe("");
    expect(JSON.parse(stats.stdout)).toEqual({ requested: 3, sent: 2, answered: 1, nps: 100, promoters: 1, passives: 0, detractors: 0, averageRating: 4, openCases: 1 });
    const requests = await crm("feedback", "requests", "--shop", SHOP, "--customer", "7202");
    expect(JSON.parse(requests.stdout).map((r: { status: string; skipReason: string }) => [r.status, r.skipReason])).toEqual([["skipped", "cancelled"]]);
    const anaRequests = JSON.parse((await crm("feedback", "requests", "--shop", SHOP, "--customer", ANA_GID)).stdout);
    expect(anaRequests.map((r: { status: string; nps: number }) => [r.status, r.nps])).toEqual([["answered", 9]]);
  });
});

describe("hostile links and answers", () => {
  const tokenOf = (link: string) => link.slice(link.lastIndexOf("/") + 1);

  it.each([
    ["a tampered signature", (t: string) => t.slice(0, -2) + (t.endsWith("AA") ? "BB" : "AA"), 404],
    ["a tampered expiry", (t: string) => t.replace(/\.(\d+)\./, (_m, e: string) => `.${Number(e) + 1000}.`), 404],
    ["another request id", (t: string) => t.replace(/^\d+/, (id) => String(Number(id) + 1)), 404],
    ["an unknown request", (t: string) => t.replace(/^\d+/, "999999"), 404],
    ["garbage", () => "not-a-token", 404],
    ["an overlong token", (t: string) => t + "x".repeat(5000), 404],
  ])("%s: a clear 4xx page on GET and POST, nothing saved", async (_label, mutate, status) => {
    const url = anaLink.replace(tokenOf(anaLink), mutate(tokenOf(anaLink)));
    const get = await fetch(url);
    expect(get.status).toBe(status);
    expect(await get.text()).toContain("This feedback link does not work");
    const posted = await post(url, { nps: "0" });
    expect(posted.status).toBe(status);
    const { rows } = await getPool().query(`SELECT nps FROM feedback_responses WHERE shop = $1`, [SHOP]);
    expect(rows).toEqual([{ nps: 9 }]);
  });

  it("an expired link (genuinely signed) gets 410 and cannot answer", async () => {
    const request = await requestOf(SHOP, "gid://shopify/Order/72003");
    const expired = signFeedbackToken({ shop: SHOP, requestId: request.id, expiresAt: new Date(Date.now() - 1000) });
    const url = new URL(`/feedback/${expired}`, server.origin).toString();
    const get = await fetch(url);
    expect(get.status).toBe(410);
    expect(await get.text()).toContain("This feedback link has expired.");
    expect((await post(url, { nps: "5" })).status).toBe(410);
    expect((await requestOf(SHOP, "gid://shopify/Order/72003")).status).toBe("reminded");
  });

  it("a link signed for this shop naming another shop's request fails, and the other shop's own link works", async () => {
    const otherRequest = await requestOf(OTHER, "gid://shopify/Order/72004");
    const forged = signFeedbackToken({ shop: SHOP, requestId: otherRequest.id, expiresAt: new Date(Date.now() + DAY) });
    const url = new URL(`/feedback/${forged}`, server.origin).toString();
    expect((await fetch(url)).status).toBe(404);
    expect((await post(url, { nps: "10" })).status).toBe(404);
    const genuine = linkIn((await outbox(OTHER))[0]!.text);
    expect((await fetch(genuine)).status).toBe(200);
    const { rows } = await getPool().query(`SELECT count(*)::int AS n FROM feedback_responses WHERE shop = $1`, [OTHER]);
    expect(rows[0].n).toBe(0);
  });

  it.each([
    ["an oversized comment", { nps: "5", comment: "x".repeat(2001) }, 400, "comment must be at most 2000 characters"],
    ["nps 11", { nps: "11" }, 400, "nps must be a whole number from 0 to 10"],
    ["no nps", { comment: "hi" }, 400, "nps is required"],
    ["a 6-star rating", { nps: "5", "rating-0": "6" }, 400, "a rating must be 1 to 5 stars"],
    ["a rating for a product not in the order", { nps: "5", "rating-7": "5" }, 400, "the form has fields this request does not have"],
    ["a repeated field", "nps=5&nps=1", 400, "was sent twice"],
    ["a body over 64 KiB", { nps: "5", comment: "y".repeat(70_000) }, 413, "Please keep each text under"],
  ])("%s gets a clear 4xx and changes nothing", async (_label, fields, status, message) => {
    const response = await post(anaLink, fields as Record<string, string> | string);
    expect(response.status).toBe(status);
    expect(await response.text()).toContain(message);
    const { rows } = await getPool().query(`SELECT nps, comment, edits FROM feedback_responses WHERE shop = $1`, [SHOP]);
    expect(rows).toEqual([{ nps: 9, comment: "Actually fine", edits: 2 }]);
  });

  it("a multipart or JSON body gets 415", async () => {
    const response = await fetch(anaLink, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ nps: 1 }) });
    expect(response.status).toBe(415);
  });

  it("the server logged no error", () => {
    expect(server.output()).not.toMatch(/"level":(50|60)/);
    expect(server.egressAttempts()).toEqual([]);
  });
});
