// The operator CLI as an operator runs it (a child process): JSON on stdout, errors on
// stderr with exit code 2.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { closeQueues } from "../../app/queues.server";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { customerDeletePayload, customerPayload, orderPayload, refundPayload } from "../support/factories";
import { deliver, deliverAndSettle, runCli, startInProcessWorker } from "../support/pipeline";
import { TEST_SHOP } from "../support/webhooks";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let cliEnv: NodeJS.ProcessEnv;
const OTHER_SHOP = "cli-other.myshopify.com";

const ana = { id: 9007199254740993n, email: "ana.cli@example.com", firstName: "Ana", lastName: "Silva" };
const bo = { id: 1702n, email: "bo.cli@example.com", firstName: "Bo", lastName: "Lee" };
const gone = { id: 1703n, email: "gone.cli@example.com" };

beforeAll(async () => {
  env = await useIntegrationEnv();
  cliEnv = childProcessEnv();
  const worker = startInProcessWorker();
  try {
    await deliverAndSettle("customers/create", customerPayload(ana));
    await deliverAndSettle("orders/create", orderPayload({ id: 17010n, name: "#1001", customer: ana, totalPrice: "124.48", createdAt: "2026-01-14T10:21:07-05:00" }));
    await deliverAndSettle("orders/create", orderPayload({ id: 17011n, name: "#1002", customer: ana, totalPrice: "50.00", createdAt: "2026-01-20T09:00:00-05:00" }));
    await deliverAndSettle("refunds/create", refundPayload({ id: 170111n, orderId: 17011n, amount: "20.00" }));
    await deliverAndSettle("orders/create", orderPayload({ id: 17012n, name: "#1003", customer: ana, totalPrice: "9.99", test: true, createdAt: "2026-01-21T09:00:00-05:00" }));
    await deliverAndSettle(
      "orders/cancelled",
      orderPayload({ id: 17013n, name: "#1004", customer: ana, totalPrice: "30.00", createdAt: "2026-01-22T09:00:00-05:00", updatedAt: "2026-01-22T10:00:00-05:00", cancelledAt: "2026-01-22T10:00:00-05:00", financialStatus: "voided" }),
    );
    await deliverAndSettle("customers/create", customerPayload(bo));
    await deliverAndSettle("customers/create", customerPayload(gone));
    await deliverAndSettle("customers/delete", customerDeletePayload(gone.id));
    await deliverAndSettle("mystery/topic", { a: 1 });
    await deliverAndSettle("customers/create", customerPayload({ id: 1799n, email: "elsewhere@example.com" }), { shop: OTHER_SHOP });
  } finally {
    await worker.close();
  }
  // Two deliveries with no worker running: pending.
  expect((await deliver("customers/update", customerPayload({ ...bo, updatedAt: "2026-02-01T00:00:00Z" }))).status).toBe(200);
  expect((await deliver("customers/update", customerPayload({ ...ana, updatedAt: "2026-02-01T00:00:00Z" }))).status).toBe(200);
  // One dead-lettered event (as the processor leaves it after its last attempt).
  expect((await deliver("orders/updated", orderPayload({ id: 17099n, customer: bo, totalPrice: "1.00" }), { webhookId: "dead-one" })).status).toBe(200);
  await getPool().query(`UPDATE webhook_events SET status = 'dead', attempts = 8, last_error = 'Error: boom' WHERE webhook_id = 'dead-one'`);
});

afterAll(async () => {
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const crm = (...args: string[]) => runCli(args, cliEnv);

describe("crm CLI", () => {
  it("customer export: the documented shape, exact money, orders with refunds, cancellations and test flags", async () => {
    const { code, stdout, stderr } = await crm("customer", "export", "--shop", TEST_SHOP, "--customer", `gid://shopify/Customer/${ana.id}`);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const data = JSON.parse(lines[0]!);
    expect(data).toMatchObject({
      shop: TEST_SHOP,
      customer: {
        id: "gid://shopify/Customer/9007199254740993",
        email: "ana.cli@example.com",
        firstName: "Ana",
        lastName: "Silva",
        ordersCount: 2,
        totalSpent: { amount: "154.48", currencyCode: "USD" },
        firstOrderAt: "2026-01-14T15:21:07.000Z",
        lastOrderAt: "2026-01-20T14:00:00.000Z",
      },
    });
    expect(data.orders.map((o: Record<string, unknown>) => ({ id: o.id, name: o.name, createdAt: o.createdAt, totalPrice: o.totalPrice, refunded: o.refunded, cancelledAt: o.cancelledAt, financialStatus: o.financialStatus, test: o.test }))).toEqual([
      { id: "gid://shopify/Order/17010", name: "#1001", createdAt: "2026-01-14T15:21:07.000Z", totalPrice: { amount: "124.48", currencyCode: "USD" }, refunded: { amount: "0.00", currencyCode: "USD" }, cancelledAt: null, financialStatus: "paid", test: false },
      { id: "gid://shopify/Order/17011", name: "#1002", createdAt: "2026-01-20T14:00:00.000Z", totalPrice: { amount: "50.00", currencyCode: "USD" }, refunded: { amount: "20.00", currencyCode: "USD" }, cancelledAt: null, financialStatus: "paid", test: false },
      { id: "gid://shopify/Order/17012", name: "#1003", createdAt: "2026-01-21T14:00:00.000Z", totalPrice: { amount: "9.99", currencyCode: "USD" }, refunded: { amount: "0.00", currencyCode: "USD" }, cancelledAt: null, financialStatus: "paid", test: true },
      { id: "gid://shopify/Order/17013", name: "#1004", createdAt: "2026-01-22T14:00:00.000Z", totalPrice: { amount: "30.00", currencyCode: "USD" }, refunded: { amount: "0.00", currencyCode: "USD" }, cancelledAt: "2026-01-22T15:00:00.000Z", financialStatus: "voided", test: false },
    ]);
  });

  it("customer export accepts the numeric id (even above 2^53) and gives the same export", async () => {
    const [byGid, byId] = await Promise.all([
      crm("customer", "export", "--shop", TEST_SHOP, "--customer", `gid://shopify/Customer/${ana.id}`),
      crm("customer", "export", "--shop", TEST_SHOP, "--customer", String(ana.id)),
    ]);
    expect(byId.code).toBe(0);
    expect(byId.stdout).toBe(byGid.stdout);
  });

  // Concurrently: each case is a process start, mostly waiting.
  it.concurrent.for<[string, string[], RegExp]>([
    ["unknown customer", ["customer", "export", "--shop", TEST_SHOP, "--customer", "424242"], /not found/],
    ["customer of another shop", ["customer", "export", "--shop", TEST_SHOP, "--customer", "1799"], /not found/],
    ["malformed customer id", ["customer", "export", "--shop", TEST_SHOP, "--customer", "gid://shopify/Order/1"], /--customer must be/],
    ["shop that is not *.myshopify.com", ["events", "stats", "--shop", "evil.example.com"], /--shop must be a \*\.myshopify\.com domain/],
    ["missing --shop", ["customers", "export"], /--shop must be/],
    ["unknown command", ["customers", "delete", "--shop", TEST_SHOP], /unknown command "customers delete"/],
    ["unknown option", ["events", "stats", "--shop", TEST_SHOP, "--verbose"], /Unknown option '--verbose'/],
    ["bad replay status", ["events", "replay", "--shop", TEST_SHOP, "--status", "processed"], /--status must be dead, ignored or failed/],
  ])("%s: exit 2, message on stderr, nothing on stdout", async ([, args, message], { expect }) => {
    const { code, stdout, stderr } = await crm(...args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(message);
  });

  it("customer export of a customer deleted in Shopify: what the app still holds, with the deletion time", async () => {
    const { code, stdout, stderr } = await crm("customer", "export", "--shop", TEST_SHOP, "--customer", String(gone.id));
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(stdout).customer).toMatchObject({ id: `gid://shopify/Customer/${gone.id}`, email: "gone.cli@example.com", deletedInShopifyAt: expect.any(String) });
  });

  it("customers export: one JSON per line, every live customer of the shop, deleted and other shops' omitted", async () => {
    const { code, stdout, stderr } = await crm("customers", "export", "--shop", TEST_SHOP);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const exports = stdout.trim().split("\n").map((line) => JSON.parse(line));
    expect(exports.map((e) => e.customer.id).sort()).toEqual(["gid://shopify/Customer/1702", "gid://shopify/Customer/9007199254740993"]);
    expect(exports.every((e) => e.shop === TEST_SHOP)).toBe(true);
    expect(stdout).not.toContain("gone.cli@example.com");
    expect(stdout).not.toContain("elsewhere@example.com");
  });

  it("events stats: counts by outcome, for that shop only", async () => {
    const [mine, other] = await Promise.all([crm("events", "stats", "--shop", TEST_SHOP), crm("events", "stats", "--shop", OTHER_SHOP)]);
    expect(mine.code).toBe(0);
    // 9 applied, 1 unknown topic, 2 waiting for a worker, 1 dead.
    expect(JSON.parse(mine.stdout)).toEqual({ received: 13, processed: 9, pending: 2, failed: 0, dead: 1, ignored: 1 });
    expect(JSON.parse(other.stdout)).toEqual({ received: 1, processed: 1, pending: 0, failed: 0, dead: 0, ignored: 0 });
  });

  it("help prints the usage with exit 0", async () => {
    const { code, stdout } = await crm("--help");
    expect(code).toBe(0);
    expect(stdout).toContain("customer export --shop");
  });
});
