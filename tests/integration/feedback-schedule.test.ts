// Feedback rules through the CLI, and requests scheduled by the real pipeline: signed order
// webhooks -> ingress -> worker apply step -> feedback_requests rows (one per rule and order).
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { closeQueues } from "../../app/queues.server";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { orderPayload } from "../support/factories";
import { deliverAndSettle, runCli, startInProcessWorker } from "../support/pipeline";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let cliEnv: NodeJS.ProcessEnv;
const SHOP = "feedback-schedule.myshopify.com";
const OTHER = "feedback-schedule-other.myshopify.com";
const ana = { id: 7101n, email: "ana.fb@example.com", firstName: "Ana" };
const DAY = 86_400_000;

const crm = (...args: string[]) => runCli(args, cliEnv);

async function rulesFile(name: string, content: unknown): Promise<string> {
  const file = path.join(tmpdir(), `feedback-${process.pid}-${name}.json`);
  await writeFile(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

async function requests(shop: string) {
  const { rows } = await getPool().query<{ rule: string; order_gid: string; status: string; triggered_at: Date; send_at: Date; customer_gid: string | null }>(
    `SELECT fr.name AS rule, r.order_gid, r.status, r.triggered_at, r.send_at, r.customer_gid
       FROM feedback_requests r JOIN feedback_rules fr ON fr.id = r.rule_id WHERE r.shop = $1 ORDER BY r.order_gid, fr.name`,
    [shop],
  );
  return rows;
}

const RULES = {
  settings: { tagNegative: true },
  rules: [
    { name: "after payment", trigger: "order_paid", delayDays: 7, reminders: { count: 2, spacingDays: 4 } },
    { name: "after fulfillment", trigger: "order_fulfilled", delayDays: 0 },
  ],
};

beforeAll(async () => {
  env = await useIntegrationEnv();
  cliEnv = childProcessEnv();
});

afterAll(async () => {
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

describe("crm feedback rules", () => {
  it("set stores the rules with their defaults and list prints them back", async () => {
    const set = await crm("feedback", "rules", "set", "--shop", SHOP, "--file", await rulesFile("rules", RULES));
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ created: 2, updated: 0, removed: 0, settings: { tagNegative: true, staffAlert: false } });
    const list = await crm("feedback", "rules", "list", "--shop", SHOP);
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.stdout);
    expect(listed.settings).toEqual({ tagNegative: true, staffAlert: false });
    expect(listed.rules.map((r: { name: string; trigger: string; delayDays: number; reminders: unknown; linkExpiryDays: number }) => [r.name, r.trigger, r.delayDays, r.reminders, r.linkExpiryDays])).toEqual([
      ["after payment", "order_paid", 7, { count: 2, spacingDays: 4 }, 180],
      ["after fulfillment", "order_fulfilled", 0, { count: 0, spacingDays: 3 }, 180],
    ]);
    // Another shop has its own (empty) rules.
    expect(JSON.parse((await crm("feedback", "rules", "list", "--shop", OTHER)).stdout)).toEqual({ settings: { tagNegative: false, staffAlert: false }, rules: [] });
  });

  it.each([
    ["a rule with a 61-day delay", { rules: [{ name: "x", trigger: "order_paid", delayDays: 61 }] }, "rules.0.delayDays: delayDays must be between 0 and 60 days"],
    ["a bad segment", { rules: [{ name: "x", trigger: "order_paid", delayDays: 1, orders: { segment: "amount_spent >" } }] }, "rules.0.orders.segment"],
    ["text that is not JSON", "{ rules: ", "is not JSON"],
  ])("set refuses %s with exit 2 and keeps the stored rules", async (label, content, message) => {
    const result = await crm("feedback", "rules", "set", "--shop", SHOP, "--file", await rulesFile(label.replace(/\W+/g, "-"), content));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(message);
    const listed = JSON.parse((await crm("feedback", "rules", "list", "--shop", SHOP)).stdout);
    expect(listed.rules.map((r: { name: string }) => r.name)).toEqual(["after payment", "after fulfillment"]);
  });

  it.each([
    [["feedback", "rules", "set", "--shop", SHOP], "--file must name a rules JSON file"],
    [["feedback", "rules", "set", "--shop", SHOP, "--file", "/nonexistent/rules.json"], "cannot read --file"],
    [["feedback", "stats", "--shop", "nope"], "--shop must be a *.myshopify.com domain"],
    [["feedback", "requests", "--shop", SHOP, "--customer", "abc"], "--customer must be a customer gid or numeric id"],
  ])("%j fails with exit 2: %s", async (args, message) => {
    const result = await crm(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(message);
  });
});

describe("scheduling in the worker's apply step", () => {
  it("a paid order schedules the order_paid rule once; its fulfillment schedules the other rule; test, cancelled and other shops' orders none", async () => {
    const worker = startInProcessWorker();
    try {
      const paidAt = "2026-11-02T10:00:00Z";
      await deliverAndSettle("orders/paid", orderPayload({ id: 71001n, customer: ana, totalPrice: "40.00", updatedAt: paidAt }), { shop: SHOP, triggeredAt: paidAt });
      // The same event again, and a later update of the order: still one request per rule and order.
      await deliverAndSettle("orders/paid", orderPayload({ id: 71001n, customer: ana, totalPrice: "40.00", updatedAt: paidAt }), { shop: SHOP, triggeredAt: paidAt });
      await deliverAndSettle("orders/updated", orderPayload({ id: 71001n, customer: ana, totalPrice: "40.00", updatedAt: "2026-11-02T11:00:00Z" }), { shop: SHOP });
      await deliverAndSettle("orders/paid", orderPayload({ id: 71002n, customer: ana, totalPrice: "40.00", test: true }), { shop: SHOP });
      await deliverAndSettle("orders/cancelled", orderPayload({ id: 71003n, customer: ana, totalPrice: "40.00", cancelledAt: "2026-11-02T10:00:00Z" }), { shop: SHOP });
      await deliverAndSettle("orders/create", orderPayload({ id: 71004n, customer: ana, totalPrice: "40.00", financialStatus: "pending" }), { shop: SHOP });
      await deliverAndSettle("orders/paid", orderPayload({ id: 71005n, customer: ana, totalPrice: "40.00" }), { shop: OTHER });
      const fulfilled = { ...orderPayload({ id: 71001n, customer: ana, totalPrice: "40.00", updatedAt: "2026-11-05T09:00:00Z" }), fulfillment_status: "fulfilled" };
      await deliverAndSettle("orders/fulfilled", fulfilled, { shop: SHOP, triggeredAt: "2026-11-05T09:00:00Z" });
    } finally {
      await worker.close();
    }
    const rows = await requests(SHOP);
    expect(rows.map((r) => [r.rule, r.order_gid, r.status, r.customer_gid])).toEqual([
      ["after fulfillment", "gid://shopify/Order/71001", "scheduled", "gid://shopify/Customer/7101"],
      ["after payment", "gid://shopify/Order/71001", "scheduled", "gid://shopify/Customer/7101"],
    ]);
    const paid = rows.find((r) => r.rule === "after payment")!;
    expect(paid.triggered_at.toISOString()).toBe("2026-11-02T10:00:00.000Z");
    expect(paid.send_at.getTime() - paid.triggered_at.getTime()).toBe(7 * DAY);
    const ful = rows.find((r) => r.rule === "after fulfillment")!;
    expect(ful.send_at.toISOString()).toBe("2026-11-05T09:00:00.000Z");
    expect(await requests(OTHER)).toEqual([]);

    const listed = await crm("feedback", "requests", "--shop", SHOP, "--customer", "7101");
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).map((r: { rule: string; status: string; skipReason: null }) => [r.rule, r.status, r.skipReason])).toEqual([
      ["after payment", "scheduled", null],
      ["after fulfillment", "scheduled", null],
    ]);
    const stats = await crm("feedback", "stats", "--shop", SHOP);
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toEqual({ requested: 2, sent: 0, answered: 0, nps: null, promoters: 0, passives: 0, detractors: 0, averageRating: null, openCases: 0 });
  });

  it("changing a rule moves the send time of requests not yet sent; a removed rule stays listed on its requests", async () => {
    const changed = { ...RULES, rules: [{ ...RULES.rules[0], delayDays: 14 }] };
    const set = await crm("feedback", "rules", "set", "--shop", SHOP, "--file", await rulesFile("changed", changed));
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ created: 0, updated: 1, removed: 1, rescheduled: 1 });
    const paid = (await requests(SHOP)).find((r) => r.rule === "after payment")!;
    expect(paid.send_at.getTime() - paid.triggered_at.getTime()).toBe(14 * DAY);
    const listed = JSON.parse((await crm("feedback", "rules", "list", "--shop", SHOP)).stdout);
    expect(listed.rules.map((r: { name: string }) => r.name)).toEqual(["after payment"]);
  });
});
