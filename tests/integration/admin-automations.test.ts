// The Automations admin pages' service on a real database, seeded through the real webhook
// pipeline (tests/support/automations-seed.ts): a rule made from a shipped template and saved
// through the editor's form (the same schema as `crm automations set`), problems answered by
// field path with nothing stored, a name clash refused, a rename keeping the rule, the on/off
// switch, the list's 7-day and failure counts, the dry run checked against hand-written SQL,
// and the firing log's filters (rule, status, customer) and keyset pages. The browser flow is
// tests/e2e/automations-ui.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import {
  FIRING_LOG_PAGE_SIZE,
  dryRunForAdmin,
  getAutomationsList,
  getFiringLog,
  getNewRuleEditor,
  getRuleEditor,
  parseFiringLogFilters,
  saveRuleForm,
  setRuleEnabled,
} from "../../app/services/admin-automations.server";
import { listRules } from "../../app/services/automations/rules.server";
import { closeQueues } from "../../app/queues.server";
import { useIntegrationEnv } from "../support/env";
import { startInProcessWorker } from "../support/pipeline";
import { AUTOMATION_SEED, seedAutomationStore } from "../support/automations-seed";

const SHOP = "admin-automations-a.myshopify.com";
const OTHER = "admin-automations-b.myshopify.com";
const NOW = new Date();
const DAY = 86_400_000;

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let worker: ReturnType<typeof startInProcessWorker>;

beforeAll(async () => {
  env = await useIntegrationEnv();
  worker = startInProcessWorker();
  await seedAutomationStore(SHOP, NOW);
}, 120_000);

afterAll(async () => {
  await worker?.close();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const form = (rule: unknown) => ({ rule: JSON.stringify(rule) });

describe("rule editor", () => {
  let ruleId: string;

  it("a template opens switched off; saving it stores the rule; the editor reloads it", async () => {
    const view = await getNewRuleEditor({ shop: SHOP, template: "thank-you-first-order" });
    expect(view.id).toBeNull();
    expect(view.draft).toMatchObject({ name: "Thank-you code after the first order", enabled: false, trigger: { kind: "order_placed", nthOrder: 1 }, reentry: { mode: "once" } });
    const saved = await saveRuleForm({ shop: SHOP, id: null, fields: form(view.draft) });
    expect(saved.status).toBe(200);
    if (!saved.result.ok) throw new Error(JSON.stringify(saved.result.errors));
    ruleId = saved.result.id;
    const stored = await listRules(SHOP);
    expect(stored.map((r) => [r.id, r.name, r.enabled, r.rule.trigger.kind])).toEqual([[ruleId, "Thank-you code after the first order", false, "order_placed"]]);
    const reopened = await getRuleEditor({ shop: SHOP, id: ruleId });
    expect(reopened?.draft.steps[0]).toMatchObject({ kind: "discount_code", discount: { kind: "percentage", value: 10, validityDays: 30 } });
    expect(await getRuleEditor({ shop: OTHER, id: ruleId })).toBeNull();
    expect(await getRuleEditor({ shop: SHOP, id: "x'; drop" })).toBeNull();
  });

  it("problems come back by field path and nothing is stored", async () => {
    const bad = {
      name: "",
      enabled: false,
      trigger: { kind: "no_order_for", days: 0 },
      condition: "amount_spend > 5",
      steps: [{ kind: "add_tag", tag: "vip" }, { kind: "wait", days: 0, minutes: 0, until: null }],
      reentry: { mode: "once_per", days: 30 },
    };
    const saved = await saveRuleForm({ shop: SHOP, id: null, fields: form(bad) });
    expect(saved.status).toBe(422);
    if (saved.result.ok) throw new Error("saved an invalid rule");
    expect(Object.keys(saved.result.errors).sort()).toEqual(["condition", "name", "steps.0.tag", "steps.1", "trigger.days"]);
    expect(saved.result.errors["steps.0.tag"]).toContain('must start with "crm:"');
    expect(saved.result.errors.condition).toContain("amount_spend");
    expect(saved.result.errors["trigger.days"]).toBe("days must be at least 1");
    expect(await saveRuleForm({ shop: SHOP, id: null, fields: { rule: "{not json" } })).toMatchObject({ status: 400 });
    expect((await listRules(SHOP)).length).toBe(1);
  });

  it("a new rule may not take another's name; a rename keeps the rule's id and raises its version", async () => {
    const view = await getNewRuleEditor({ shop: SHOP, template: "thank-you-first-order" });
    const clash = await saveRuleForm({ shop: SHOP, id: null, fields: form(view.draft) });
    expect(clash).toMatchObject({ status: 422, result: { ok: false, errors: { name: "Another rule has this name" } } });
    const before = await getRuleEditor({ shop: SHOP, id: ruleId });
    const renamed = await saveRuleForm({ shop: SHOP, id: ruleId, fields: form({ ...before!.draft, name: "First order thanks" }) });
    expect(renamed).toMatchObject({ status: 200, result: { ok: true, id: ruleId } });
    const after = await getRuleEditor({ shop: SHOP, id: ruleId });
    expect(after?.draft.name).toBe("First order thanks");
    expect(after?.version).toBe(before!.version! + 1);
    expect((await listRules(SHOP)).map((r) => r.name)).toEqual(["First order thanks"]);
    expect(await saveRuleForm({ shop: OTHER, id: ruleId, fields: form(after!.draft) })).toMatchObject({ status: 404 });
  });

  it("the dry run counts first orders in the last 30 days, as hand-written SQL does, with names", async () => {
    const dry = await dryRunForAdmin({ shop: SHOP, id: ruleId, now: NOW });
    const { rows } = await getPool().query<{ gid: string }>(
      `SELECT customer_gid AS gid FROM orders o WHERE shop = $1 AND shopify_created_at > $2
          AND NOT EXISTS (SELECT 1 FROM orders p WHERE p.shop = o.shop AND p.customer_gid = o.customer_gid AND p.shopify_created_at < o.shopify_created_at)`,
      [SHOP, new Date(NOW.getTime() - 30 * DAY)],
    );
    expect(rows.length).toBe(AUTOMATION_SEED.customers.length);
    expect(dry?.wouldFire).toBe(rows.length);
    expect(dry?.customers.map((c) => c.name).sort()).toEqual(AUTOMATION_SEED.customers.map((c) => `${c.firstName} ${c.lastName}`).sort());
    expect(dry?.customers.map((c) => c.id).sort()).toEqual(AUTOMATION_SEED.customers.map((c) => String(c.id)).sort());
    expect(await dryRunForAdmin({ shop: OTHER, id: ruleId })).toBeNull();
  });

  it("switching on and off; the list shows it with 7-day firings and failures", async () => {
    expect(await setRuleEnabled({ shop: SHOP, id: ruleId, enabled: true })).toEqual({ name: "First order thanks" });
    expect(await setRuleEnabled({ shop: OTHER, id: ruleId, enabled: false })).toBeNull();
    const [stored] = await listRules(SHOP);
    expect(stored!.enabled).toBe(true);
    expect(stored!.rule.enabled).toBe(true);
    await insertFirings(ruleId);
    const list = await getAutomationsList({ shop: SHOP, now: NOW });
    // 30 firings: 3 skipped, 2 failed, one done 10 days ago; fired in 7 days = not skipped and recent.
    expect(list.rules).toEqual([expect.objectContaining({ id: ruleId, name: "First order thanks", trigger: "Order placed", enabled: true, fired7d: 26, failed: 2 })]);
    expect(list.templates.map((t) => t.key)).toEqual(["thank-you-first-order", "win-back-at-risk", "vip-on-tier", "points-expiry-reminder"]);
    expect((await getAutomationsList({ shop: OTHER })).rules).toEqual([]);
  });

  it("the firing log: newest first, keyset pages, filters by rule, status and customer (id or gid)", async () => {
    const log = (search: Record<string, string>, shop = SHOP) => getFiringLog({ shop, filters: parseFiringLogFilters(new URLSearchParams(search)) });
    const first = await log({});
    expect(first.rows.length).toBe(FIRING_LOG_PAGE_SIZE);
    const ids = first.rows.map((r) => BigInt(r.id));
    expect([...ids].sort((a, b) => (b > a ? 1 : -1))).toEqual(ids);
    expect(first.olderCursor).toBe(first.rows.at(-1)!.id);
    const second = await log({ before: first.olderCursor! });
    expect(second.rows.length).toBe(30 - FIRING_LOG_PAGE_SIZE);
    expect(second.olderCursor).toBeNull();
    expect(new Set([...first.rows, ...second.rows].map((r) => r.id)).size).toBe(30);

    const failed = await log({ status: "failed" });
    expect(failed.rows.map((r) => r.status)).toEqual(["failed", "failed"]);
    expect(failed.rows[0]!.actions).toEqual([{ step: 0, kind: "discount_code", status: "failed", error: "Shopify refused the code" }]);
    const ada = AUTOMATION_SEED.customers[0]!;
    const byId = await log({ customer: String(ada.id) });
    const byGid = await log({ customer: `gid://shopify/Customer/${ada.id}` });
    expect(byId.rows.length).toBeGreaterThan(0);
    expect(byId.rows.every((r) => r.customerName === "Ada First" && r.customerId === String(ada.id))).toBe(true);
    expect(byGid.rows.map((r) => r.id)).toEqual(byId.rows.map((r) => r.id));
    expect((await log({ rule: "999999" })).rows).toEqual([]);
    expect((await log({ rule: ruleId, status: "bogus" })).filters.status).toBeNull();
    expect((await log({}, OTHER)).rows).toEqual([]);
  });
});

/** 30 firings of the rule over the seeded customers: 24 done recently, 3 skipped, 2 failed, 1 done 10 days ago. */
async function insertFirings(ruleId: string) {
  const customers = AUTOMATION_SEED.customers;
  for (let i = 0; i < 30; i += 1) {
    const status = i < 3 ? "skipped" : i < 5 ? "failed" : "done";
    const createdAt = new Date(NOW.getTime() - (i === 29 ? 10 * DAY : (i + 1) * 60_000));
    const c = customers[i % customers.length]!;
    const { rows } = await getPool().query<{ id: string }>(
      `INSERT INTO automation_firings (shop, rule_id, rule_version, customer_gid, event_key, trigger, occurred_at, status, skip_reason, condition_result, due_at, created_at, last_error)
       VALUES ($1, $2, 1, $3, $4, '{}'::jsonb, $5, $6, $7, $8, $5, $5, $9) RETURNING id::text AS id`,
      [SHOP, ruleId, `gid://shopify/Customer/${c.id}`, `test:${i}`, createdAt, status, status === "skipped" ? "reentry" : null, status === "skipped" ? null : true, status === "failed" ? "gave up after 5 attempts" : null],
    );
    if (status === "failed")
      await getPool().query(`INSERT INTO automation_action_results (firing_id, step, kind, status, attempts, error) VALUES ($1, 0, 'discount_code', 'failed', 5, 'Shopify refused the code')`, [rows[0]!.id]);
  }
}
