// Shopify Flow both ways, through the Shopify twin (decision 058).
// Out: an automation rule with a Flow trigger step fires from the pipeline (signed webhooks ->
// the real worker's apply step -> the runner) and the twin records flowTriggerReceive with the
// payload its extension declares; the twin refuses an unknown handle or a payload that does not
// fit, as Shopify does. In: the twin invokes the app's Flow action routes (served over HTTP by
// the route modules themselves) signed with the app's secret as Flow does: points land in the
// loyalty ledger once per action_run_id, a tag goes to the tag outbox once, a bad signature is 401.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ActionFunctionArgs } from "@remix-run/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { closeQueues } from "../../app/queues.server";
import { saveProgram } from "../../app/services/loyalty/program.server";
import { createSegment } from "../../app/services/segments/segments.server";
import { setRule } from "../../app/services/automations/rules.server";
import { runAutomations } from "../../app/services/automations/runner.server";
import { firingLog } from "../../app/services/automations/log.server";
import { action as awardPointsAction } from "../../app/routes/flow.actions.award-points";
import { action as addTagAction } from "../../app/routes/flow.actions.add-tag";
import { TEST_API_SECRET, useIntegrationEnv } from "../support/env";
import { customerPayload, orderPayload } from "../support/factories";
import { deliverAndSettle, startInProcessWorker } from "../support/pipeline";
import { startAdminTwin, type AdminTwin } from "../twin/admin-graphql";
import { TwinFlowActions } from "../twin/flow-actions";
import { generateStore } from "../twin/store-generator";
import { storeOfflineSession, TOKEN } from "./tag-sync.support";

const SHOP = "flow-both-ways.myshopify.com";
const DAY = 86_400_000;

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let twin: AdminTwin;
let worker: ReturnType<typeof startInProcessWorker>;
let app: Server;
let flow: TwinFlowActions;
let ids: bigint[];
let next = 0;
let nextOrder = 990_000n;
const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();

async function freshCustomer() {
  const id = ids[next++]!;
  const spec = { id, email: `f${id}@example.com`, firstName: `F${id}`, createdAt: iso(400 * DAY) };
  await deliverAndSettle("customers/create", customerPayload({ ...spec, createdAt: iso(5_000), updatedAt: iso(5_000) }), { shop: SHOP });
  return { id, gid: `gid://shopify/Customer/${id}`, spec };
}

/** The app's Flow action routes over HTTP: the route modules' actions behind a plain Node server. */
function startRoutes(): Promise<Server> {
  const routes: Record<string, (args: ActionFunctionArgs) => Promise<Response>> = { "/flow/actions/award-points": awardPointsAction, "/flow/actions/add-tag": addTagAction };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const route = routes[url.pathname];
      if (!route) return res.writeHead(404).end();
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      const request = new Request(url, { method: req.method, headers, body: req.method === "POST" ? Buffer.concat(chunks) : undefined });
      route({ request, params: {}, context: {} })
        .then(async (response) => res.writeHead(response.status, { "content-type": "application/json" }).end(await response.text()))
        .catch((error: unknown) => res.writeHead(500).end(String(error)));
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

beforeAll(async () => {
  twin = await startAdminTwin({ accessTokens: { [SHOP]: TOKEN } });
  twin.shop(SHOP).loadStore(generateStore({ seed: 58, customers: 30, shopDomain: SHOP }), { maxOrders: 0 });
  ids = twin.shop(SHOP).sortedIds("customers").map((id) => BigInt(id));
  env = await useIntegrationEnv({ SHOPIFY_TWIN_URL: twin.url });
  await storeOfflineSession(SHOP);
  await saveProgram({ shop: SHOP, settings: { earn: { pointsPerUnit: 1 }, tiers: { metric: "points_earned", window: "lifetime", levels: [{ name: "Silver", threshold: 0 }, { name: "Gold", threshold: 500 }] } }, actor: "owner", now: new Date(Date.now() - 400 * DAY) });
  worker = startInProcessWorker();
  app = await startRoutes();
  flow = new TwinFlowActions({ apiSecret: TEST_API_SECRET, appUrl: `http://127.0.0.1:${(app.address() as AddressInfo).port}` });
});

afterAll(async () => {
  await worker?.close();
  await new Promise((resolve) => app?.close(resolve));
  await twin?.close();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

describe("Flow triggers: the app -> Shopify", () => {
  it("segment entered and tier changed rules send their Flow triggers once, with the fields the extensions declare", async () => {
    await createSegment({ shop: SHOP, name: "Spenders", query: "amount_spent >= 100" });
    const entered = await setRule(SHOP, { name: "to flow: spenders", enabled: true, trigger: { kind: "segment_entered", segment: "Spenders" }, condition: null, steps: [{ kind: "flow_trigger", handle: "crm-customer-entered-segment" }] });
    const tier = await setRule(SHOP, { name: "to flow: gold", enabled: true, trigger: { kind: "tier_changed", toTier: "Gold", upgradesOnly: true }, condition: null, steps: [{ kind: "flow_trigger", handle: "crm-loyalty-tier-changed" }] });
    const eve = await freshCustomer();
    const orderId = nextOrder++;
    await deliverAndSettle("orders/create", orderPayload({ id: orderId, customer: eve.spec, totalPrice: "600.00", createdAt: iso(60_000), updatedAt: iso(59_000) }), { shop: SHOP });
    // The same order event again (a duplicate delivery) fires nothing more.
    await deliverAndSettle("orders/create", orderPayload({ id: orderId, customer: eve.spec, totalPrice: "600.00", createdAt: iso(60_000), updatedAt: iso(59_000) }), { shop: SHOP });
    await runAutomations();
    await runAutomations();
    const [tierFiring] = await firingLog({ shop: SHOP, ruleId: tier.id });
    expect(tierFiring).toMatchObject({ status: "done", customerGid: eve.gid });
    expect(tierFiring!.actions.map((a) => [a.kind, a.status])).toEqual([["flow_trigger", "done"]]);
    const [enteredFiring] = await firingLog({ shop: SHOP, ruleId: entered.id });
    expect(enteredFiring).toMatchObject({ status: "done", customerGid: eve.gid });
    const sent = twin.shop(SHOP).flowTriggers.filter((t) => t.payload.customer_id === Number(eve.id));
    expect(sent.map((t) => ({ handle: t.handle, payload: t.payload })).sort((a, b) => a.handle.localeCompare(b.handle))).toEqual([
      { handle: "crm-customer-entered-segment", payload: { customer_id: Number(eve.id), "Segment name": "Spenders" } },
      { handle: "crm-loyalty-tier-changed", payload: { customer_id: Number(eve.id), "Previous tier": (tierFiring!.trigger.from as string | null) ?? "", "New tier": "Gold" } },
    ]);
    expect(tierFiring!.actions[0]!.detail).toMatchObject({ handle: "crm-loyalty-tier-changed", payload: sent.find((t) => t.handle === "crm-loyalty-tier-changed")!.payload });
    await getPool().query(`UPDATE automation_rules SET enabled = false WHERE shop = $1`, [SHOP]);
  });

  it("Shopify refusing the trigger (extension not deployed yet): the attempt is recorded and retried; sent once it is deployed", async () => {
    const fired = await setRule(SHOP, { name: "to flow: orders", enabled: true, trigger: { kind: "order_placed" }, condition: null, reentry: { mode: "every_time" }, steps: [{ kind: "flow_trigger", handle: "crm-automation-fired" }] });
    twin.shop(SHOP).undeployedFlowTriggers.add("crm-automation-fired");
    const dee = await freshCustomer();
    await deliverAndSettle("orders/create", orderPayload({ id: nextOrder++, customer: dee.spec, totalPrice: "20.00", createdAt: iso(60_000), updatedAt: iso(59_000) }), { shop: SHOP });
    expect(await runAutomations()).toMatchObject({ retrying: 1, done: 0 });
    const [refused] = await firingLog({ shop: SHOP, ruleId: fired.id });
    expect(refused!.actions).toMatchObject([{ kind: "flow_trigger", status: "retrying", error: expect.stringContaining("Shopify refused the Flow trigger") }]);
    expect(twin.shop(SHOP).flowTriggers.filter((t) => t.payload.customer_id === Number(dee.id))).toEqual([]);
    twin.shop(SHOP).undeployedFlowTriggers.delete("crm-automation-fired");
    expect(await runAutomations({ now: new Date(Date.now() + 60 * 60_000) })).toMatchObject({ done: 1 });
    const [sent] = await firingLog({ shop: SHOP, ruleId: fired.id });
    expect(sent).toMatchObject({ status: "done" });
    expect(twin.shop(SHOP).flowTriggers.filter((t) => t.payload.customer_id === Number(dee.id)).map((t) => t.payload)).toEqual([{ customer_id: Number(dee.id), "Rule name": "to flow: orders", Moment: "order_placed" }]);
    await getPool().query(`UPDATE automation_rules SET enabled = false WHERE shop = $1`, [SHOP]);
  });

  it("a rule naming a Flow trigger that does not fit its moment is refused when it is set", async () => {
    await expect(setRule(SHOP, { name: "bad", enabled: true, trigger: { kind: "order_placed" }, condition: null, steps: [{ kind: "flow_trigger", handle: "crm-loyalty-tier-changed" }] })).rejects.toThrow(/does not fit a order_placed rule/);
    await expect(setRule(SHOP, { name: "bad", enabled: true, trigger: { kind: "order_placed" }, condition: null, steps: [{ kind: "flow_trigger", handle: "customer-first-order" }] })).rejects.toThrow(/one of the app's Flow triggers/);
  });

  it("the twin refuses an unknown handle and a payload that does not fit, in userErrors, and records nothing", async () => {
    const before = twin.shop(SHOP).flowTriggers.length;
    const send = async (handle: string, payload: unknown) => {
      const response = await fetch(`${twin.url}/admin/api/2026-07/graphql.json`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-shopify-access-token": TOKEN },
        body: JSON.stringify({ query: "mutation($h: String!, $p: JSON!) { flowTriggerReceive(handle: $h, payload: $p) { userErrors { field message } } }", variables: { h: handle, p: payload } }),
      });
      return ((await response.json()) as { data: { flowTriggerReceive: { userErrors: { field: string[]; message: string }[] } } }).data.flowTriggerReceive.userErrors;
    };
    const unknown = await send("no-such-trigger", { customer_id: 1 });
    expect(unknown).toHaveLength(1);
    expect(unknown[0]!.field).toEqual(["body"]);
    expect(unknown[0]!.message).toContain("no-such-trigger");
    const missing = await send("crm-customer-entered-segment", { customer_id: 1 });
    expect(missing[0]!.message).toContain("Segment name");
    const wrongType = await send("crm-feedback-received", { customer_id: 1, Score: "nine" });
    expect(wrongType[0]!.message).toContain("Score");
    expect(await send("crm-feedback-received", { customer_id: 1, Score: 9 })).toEqual([]);
    expect(twin.shop(SHOP).flowTriggers.length).toBe(before + 1);
  });
});

describe("Flow actions: Shopify -> the app", () => {
  const ledgerOf = async (gid: string) =>
    (await getPool().query<{ points: number; source: string; reason: string; idempotency_key: string }>(`SELECT points, source, reason, idempotency_key FROM loyalty_ledger WHERE shop = $1 AND customer_gid = $2 AND kind = 'adjust' ORDER BY id`, [SHOP, gid])).rows;

  it("award points: once per action run even when Flow sends the run twice (also concurrently); a new run awards again", async () => {
    const ana = await freshCustomer();
    const shopId = twin.shop(SHOP).shopId;
    const first = await flow.invoke({ shop: SHOP, shopId, handle: "crm-award-loyalty-points", properties: { customer_id: Number(ana.id), points: 75, reason: "Flow: reviewed a product" } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ outcome: "done", replay: false, points: 75 });
    const again = await flow.invoke({ shop: SHOP, shopId, handle: "crm-award-loyalty-points", actionRunId: first.actionRunId, properties: { customer_id: Number(ana.id), points: 75, reason: "Flow: reviewed a product" } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ outcome: "done", replay: true });
    expect(await ledgerOf(ana.gid)).toEqual([{ points: 75, source: "flow", reason: "Flow: reviewed a product", idempotency_key: `flow:${SHOP}:${first.actionRunId}` }]);
    // A run delivered twice at the same moment still acts once.
    const runId = "run-concurrent-1";
    const both = await Promise.all([0, 1].map(() => flow.invoke({ shop: SHOP, shopId, handle: "crm-award-loyalty-points", actionRunId: runId, properties: { customer_id: String(ana.id), points: 5 } })));
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    expect(both.map((r) => r.body.replay).sort()).toEqual([false, true]);
    expect((await ledgerOf(ana.gid)).map((e) => e.points)).toEqual([75, 5]);
    const { rows } = await getPool().query(`SELECT handle, customer_gid, outcome FROM flow_action_runs WHERE shop = $1 AND customer_gid = $2 ORDER BY created_at`, [SHOP, ana.gid]);
    expect(rows).toEqual([
      { handle: "crm-award-loyalty-points", customer_gid: ana.gid, outcome: "done" },
      { handle: "crm-award-loyalty-points", customer_gid: ana.gid, outcome: "done" },
    ]);
  });

  it("a bad signature is 401 and does nothing; a bad body is 400; an unknown customer 404; a deduction past zero 422", async () => {
    const bo = await freshCustomer();
    const shopId = twin.shop(SHOP).shopId;
    const forged = await flow.invoke({ shop: SHOP, shopId, handle: "crm-award-loyalty-points", properties: { customer_id: Number(bo.id), points: 1000 }, signWith: "not-the-app-secret" });
    expect(forged.status).toBe(401);
    const unsigned = await fetch(`${flow["app"].appUrl}/flow/actions/award-points`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ shopify_domain: SHOP, action_run_id: "x", properties: { customer_id: 1, points: 1 } }) });
    expect(unsigned.status).toBe(401);
    expect(await ledgerOf(bo.gid)).toEqual([]);
    const notWhole = await flow.invoke({ shop: SHOP, shopId, handle: "crm-award-loyalty-points", properties: { customer_id: Number(bo.id), points: 2.5 } });
    expect(notWhole.status).toBe(400);
    expect(JSON.stringify(notWhole.body)).toContain("points");
    const nobody = await flow.invoke({ shop: SHOP, shopId, handle: "crm-award-loyalty-points", properties: { customer_id: 1, points: 10 } });
    expect(nobody.status).toBe(404);
    const deduct = await flow.invoke({ shop: SHOP, shopId, handle: "crm-award-loyalty-points", properties: { customer_id: Number(bo.id), points: -10 } });
    expect(deduct.status).toBe(422);
    expect(await ledgerOf(bo.gid)).toEqual([]);
  });

  it("add tag: queued on the tag outbox once per run; a tag outside the app's namespace is 400", async () => {
    const cy = await freshCustomer();
    const shopId = twin.shop(SHOP).shopId;
    const run = await flow.invoke({ shop: SHOP, shopId, handle: "crm-add-customer-tag", properties: { customer_id: Number(cy.id), tag: "crm:flow-vip" } });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ outcome: "done", tag: "crm:flow-vip", queued: true });
    const again = await flow.invoke({ shop: SHOP, shopId, handle: "crm-add-customer-tag", actionRunId: run.actionRunId, properties: { customer_id: Number(cy.id), tag: "crm:flow-vip" } });
    expect(again.body).toMatchObject({ replay: true });
    const { rows } = await getPool().query(`SELECT tag, action, source FROM tag_writes WHERE shop = $1 AND customer_gid = $2`, [SHOP, cy.gid]);
    expect(rows).toEqual([{ tag: "crm:flow-vip", action: "add", source: "flow" }]);
    const outside = await flow.invoke({ shop: SHOP, shopId, handle: "crm-add-customer-tag", properties: { customer_id: Number(cy.id), tag: "vip" } });
    expect(outside.status).toBe(400);
  });
});
