// `crm segments ...` as an operator runs it (a child process): JSON on stdout, errors on
// stderr with exit code 2, positioned errors for an invalid query.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { closeQueues } from "../../app/queues.server";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { runCli } from "../support/pipeline";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let cliEnv: NodeJS.ProcessEnv;
const SHOP = "cli-segments.myshopify.com";
const OTHER = "cli-segments-other.myshopify.com";
const gid = (n: number) => `gid://shopify/Customer/${n}`;

beforeAll(async () => {
  env = await useIntegrationEnv();
  cliEnv = childProcessEnv();
  const customers: [string, number, number, string[]][] = [
    [SHOP, 1, 50_00, []],
    [SHOP, 2, 150_00, ["vip"]],
    [SHOP, 3, 250_00, []],
    [SHOP, 4, 0, []],
    [OTHER, 5, 999_00, ["vip"]],
  ];
  for (const [shop, n, spent, tags] of customers) {
    await getPool().query(
      `INSERT INTO customers (shop, gid, email, tags, total_spent_minor, orders_count, aov_minor, last_order_at)
       VALUES ($1, $2, $3, $4, $5::bigint, $6::int, $5::bigint, CASE WHEN $5::bigint > 0 THEN now() - interval '3 days' END)`,
      [shop, gid(n), `c${n}@example.com`, tags, spent, spent > 0 ? 1 : 0],
    );
  }
});

afterAll(async () => {
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const crm = (...args: string[]) => runCli(args, cliEnv);

describe("crm segments", () => {
  it("preview prints the count and every matching customer id of that shop only", async () => {
    const { code, stdout, stderr } = await crm("segments", "preview", "--shop", SHOP, "--query", "amount_spent > 100 OR customer_tags CONTAINS 'vip'");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ count: 2, customerIds: [gid(2), gid(3)] });
    const none = await crm("segments", "preview", "--shop", OTHER, "--query", "amount_spent > 10000");
    expect(JSON.parse(none.stdout)).toEqual({ count: 0, customerIds: [] });
  });

  it.concurrent.for<[string, string[], RegExp]>([
    ["unknown attribute", ["segments", "preview", "--shop", SHOP, "--query", "amount_spend > 100"], /unknown attribute `amount_spend` at 1:1, did you mean `amount_spent`\?\n {2}amount_spend > 100\n {2}\^/],
    ["type error on line 2", ["segments", "preview", "--shop", SHOP, "--query", "amount_spent > 1 AND\nlast_order_date > 5"], /`last_order_date` compares with a date, got a number at 2:19\n {2}last_order_date > 5\n {20}\^/],
    ["syntax error", ["segments", "preview", "--shop", SHOP, "--query", "amount_spent >"], /at 1:15/],
    ["empty query", ["segments", "preview", "--shop", SHOP, "--query", " "], /--query must be a segment query/],
    ["bad shop", ["segments", "list", "--shop", "nope.example.com"], /--shop must be a \*\.myshopify\.com domain/],
    ["create without --query", ["segments", "create", "--shop", SHOP, "--name", "x"], /needs --name and --query/],
    ["create with an invalid query", ["segments", "create", "--shop", SHOP, "--name", "x", "--query", "rfm_group = 'champs'"], /unknown value 'champs' for `rfm_group` at 1:13/],
    ["recompute an unknown segment", ["segments", "recompute", "--shop", SHOP, "--segment", "no such"], /segment "no such" not found/],
  ])("%s: exit 2, message on stderr, nothing on stdout", async ([, args, message], { expect }) => {
    const { code, stdout, stderr } = await crm(...args);
    expect(stdout).toBe("");
    expect(stderr).toMatch(message);
    expect(code).toBe(2);
  });

  it("create, list, recompute by name and id, and the whole shop", async () => {
    const created = await crm("segments", "create", "--shop", SHOP, "--name", "Big spenders", "--query", "amount_spent > 100", "--tag", "crm:big");
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    const { segment, membership } = JSON.parse(created.stdout);
    expect(segment).toMatchObject({ shop: SHOP, name: "Big spenders", tag: "crm:big", tagSyncEnabled: true, memberCount: 2 });
    expect(membership).toEqual({ entered: 2, exited: 0 });

    const duplicate = await crm("segments", "create", "--shop", SHOP, "--name", "Big spenders", "--query", "amount_spent > 1");
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toMatch(/already exists/);

    await crm("segments", "create", "--shop", SHOP, "--name", "Recent", "--query", "last_order_date > -7d");
    const listed = await crm("segments", "list", "--shop", SHOP);
    expect(listed.code).toBe(0);
    const list = JSON.parse(listed.stdout);
    expect(list.map((s: { name: string; memberCount: number; change7d: unknown }) => [s.name, s.memberCount, s.change7d])).toEqual([
      ["Big spenders", 2, { entered: 2, exited: 0, net: 2 }],
      ["Recent", 3, { entered: 3, exited: 0, net: 3 }],
    ]);
    expect(JSON.parse((await crm("segments", "list", "--shop", OTHER)).stdout)).toEqual([]);

    // Drift behind the segments' back, then recompute by name and by id.
    await getPool().query(`UPDATE customers SET total_spent_minor = 50000 WHERE shop = $1 AND gid = $2`, [SHOP, gid(1)]);
    const byName = await crm("segments", "recompute", "--shop", SHOP, "--segment", "Big spenders");
    expect(byName.stderr).toBe("");
    expect(JSON.parse(byName.stdout)).toMatchObject({ segmentId: segment.id, entered: 1, exited: 0, candidates: 1 });
    const byId = await crm("segments", "recompute", "--shop", SHOP, "--segment", segment.id);
    expect(JSON.parse(byId.stdout)).toMatchObject({ segmentId: segment.id, entered: 0, exited: 0 });
    // Another shop cannot address it.
    const foreign = await crm("segments", "recompute", "--shop", OTHER, "--segment", segment.id);
    expect(foreign.code).toBe(2);

    const whole = await crm("segments", "recompute", "--shop", SHOP);
    expect(whole.stderr).toBe("");
    const report = JSON.parse(whole.stdout);
    expect(report.shops).toHaveLength(1);
    expect(report.shops[0]).toMatchObject({ shop: SHOP, failed: [] });
    expect(report.shops[0].segments).toHaveLength(2);
    expect(report.shops[0].rfmCustomers).toBeGreaterThanOrEqual(4);
  }, 240_000); // nine process starts in a row
});
