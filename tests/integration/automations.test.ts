// Automations (issue 14) through the pipeline: signed webhooks -> the real worker processor
// (apply step, which records firings) -> the automation runner (runAutomations, and once the
// BullMQ job itself) -> the Shopify twin (discount codes, behind a fault-injecting proxy), the
// email outbox, the tag outbox, the loyalty ledger, a local HTTP receiver for outgoing webhooks
// (HMAC checked). Exactly-once under duplicates, reordering and replays; a runner killed between
// firing and action (lease expiry); waits across a restart; a refused discount retried within bounds.
import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { saveProgram } from "../../app/services/loyalty/program.server";
import { createSegment } from "../../app/services/segments/segments.server";
import { setRule } from "../../app/services/automations/rules.server";
import { claimDueFirings, MAX_ATTEMPTS, runAutomations } from "../../app/services/automations/runner.server";
import { firingLog } from "../../app/services/automations/log.server";
import { expandMoments } from "../../app/services/automations/moments.server";
import { replayEvents } from "../../app/services/event-replay.server";
import { startAutomationRunner } from "../../jobs/automation-runner";
import { closeQueues } from "../../app/queues.server";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { customerPayload, customerRedactPayload, orderPayload } from "../support/factories";
import { deliverAndSettle, runCli, startInProcessWorker, waitForInboxSettled, waitUntil } from "../support/pipeline";
import { startAdminTwin, type AdminTwin } from "../twin/admin-graphql";
import { generateStore } from "../twin/store-generator";
import { RedemptionProxy, twinDiscountByCode } from "./loyalty-rewards.support";
import { storeOfflineSession, TOKEN } from "./tag-sync.support";

const SHOP = "automations.myshopify.com";
const DAY = 86_400_000;

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let twin: AdminTwin;
let proxy: RedemptionProxy;
let worker: ReturnType<typeof startInProcessWorker>;
let receiver: Server;
let receiverUrl: string;
const received: { body: string; signature: string | undefined; deliveryId: string | undefined }[] = [];
let failReceiver = 0;
let ids: bigint[];
let nextCustomer = 0;
let nextOrder = 880_000n;
/** A customer of the twin no other test uses. */
const freshCustomer = () => {
  const id = ids[nextCustomer++]!;
  return { id, gid: `gid://shopify/Customer/${id}`, spec: { id, email: `c${id}@example.com`, firstName: `F${id}`, createdAt: new Date(Date.now() - 400 * DAY).toISOString() } };
};
const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();

async function placeOrder(customer: ReturnType<typeof freshCustomer>, o: { total?: string; createdAgoMs?: number; topic?: string; webhookId?: string; id?: bigint } = {}) {
  const id = o.id ?? nextOrder++;
  const payload = orderPayload({ id, customer: customer.spec, totalPrice: o.total ?? "50.00", createdAt: iso(o.createdAgoMs ?? 60_000), updatedAt: iso((o.createdAgoMs ?? 60_000) - 1_000) });
  await deliverAndSettle(o.topic ?? "orders/create", payload, { shop: SHOP, ...(o.webhookId ? { webhookId: o.webhookId } : {}) });
  return { id, gid: `gid://shopify/Order/${id}`, payload };
}

async function rule(definition: Record<string, unknown>) {
  return (await setRule(SHOP, { enabled: true, reentry: { mode: "every_time" }, condition: null, ...definition })).id;
}
async function disable(id: string) {
  await getPool().query(`UPDATE automation_rules SET enabled = false WHERE id = $1`, [id]);
}
const firingsOf = (ruleId: string) => firingLog({ shop: SHOP, ruleId });

beforeAll(async () => {
  twin = await startAdminTwin({ accessTokens: { [SHOP]: TOKEN } });
  twin.shop(SHOP).loadStore(generateStore({ seed: 14, customers: 60, shopDomain: SHOP }), { maxOrders: 0 });
  ids = twin.shop(SHOP).sortedIds("customers").map((id) => BigInt(id));
  proxy = new RedemptionProxy(twin);
  await proxy.listen();
  env = await useIntegrationEnv({ SHOPIFY_TWIN_URL: proxy.url });
  await storeOfflineSession(SHOP);
  await saveProgram({ shop: SHOP, settings: { earn: { pointsPerUnit: 1 }, expiry: { inactivityDays: 30 }, tiers: { metric: "points_earned", window: "lifetime", levels: [{ name: "Silver", threshold: 0 }, { name: "Gold", threshold: 500 }] } }, actor: "owner", now: new Date(Date.now() - 400 * DAY) });
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push({ body, signature: req.headers["x-crm-signature"] as string | undefined, deliveryId: req.headers["x-crm-delivery-id"] as string | undefined });
      res.writeHead(failReceiver-- > 0 ? 503 : 200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  worker = startInProcessWorker();
});

// Each test's rules only: a test that failed half-way leaves none switched on for the next.
beforeEach(async () => {
  await getPool().query(`UPDATE automation_rules SET enabled = false WHERE shop = $1`, [SHOP]);
});

afterAll(async () => {
  expect(proxy?.errors ?? []).toEqual([]);
  await worker?.close();
  await new Promise((resolve) => receiver?.close(resolve));
  await proxy?.close();
  await twin?.close();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

describe("order triggers and every action kind", () => {
  it("a first order fires once: a code made in Shopify for the customer and emailed, a tag, points, a signed webhook, a Flow trigger sent", async () => {
    const ruleId = await rule({
      name: "thank you",
      trigger: { kind: "order_placed", nthOrder: 1 },
      steps: [
        { kind: "discount_code", discount: { kind: "percentage", value: 10, validityDays: 30 }, email: { subject: "Thanks {{first_name}}", body: "Your code: {{code}} until {{code_expires}}" } },
        { kind: "add_tag", tag: "crm:first-buyer" },
        { kind: "points", points: 50, reason: "first order bonus" },
        { kind: "webhook", url: receiverUrl },
        { kind: "flow_trigger", handle: "crm-automation-fired" },
      ],
    });
    const ana = freshCustomer();
    const order = await placeOrder(ana);
    await placeOrder(ana); // the second order: nth 2, no firing
    const report = await runAutomations();
    expect(report).toMatchObject({ claimed: 1, done: 1, failed: 0 });
    const [firing, ...others] = await firingsOf(ruleId);
    expect(others).toEqual([]);
    expect(firing).toMatchObject({ customerGid: ana.gid, eventKey: `order_placed:${order.gid}`, status: "done", conditionResult: true, trigger: { kind: "order_placed", nth: 1 } });
    expect(firing!.actions.map((a) => [a.kind, a.status])).toEqual([["discount_code", "done"], ["add_tag", "done"], ["points", "done"], ["webhook", "done"], ["flow_trigger", "done"]]);
    expect(twin.shop(SHOP).flowTriggers.filter((t) => t.payload.customer_id === Number(ana.id))).toEqual([
      { handle: "crm-automation-fired", payload: { customer_id: Number(ana.id), "Rule name": "thank you", Moment: "order_placed" }, receivedAt: expect.any(String) },
    ]);
    const code = firing!.actions[0]!.detail.code as string;
    const discount = twinDiscountByCode(twin, SHOP, code)!;
    expect(discount).toBeDefined();
    expect(JSON.stringify(discount)).toContain(String(ana.id));
    const { rows: emails } = await getPool().query(`SELECT to_address, subject, text, category FROM email_outbox WHERE shop = $1 AND customer_gid = $2`, [SHOP, ana.gid]);
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ to_address: ana.spec.email, subject: `Thanks ${ana.spec.firstName}`, category: "automation" });
    expect(emails[0].text).toContain(code);
    const { rows: tags } = await getPool().query(`SELECT tag, action, source FROM tag_writes WHERE shop = $1 AND customer_gid = $2`, [SHOP, ana.gid]);
    expect(tags).toEqual([{ tag: "crm:first-buyer", action: "add", source: "automation" }]);
    const { rows: ledger } = await getPool().query(`SELECT points, idempotency_key FROM loyalty_ledger WHERE shop = $1 AND customer_gid = $2 AND kind = 'adjust'`, [SHOP, ana.gid]);
    expect(ledger).toEqual([{ points: 50, idempotency_key: `automation:${firing!.id}:2` }]);
    const hook = received.find((r) => JSON.parse(r.body).customer.gid === ana.gid)!;
    const { rows: secret } = await getPool().query(`SELECT webhook_secret FROM automation_rules WHERE id = $1`, [ruleId]);
    expect(hook.signature).toBe(`sha256=${createHmac("sha256", secret[0].webhook_secret).update(hook.body).digest("hex")}`);
    expect(hook.deliveryId).toBe(`automation:${firing!.id}:3`);
    // Nothing more on later runs.
    expect((await runAutomations()).claimed).toBe(0);
    await disable(ruleId);
  });

  it("duplicate, reordered and replayed order events fire once; order_paid with conditions on total", async () => {
    const ruleId = await rule({ name: "big paid order", trigger: { kind: "order_paid", minTotal: "100.00" }, steps: [{ kind: "add_tag", tag: "crm:big" }] });
    const bo = freshCustomer();
    const id = nextOrder++;
    // orders/updated first (reordered), then orders/create, then the same delivery again, then a replay.
    await placeOrder(bo, { id, total: "150.00", topic: "orders/updated", webhookId: "dup-upd-1" });
    await placeOrder(bo, { id, total: "150.00", topic: "orders/create", webhookId: "dup-create-1" });
    await placeOrder(bo, { id, total: "150.00", topic: "orders/create", webhookId: "dup-create-1" });
    await placeOrder(freshCustomer(), { total: "20.00" }); // too small
    const { rows } = await getPool().query(`SELECT id FROM webhook_events WHERE shop = $1 AND webhook_id = 'dup-create-1'`, [SHOP]);
    await getPool().query(`UPDATE webhook_events SET status = 'dead' WHERE id = $1`, [rows[0].id]);
    await replayEvents({ shop: SHOP, status: "dead" });
    await waitForInboxSettled();
    await runAutomations();
    await runAutomations();
    const firings = await firingsOf(ruleId);
    expect(firings.map((f) => [f.customerGid, f.status])).toEqual([[bo.gid, "done"]]);
    const { rows: tags } = await getPool().query(`SELECT count(*)::int AS n FROM tag_writes WHERE shop = $1 AND customer_gid = $2 AND tag = 'crm:big'`, [SHOP, bo.gid]);
    expect(tags[0].n).toBe(1);
    await disable(ruleId);
  });

  it("re-entry once: a second moment of the same customer is skipped; the condition is checked on the customer", async () => {
    const ruleId = await rule({ name: "once only", trigger: { kind: "order_placed" }, reentry: { mode: "once" }, condition: "amount_spent >= 30", steps: [{ kind: "points", points: 5, reason: "r" }] });
    const cy = freshCustomer();
    await placeOrder(cy, { total: "40.00" });
    await placeOrder(cy, { total: "40.00" });
    const dee = freshCustomer();
    await placeOrder(dee, { total: "10.00" });
    await runAutomations();
    const firings = await firingsOf(ruleId);
    expect(firings.map((f) => [f.customerGid, f.status, f.skipReason])).toEqual([
      [cy.gid, "done", null],
      [cy.gid, "skipped", "reentry"],
      [dee.gid, "skipped", "condition_false"],
    ]);
    await disable(ruleId);
  });
});

describe("customer, segment, tier, feedback and time-based triggers", () => {
  it("customer created, segment entered, tier changed: fired from the apply step; a segment created afterwards fires nothing", async () => {
    const created = await rule({ name: "welcome", trigger: { kind: "customer_created" }, steps: [{ kind: "add_tag", tag: "crm:new" }] });
    await createSegment({ shop: SHOP, name: "Spenders", query: "amount_spent >= 100" });
    const entered = await rule({ name: "spender", trigger: { kind: "segment_entered", segment: "Spenders" }, steps: [{ kind: "add_tag", tag: "crm:spender" }] });
    const tier = await rule({ name: "gold", trigger: { kind: "tier_changed", toTier: "Gold", upgradesOnly: true }, steps: [{ kind: "add_tag", tag: "crm:vip" }, { kind: "points", points: 200, reason: "Welcome to Gold" }] });
    const eve = freshCustomer();
    await deliverAndSettle("customers/create", customerPayload({ ...eve.spec, createdAt: iso(5_000), updatedAt: iso(5_000) }), { shop: SHOP });
    await placeOrder(eve, { total: "600.00" });
    // A segment created now (membership cause `created`) fires nothing, though Eve enters it.
    await createSegment({ shop: SHOP, name: "Big", query: "amount_spent >= 500" });
    const onBig = await rule({ name: "big segment", trigger: { kind: "segment_entered", segment: "Big" }, steps: [{ kind: "add_tag", tag: "crm:big-seg" }] });
    await runAutomations();
    expect((await firingsOf(created)).map((f) => [f.customerGid, f.status])).toEqual([[eve.gid, "done"]]);
    expect((await firingsOf(entered)).map((f) => [f.customerGid, f.status, f.trigger.segment])).toEqual([[eve.gid, "done", "Spenders"]]);
    expect((await firingsOf(tier)).map((f) => [f.customerGid, f.status, f.trigger.to])).toEqual([[eve.gid, "done", "Gold"]]);
    expect(await firingsOf(onBig)).toEqual([]);
    for (const id of [created, entered, tier, onBig]) await disable(id);
  });

  it("no order for N days (shop time zone), points about to expire, feedback answered: found by the runner's scans, once", async () => {
    const idle = await rule({ name: "win-back", trigger: { kind: "no_order_for", days: 90 }, steps: [{ kind: "add_tag", tag: "crm:idle" }] });
    const expiring = await rule({ name: "expiry", trigger: { kind: "points_expiring", daysBefore: 14 }, steps: [{ kind: "add_tag", tag: "crm:expiring" }] });
    const unhappy = await rule({ name: "unhappy", trigger: { kind: "feedback_answered", maxScore: 6 }, steps: [{ kind: "add_tag", tag: "crm:unhappy" }] });
    const fay = freshCustomer();
    await placeOrder(fay, { createdAgoMs: 90 * DAY });
    const gil = freshCustomer();
    await placeOrder(gil, { createdAgoMs: 16 * DAY + 60_000 });
    const hal = freshCustomer();
    await placeOrder(hal);
    await getPool().query(`INSERT INTO feedback_responses (shop, customer_gid, nps, submitted_at) VALUES ($1, $2, 3, now()), ($1, $3, 9, now())`, [SHOP, hal.gid, gil.gid]);
    await runAutomations();
    await runAutomations(); // the scan's cursor: nothing found twice
    expect((await firingsOf(idle)).map((f) => f.customerGid)).toEqual([fay.gid]);
    expect((await firingsOf(expiring)).map((f) => f.customerGid)).toEqual([gil.gid]);
    expect((await firingsOf(unhappy)).map((f) => [f.customerGid, f.status, f.trigger.score])).toEqual([[hal.gid, "done", 3]]);
    for (const id of [idle, expiring, unhappy]) await disable(id);
  });
});

describe("the schedule: leases, waits, failures, the cap", () => {
  it("a runner killed after claiming a firing: the firing waits for its lease to end, then runs once", async () => {
    const ruleId = await rule({ name: "lease", trigger: { kind: "order_placed" }, steps: [{ kind: "points", points: 7, reason: "lease" }, { kind: "webhook", url: receiverUrl }] });
    const ivy = freshCustomer();
    await placeOrder(ivy);
    const now = new Date();
    // The apply step recorded the moment; the runner turns it into a firing, then claims it.
    expect(await expandMoments({ now })).toEqual({ moments: 1, fired: 1 });
    const claimed = await claimDueFirings({ now, limit: 10, leaseMs: 60_000 });
    expect(claimed.map((f) => f.customer_gid)).toEqual([ivy.gid]);
    // The runner that claimed it dies here. Another run before the lease ends takes nothing.
    expect((await runAutomations({ now: new Date(now.getTime() + 30_000), scan: false })).claimed).toBe(0);
    expect((await runAutomations({ now: new Date(now.getTime() + 61_000), scan: false })).done).toBe(1);
    const { rows } = await getPool().query(`SELECT count(*)::int AS n FROM loyalty_ledger WHERE shop = $1 AND customer_gid = $2 AND reason = 'lease'`, [SHOP, ivy.gid]);
    expect(rows[0].n).toBe(1);
    expect(received.filter((r) => JSON.parse(r.body).customer.gid === ivy.gid)).toHaveLength(1);
    await disable(ruleId);
  });

  it("a wait survives a restart (the runner job stopped and started again) and re-checks its condition when it ends", async () => {
    const ruleId = await rule({
      name: "wait then email",
      trigger: { kind: "order_placed" },
      reentry: { mode: "once" },
      steps: [{ kind: "wait", days: 3, until: "number_of_orders = 1" }, { kind: "email", subject: "Still thinking?", body: "Hi {{first_name}}" }],
    });
    const jo = freshCustomer();
    const kim = freshCustomer();
    await placeOrder(jo);
    await placeOrder(kim);
    // The real job fires them into their wait, then the worker "restarts".
    const runner = await startAutomationRunner({ intervalMs: 500 });
    await waitUntil(async () => (await firingsOf(ruleId)).filter((f) => f.status === "waiting").length === 2, { what: "both waiting" });
    await runner.close();
    await placeOrder(kim); // Kim ordered again: her wait's condition fails (and this order's own firing is a re-entry)
    await runAutomations({ now: new Date(Date.now() + 2 * DAY), scan: false });
    expect((await firingsOf(ruleId)).map((f) => f.status)).toEqual(["waiting", "waiting", "skipped"]);
    const again = await startAutomationRunner({ intervalMs: 500 });
    await again.close();
    await runAutomations({ now: new Date(Date.now() + 3 * DAY + 60_000), scan: false });
    const firings = await firingsOf(ruleId);
    expect(firings.map((f) => [f.customerGid, f.status, f.skipReason])).toEqual([
      [jo.gid, "done", null],
      [kim.gid, "done", "wait_condition_false"],
      [kim.gid, "skipped", "reentry"],
    ]);
    const { rows } = await getPool().query(`SELECT customer_gid FROM email_outbox WHERE shop = $1 AND subject = 'Still thinking?'`, [SHOP]);
    expect(rows.map((r) => r.customer_gid)).toEqual([jo.gid]);
    await disable(ruleId);
  });

  it("Shopify refusing the discount: each attempt recorded, retried with backoff, failed after MAX_ATTEMPTS; a refusal once then success issues one code", async () => {
    const ruleId = await rule({ name: "refused", trigger: { kind: "order_placed" }, steps: [{ kind: "discount_code", discount: { kind: "fixed_amount", value: "5.00" }, email: null }] });
    const lou = freshCustomer();
    await placeOrder(lou);
    let at = Date.now();
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      proxy.refuseNextDiscount([{ field: ["basicCodeDiscount", "code"], message: "Code is invalid", code: "INVALID" }]);
      const report = await runAutomations({ now: new Date(at), scan: false });
      expect(report.claimed).toBe(1);
      at += 31 * 60_000;
    }
    expect((await runAutomations({ now: new Date(at + DAY), scan: false })).claimed).toBe(0);
    const [firing] = await firingsOf(ruleId);
    expect(firing).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS });
    expect(firing!.actions).toMatchObject([{ kind: "discount_code", status: "failed", attempts: MAX_ATTEMPTS + 1 }]);
    expect(firing!.actions[0]!.error).toContain("Code is invalid");

    const max = freshCustomer();
    await placeOrder(max);
    proxy.refuseNextDiscount([{ field: null, message: "Try again", code: null }]);
    await runAutomations({ scan: false });
    await runAutomations({ now: new Date(Date.now() + 60_000), scan: false });
    const second = (await firingsOf(ruleId)).find((f) => f.customerGid === max.gid)!;
    expect(second.status).toBe("done");
    expect(twinDiscountByCode(twin, SHOP, second.actions[0]!.detail.code as string)).toBeDefined();
    await disable(ruleId);
  });

  it("an outgoing webhook answered 503 is retried and delivered once it answers 200", async () => {
    const ruleId = await rule({ name: "hook retry", trigger: { kind: "order_placed" }, steps: [{ kind: "webhook", url: receiverUrl }] });
    const ned = freshCustomer();
    await placeOrder(ned);
    failReceiver = 1;
    expect((await runAutomations({ scan: false })).retrying).toBe(1);
    expect((await runAutomations({ now: new Date(Date.now() + 60_000), scan: false })).done).toBe(1);
    const [firing] = await firingsOf(ruleId);
    expect(firing!.actions).toMatchObject([{ kind: "webhook", status: "done", attempts: 2 }]);
    await disable(ruleId);
  });

  it("the weekly message cap per customer", async () => {
    await getPool().query(`INSERT INTO automation_settings (shop, messages_per_week) VALUES ($1, 1)`, [SHOP]);
    const a = await rule({ name: "mail a", trigger: { kind: "order_placed" }, steps: [{ kind: "email", subject: "A", body: "a" }] });
    const b = await rule({ name: "mail b", trigger: { kind: "order_placed" }, steps: [{ kind: "email", subject: "B", body: "b" }] });
    const oz = freshCustomer();
    await placeOrder(oz);
    await runAutomations({ scan: false });
    const results = [...(await firingsOf(a)), ...(await firingsOf(b))].map((f) => f.actions[0]!);
    expect(results.map((r) => r.status).sort()).toEqual(["done", "skipped"]);
    expect(results.find((r) => r.status === "skipped")!.detail.emailReason).toBe("capped");
    await getPool().query(`DELETE FROM automation_settings WHERE shop = $1`, [SHOP]);
    await disable(a);
    await disable(b);
  });
});

describe("privacy", () => {
  it("customers/redact erases the customer's firings (with their action results) and pending moments", async () => {
    const ruleId = await rule({ name: "to erase", trigger: { kind: "order_placed" }, steps: [{ kind: "add_tag", tag: "crm:erase" }] });
    const rae = freshCustomer();
    const order = await placeOrder(rae);
    await runAutomations({ scan: false });
    await placeOrder(rae); // a moment not yet met with the rules
    expect((await firingsOf(ruleId)).map((f) => f.customerGid)).toEqual([rae.gid]);
    await deliverAndSettle("customers/redact", customerRedactPayload({ shop: SHOP, customerId: rae.id, email: rae.spec.email, orderIds: [order.id] }), { shop: SHOP });
    const { rows } = await getPool().query(
      `SELECT (SELECT count(*)::int FROM automation_firings WHERE shop = $1 AND customer_gid = $2) AS firings,
              (SELECT count(*)::int FROM automation_moments WHERE shop = $1 AND customer_gid = $2) AS moments,
              (SELECT count(*)::int FROM automation_action_results a WHERE NOT EXISTS (SELECT 1 FROM automation_firings f WHERE f.id = a.firing_id)) AS orphans`,
      [SHOP, rae.gid],
    );
    expect(rows[0]).toEqual({ firings: 0, moments: 0, orphans: 0 });
    await disable(ruleId);
  });
});

describe("the CLI", () => {
  it("automations set, list, dry-run and log", async () => {
    const dir = mkdtempSync(join(tmpdir(), "automations-cli-"));
    const file = join(dir, "rule.json");
    writeFileSync(file, JSON.stringify({ name: "cli rule", enabled: true, trigger: { kind: "order_placed", minTotal: "10.00" }, steps: [{ kind: "add_tag", tag: "crm:cli" }], reentry: { mode: "every_time" } }));
    const cliEnv = childProcessEnv();
    const set = await runCli(["automations", "set", "--shop", SHOP, "--file", file], cliEnv);
    expect(set.stderr).toBe("");
    const { id } = JSON.parse(set.stdout) as { id: string };
    const pat = freshCustomer();
    await placeOrder(pat, { total: "30.00" });
    await runAutomations({ scan: false });
    const list = JSON.parse((await runCli(["automations", "list", "--shop", SHOP], cliEnv)).stdout) as { id: string; fired7d: number; enabled: boolean }[];
    expect(list.find((r) => r.id === id)).toMatchObject({ enabled: true, fired7d: 1 });
    const dry = JSON.parse((await runCli(["automations", "dry-run", "--shop", SHOP, "--rule", id, "--days", "30"], cliEnv)).stdout);
    // Every stored order of the last 30 days with a total of at least 10 and a customer.
    const { rows } = await getPool().query(`SELECT count(*)::int AS n, array_agg(DISTINCT customer_gid) AS customers FROM orders WHERE shop = $1 AND customer_gid IS NOT NULL AND total_price_minor >= 1000 AND NOT test AND cancelled_at IS NULL AND shopify_created_at > now() - interval '30 days'`, [SHOP]);
    expect(dry).toMatchObject({ wouldFire: rows[0].n });
    expect([...dry.customers].sort()).toEqual([...rows[0].customers].sort());
    const log = (await runCli(["automations", "log", "--shop", SHOP, "--customer", String(pat.id)], cliEnv)).stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(log.filter((f: { ruleId: string }) => f.ruleId === id)).toMatchObject([{ status: "done", actions: [{ kind: "add_tag", status: "done" }] }]);
    const bad = await runCli(["automations", "set", "--shop", SHOP, "--file", file.replace("rule.json", "missing.json")], cliEnv);
    expect(bad.code).toBe(2);
    writeFileSync(file, JSON.stringify({ name: "bad", trigger: { kind: "order_placed" }, steps: [{ kind: "add_tag", tag: "vip" }] }));
    const invalid = await runCli(["automations", "set", "--shop", SHOP, "--file", file], cliEnv);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('must start with "crm:"');
    await disable(id);
  }, 240_000);
});

