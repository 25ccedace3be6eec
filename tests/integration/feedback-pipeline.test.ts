// The whole feedback loop with every part running as in production: a signed order webhook ->
// the worker applies it (request scheduled, delay 0) -> the feedback scheduler job (BullMQ
// repeating job) queues the email -> the email sender delivers it to a loopback SMTP server
// (mailparser reads it) -> its link followed over HTTP against the built app server and the
// form submitted -> the answer in `crm feedback stats` and `feedback requests`, the loyalty
// ledger's bonus once. Redis holds the scheduler's one repeating job, not one per request.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool, withTransaction } from "../../app/db.server";
import { saveProgram } from "../../app/services/loyalty/program.server";
import { saveShopEmailSettings } from "../../app/services/email/settings.server";
import { setFeedbackRules } from "../../app/services/feedback/rules.server";
import { closeQueues } from "../../app/queues.server";
import { startFeedbackScheduler } from "../../jobs/feedback-scheduler";
import { startEmailSender } from "../../jobs/email-sender";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { orderPayload } from "../support/factories";
import { deliverAndSettle, runCli, startInProcessWorker, waitUntil } from "../support/pipeline";
import { ensureAppBuild, freePort, startAppServer, type AppServer } from "../support/admin-app-server";
import { startMailCatcher, type MailCatcher } from "../twin/mail-catcher";

const SHOP = "feedback-pipeline.myshopify.com";
const eva = { id: 7401n, email: "eva.pipeline@example.com", firstName: "Eva" };
const gus = { id: 7402n, email: "gus.pipeline@example.com", firstName: "Gus" };
const EVA = "gid://shopify/Customer/7401";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let server: AppServer;
let catcher: MailCatcher;
let jobs: { close: () => Promise<void> }[] = [];
let cliEnv: NodeJS.ProcessEnv;
const crm = (...args: string[]) => runCli(args, cliEnv);

beforeAll(async () => {
  catcher = await startMailCatcher({ httpPort: null });
  const port = await freePort();
  env = await useIntegrationEnv({ SHOPIFY_APP_URL: `http://127.0.0.1:${port}`, SMTP_URL: catcher.smtpUrl, EMAIL_FROM_ADDRESS: "crm@mail.example.test" });
  cliEnv = childProcessEnv();
  ensureAppBuild();
  server = await startAppServer({ port, env: { DATABASE_URL: env.DATABASE_URL, REDIS_URL: env.REDIS_URL, LOG_LEVEL: "warn" } });
  await saveProgram({ shop: SHOP, settings: { earn: { pointsPerUnit: 1 }, bonuses: { feedback: 25 } }, actor: "owner", now: new Date(Date.now() - 86_400_000) });
  await withTransaction((db) => saveShopEmailSettings(db, SHOP, { senderName: "Pipeline Shop", replyTo: null, footerAddress: "2 High St", locale: "en", staffAlertAddress: null }));
  await setFeedbackRules(SHOP, { rules: [{ name: "right away", trigger: "order_paid", delayDays: 0, reminders: { count: 1, spacingDays: 2 } }] });
  jobs = [startInProcessWorker(), await startFeedbackScheduler({ intervalMs: 1_000, batchSize: 50 }), await startEmailSender({ sweepIntervalMs: 500 })];
});

afterAll(async () => {
  for (const job of jobs) await job.close().catch(() => undefined);
  await server?.stop();
  await catcher?.close();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

describe("the feedback loop, every part running", () => {
  let link: string;

  it("an order webhook leads to a feedback email at the SMTP server; a cancelled order's never", async () => {
    await deliverAndSettle("orders/paid", orderPayload({ id: 74001n, customer: eva, totalPrice: "60.00", name: "#4001", lines: [{ productId: 9401n, title: "Canvas Tote", price: "60.00" }] }), { shop: SHOP });
    await deliverAndSettle("orders/paid", orderPayload({ id: 74002n, customer: gus, totalPrice: "60.00", name: "#4002", cancelledAt: new Date().toISOString() }), { shop: SHOP });
    const [message] = await catcher.waitFor(1, 45_000);
    expect(message!.envelopeTo).toEqual(["eva.pipeline@example.com"]);
    expect(message!.subject).toBe("How was your order from feedback-pipeline?");
    expect(message!.text).toContain("Hi Eva,");
    expect(message!.text).toContain("#4001");
    expect(message!.text).toContain("Canvas Tote");
    expect(message!.headerLines.some((h) => h.key === "list-unsubscribe")).toBe(true);
    link = /(http:\/\/127\.0\.0\.1:\d+\/feedback\/[A-Za-z0-9._-]+)/.exec(message!.text ?? "")![1]!;
    expect(message!.html).toContain(link);
    // Another scheduler run or two later: still only Eva's email.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(catcher.messages.map((m) => m.envelopeTo.join())).toEqual(["eva.pipeline@example.com"]);
    const { rows } = await getPool().query(`SELECT order_gid, status FROM feedback_requests WHERE shop = $1 ORDER BY order_gid`, [SHOP]);
    expect(rows).toEqual([{ order_gid: "gid://shopify/Order/74001", status: "sent" }]);
  });

  it("Redis holds the scheduler's repeating job, not one job per request", async () => {
    const redis = new Redis(env.REDIS_URL);
    try {
      const keys = await redis.keys("bull:crm-feedback-scheduler:*");
      const schedulers = await redis.zcard("bull:crm-feedback-scheduler:repeat");
      expect(schedulers).toBe(1);
      expect(keys.length).toBeLessThan(120); // completed jobs kept: at most 100, then removed
    } finally {
      redis.disconnect();
    }
  });

  it("following the emailed link and answering shows up in the CLI and the loyalty ledger, once", async () => {
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("How likely are you to recommend feedback-pipeline");
    const answer = await fetch(link, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ nps: "10", comment: "Lovely tote", "rating-0": "5" }).toString(),
    });
    expect(answer.status).toBe(303);
    // Answered: the reminder (due in 2 days) is cancelled.
    await waitUntil(async () => (await getPool().query(`SELECT 1 FROM feedback_requests WHERE shop = $1 AND status = 'answered' AND next_reminder_at IS NULL`, [SHOP])).rowCount, { what: "answered" });
    const stats = await crm("feedback", "stats", "--shop", SHOP);
    expect(stats.stderr).toBe("");
    expect(JSON.parse(stats.stdout)).toEqual({ requested: 1, sent: 1, answered: 1, nps: 100, promoters: 1, passives: 0, detractors: 0, averageRating: 5, openCases: 0 });
    const requests = JSON.parse((await crm("feedback", "requests", "--shop", SHOP, "--customer", EVA)).stdout);
    expect(requests).toMatchObject([{ orderGid: "gid://shopify/Order/74001", status: "answered", skipReason: null, remindersSent: 0, nps: 10 }]);
    const balance = JSON.parse((await crm("loyalty", "ledger", "--shop", SHOP, "--customer", EVA)).stdout.trim().split("\n").filter((l) => l.includes("bonus:feedback"))[0]!);
    expect(balance).toMatchObject({ kind: "bonus", points: 25 });
    // Answering again edits; the bonus stays once.
    await fetch(link, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "nps=8" });
    const ledger = (await crm("loyalty", "ledger", "--shop", SHOP, "--customer", EVA)).stdout.trim().split("\n").filter((l) => l.includes("bonus:feedback"));
    expect(ledger).toHaveLength(1);
  });
});
