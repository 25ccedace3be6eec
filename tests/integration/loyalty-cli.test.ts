// `crm loyalty balance|ledger` as an operator runs them (a child process): JSON on stdout,
// errors on stderr with exit code 2. The CLI reads the real clock, so the orders are placed
// relative to it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, withTransaction } from "../../app/db.server";
import { applyLoyaltyForOrders } from "../../app/services/loyalty/apply-orders.server";
import { saveProgram } from "../../app/services/loyalty/program.server";
import { closeQueues } from "../../app/queues.server";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { customerPayload, orderPayload } from "../support/factories";
import { deliverAndSettle, runCli, startInProcessWorker } from "../support/pipeline";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let cliEnv: NodeJS.ProcessEnv;
const SHOP = "loyalty-cli.myshopify.com";
const NO_PROGRAM_SHOP = "loyalty-cli-none.myshopify.com";
const lu = { id: 6101n, email: "lu.cli@example.com" };
const mo = { id: 6102n, email: "mo.cli@example.com" };
const DAY = 24 * 60 * 60 * 1000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY);

beforeAll(async () => {
  env = await useIntegrationEnv();
  cliEnv = childProcessEnv();
  await saveProgram({
    shop: SHOP,
    settings: { earn: { pointsPerUnit: 1 }, pendingDays: 14, tiers: { metric: "points_earned", window: "lifetime", levels: [{ name: "Member", threshold: 0 }, { name: "Gold", threshold: 1000 }] } },
    actor: "owner",
    now: daysAgo(60),
  });
  const worker = startInProcessWorker();
  try {
    await deliverAndSettle("orders/create", orderPayload({ id: 61001n, customer: lu, totalPrice: "100.00", createdAt: daysAgo(30).toISOString() }), { shop: SHOP });
    await deliverAndSettle("orders/create", orderPayload({ id: 61002n, customer: lu, totalPrice: "50.00", createdAt: daysAgo(1).toISOString() }), { shop: SHOP });
    await deliverAndSettle("customers/create", customerPayload(mo), { shop: SHOP });
    await deliverAndSettle("customers/create", customerPayload(mo), { shop: NO_PROGRAM_SHOP });
  } finally {
    await worker.close();
  }
  await withTransaction((db) => applyLoyaltyForOrders(db, SHOP, ["gid://shopify/Order/61001", "gid://shopify/Order/61002"]));
});

afterAll(async () => {
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const crm = (...args: string[]) => runCli(args, cliEnv);

describe("crm loyalty", () => {
  it("balance prints { balance, pending, tier } on one line", async () => {
    const { code, stdout, stderr } = await crm("loyalty", "balance", "--shop", SHOP, "--customer", "gid://shopify/Customer/6101");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toBe(`{"balance":100,"pending":50,"tier":"Member"}\n`);
  });

  it("balance of a customer with no points, by numeric id", async () => {
    const { code, stdout } = await crm("loyalty", "balance", "--shop", SHOP, "--customer", "6102");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ balance: 0, pending: 0, tier: null });
  });

  it("ledger prints the rows, one JSON object per line, oldest first", async () => {
    const { code, stdout, stderr } = await crm("loyalty", "ledger", "--shop", SHOP, "--customer", "gid://shopify/Customer/6101");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const rows = stdout.trim().split("\n").map((line) => JSON.parse(line));
    expect(rows.map((r) => [r.kind, r.points, r.status, r.idempotencyKey, r.orderGid])).toEqual([
      ["earn", 100, "available", "earn:gid://shopify/Order/61001", "gid://shopify/Order/61001"],
      ["earn", 50, "pending", "earn:gid://shopify/Order/61002", "gid://shopify/Order/61002"],
    ]);
    expect(rows[0]).toMatchObject({ reason: "Order #61001", source: "gid://shopify/Order/61001", rule: { programVersion: 1, pointsPerUnit: 1, basisMinor: "10000" } });
    expect(Object.keys(rows[0]).sort()).toEqual(["availableAt", "createdAt", "id", "idempotencyKey", "kind", "occurredAt", "orderGid", "points", "reason", "rule", "source", "status"]);
  });

  it.each([
    [["loyalty", "balance", "--shop", SHOP, "--customer", "gid://shopify/Customer/999"], "customer gid://shopify/Customer/999 not found in loyalty-cli.myshopify.com"],
    [["loyalty", "ledger", "--shop", NO_PROGRAM_SHOP, "--customer", "6102"], "loyalty-cli-none.myshopify.com has no loyalty program"],
    [["loyalty", "balance", "--shop", SHOP], "--customer must be a customer gid or numeric id"],
    [["loyalty", "balance", "--shop", "not a shop", "--customer", "6101"], "--shop must be a *.myshopify.com domain"],
    [["loyalty", "points", "--shop", SHOP], 'unknown command "loyalty points"'],
  ])("%j fails with exit code 2: %s", async (args, message) => {
    const { code, stdout, stderr } = await crm(...args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(message);
  });
});
