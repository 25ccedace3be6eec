// `crm analytics overview|cohorts` on a small hand-built store in New York time (UTC-5 in
// winter): every figure below is worked out by hand from the orders listed here. The time
// zone matters on purpose: an order at 23:30 local on the range's last day is 04:30 UTC the
// next day, and one at 23:30 local on 31 December is already 1 January in UTC.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { closeQueues } from "../../app/queues.server";
import { refreshOrdersRefunds } from "../../app/services/crm-batch-store.server";
import { getCohorts, getOverview } from "../../app/services/analytics/reports.server";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { runCli } from "../support/pipeline";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let cliEnv: NodeJS.ProcessEnv;
const SHOP = "analytics-reports.myshopify.com";
const UTC_SHOP = "analytics-reports-utc.myshopify.com"; // no stored time zone
const customer = (n: number) => `gid://shopify/Customer/${n}`;

type Seed = { id: number; customer: number | null; at: string; total: number; refunds?: number[]; test?: boolean; cancelled?: boolean };

// `at` is local New York time (EST, UTC-5) for SHOP. Totals in cents.
const ORDERS: Seed[] = [
  { id: 1, customer: 1, at: "2025-12-10T10:00:00-05:00", total: 100_00 },       // A first order (December cohort)
  { id: 2, customer: 1, at: "2026-01-05T12:00:00-05:00", total: 50_00, refunds: [6_00, 4_00] }, // A second: net 40.00, 26 days later
  { id: 3, customer: 2, at: "2026-01-10T09:00:00-05:00", total: 80_00 },        // B first (new)
  { id: 4, customer: 2, at: "2026-01-31T23:30:00-05:00", total: 40_00 },        // B second at 23:30 on the last day: inside, 21 days
  { id: 5, customer: 3, at: "2026-01-20T08:00:00-05:00", total: 30_00 },        // C first (new)
  { id: 6, customer: 3, at: "2026-02-01T00:30:00-05:00", total: 15_00 },        // C second: after the range
  { id: 7, customer: 4, at: "2025-12-31T23:30:00-05:00", total: 10_00 },        // D first: still December locally
  { id: 8, customer: 4, at: "2026-01-15T10:00:00-05:00", total: 20_00 },        // D second: returning, 15 days
  { id: 9, customer: 5, at: "2026-01-12T10:00:00-05:00", total: 999_00, test: true },      // not counted
  { id: 10, customer: 5, at: "2026-01-13T10:00:00-05:00", total: 500_00, cancelled: true }, // not counted
  { id: 11, customer: null, at: "2026-01-25T10:00:00-05:00", total: 25_00 },    // guest: an order, no customer
  { id: 12, customer: 6, at: "2026-01-03T10:00:00-05:00", total: 60_00, refunds: [60_00] }, // F: fully refunded, net 0
];

async function seed(shop: string, timeZone: string | null) {
  const db = getPool();
  await db.query(`INSERT INTO shops (domain, "currencyCode", "ianaTimezone") VALUES ($1, 'USD', $2)`, [shop, timeZone]);
  for (const o of ORDERS) {
    await db.query(
      `INSERT INTO orders (shop, gid, legacy_id, customer_gid, currency, total_price_minor, test, cancelled_at, shopify_created_at, shopify_updated_at)
       VALUES ($1, $2, $3, $4, 'USD', $5, $6, CASE WHEN $7::boolean THEN $8::timestamptz END, $8, $8)`,
      [shop, `gid://shopify/Order/${o.id}`, String(o.id), o.customer === null ? null : customer(o.customer), o.total, o.test ?? false, o.cancelled ?? false, o.at],
    );
    for (const [i, amount] of (o.refunds ?? []).entries()) {
      await db.query(
        `INSERT INTO refunds (shop, gid, legacy_id, order_legacy_id, amount_minor, currency, refunded_at) VALUES ($1, $2, $3, $4, $5, 'USD', $6)`,
        [shop, `gid://shopify/Refund/${o.id}${i}`, `${o.id}${i}`, String(o.id), amount, o.at],
      );
    }
    // The refunded total comes from the refund rows the way the worker sets it.
    await refreshOrdersRefunds(db, shop, [String(o.id)]);
  }
}

beforeAll(async () => {
  env = await useIntegrationEnv();
  cliEnv = childProcessEnv();
  await seed(SHOP, "America/New_York");
  await seed(UTC_SHOP, null);
});

afterAll(async () => {
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const crm = (...args: string[]) => runCli(args, cliEnv);

// January in New York: counted orders 2 (40.00), 3 (80), 4 (40), 5 (30), 8 (20), 11 (25), 12 (0)
// = 7 orders, 235.00; AOV 23500 / 7 = 3357.14 -> 33.57. Customers A B C D F = 5: new B C F,
// returning A D; two orders by 31 January 23:59 local: A B D = 3 / 5; days to the second
// order inside January: A 26, B 21, D 15 -> median 21.
const JANUARY = {
  from: "2026-01-01", to: "2026-01-31",
  revenue: "235.00", revenueMinor: "23500", orders: 7, aov: "33.57", aovMinor: "3357",
  customers: 5, newCustomers: 3, returningCustomers: 2, repeatPurchaseRate: 0.6, medianDaysToSecondOrder: 21,
};
// December in New York: orders 1 (100) and 7 (10, 23:30 on the 31st) = 2 orders, 110.00, AOV
// 55.00; A and D both new; nobody has a second order by 31 December -> rate 0, median null.
const DECEMBER = {
  from: "2025-12-01", to: "2025-12-31",
  revenue: "110.00", revenueMinor: "11000", orders: 2, aov: "55.00", aovMinor: "5500",
  customers: 2, newCustomers: 2, returningCustomers: 0, repeatPurchaseRate: 0, medianDaysToSecondOrder: null,
};

describe("crm analytics overview", () => {
  it("prints January's figures in the shop's zone, with December as the comparison", async () => {
    const { code, stdout, stderr } = await crm("analytics", "overview", "--shop", SHOP, "--from", "2026-01-01", "--to", "2026-01-31", "--compare-from", "2025-12-01", "--compare-to", "2025-12-31");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ shop: SHOP, timeZone: "America/New_York", currency: "USD", ...JANUARY, comparison: DECEMBER });
  });

  it("reads the days in UTC when the shop has no time zone", async () => {
    // In UTC order 4 (04:30 on 1 February) leaves January and order 7 (04:30 on 1 January)
    // enters it: orders 2 3 5 7 8 11 12 = 7 orders, 40+80+30+10+20+25+0 = 205.00, AOV 29.29
    // (20500 / 7 = 2928.57). Customers A B C D F: D's first order is now in January, so new
    // B C D F, returning A; two orders by the end: A D = 2 / 5; second orders inside January:
    // A (Dec 10 -> Jan 5 = 26 days) and D (Jan 1 -> Jan 15 = 14 days) -> median 20.
    const overview = await getOverview({ shop: UTC_SHOP, from: "2026-01-01", to: "2026-01-31" });
    expect(overview).toEqual({
      shop: UTC_SHOP, timeZone: "UTC", currency: "USD", from: "2026-01-01", to: "2026-01-31",
      revenue: "205.00", revenueMinor: "20500", orders: 7, aov: "29.29", aovMinor: "2929",
      customers: 5, newCustomers: 4, returningCustomers: 1, repeatPurchaseRate: 0.4, medianDaysToSecondOrder: 20,
    });
  });

  it("an empty range prints zeros, not an error", async () => {
    const overview = await getOverview({ shop: SHOP, from: "2024-01-01", to: "2024-01-31" });
    expect(overview).toMatchObject({ revenue: "0.00", orders: 0, aov: "0.00", customers: 0, newCustomers: 0, repeatPurchaseRate: 0, medianDaysToSecondOrder: null });
  });

  it.concurrent.for<[string, string[], RegExp]>([
    ["missing --to", ["--from", "2026-01-01"], /--to must be a date YYYY-MM-DD/],
    ["not a day", ["--from", "2026-02-30", "--to", "2026-03-01"], /--from must be a date YYYY-MM-DD/],
    ["reversed range", ["--from", "2026-02-01", "--to", "2026-01-01"], /--from must not be after --to/],
    ["half a comparison", ["--from", "2026-01-01", "--to", "2026-01-31", "--compare-from", "2025-12-01"], /--compare-from and --compare-to go together/],
  ])("%s: exit 2, message on stderr", async ([, args, message], { expect }) => {
    const { code, stdout, stderr } = await crm("analytics", "overview", "--shop", SHOP, ...args);
    expect(stdout).toBe("");
    expect(stderr).toMatch(message);
    expect(code).toBe(2);
  });
});

// Cohorts in New York: December = A and D (D's first order at 23:30 on the 31st), 110.00 in
// month 0; both order again in January (40 + 20 = 60.00). January = B, C, F, 80+40+30+0 =
// 150.00 in month 0 (B's second order at 23:30 on 31 January stays in month 0); C orders
// again in February (15.00).
describe("crm analytics cohorts", () => {
  it("builds the grid up to the current month in the shop's zone", async () => {
    const rows = await getCohorts({ shop: SHOP, now: new Date("2026-03-15T12:00:00Z") });
    expect(rows).toEqual([
      {
        cohort: "2025-12", size: 2, currency: "USD", customers: [2, 2, 0, 0], retention: [1, 1, 0, 0],
        cumulativeRevenueMinor: ["11000", "17000", "17000", "17000"], revenuePerCustomer: ["55.00", "85.00", "85.00", "85.00"],
      },
      {
        cohort: "2026-01", size: 3, currency: "USD", customers: [3, 1, 0], retention: [1, 0.3333, 0],
        cumulativeRevenueMinor: ["15000", "16500", "16500"], revenuePerCustomer: ["50.00", "55.00", "55.00"],
      },
    ]);
  });

  it("prints one JSON line per cohort, months running to this month", async () => {
    const { code, stdout, stderr } = await crm("analytics", "cohorts", "--shop", SHOP);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n").map((line) => JSON.parse(line));
    expect(lines.map((l) => [l.cohort, l.size])).toEqual([["2025-12", 2], ["2026-01", 3]]);
    const thisMonth = new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York", year: "numeric", month: "2-digit" }).format(new Date());
    const monthsSince = (cohort: string) => Number(thisMonth.slice(0, 4)) * 12 + Number(thisMonth.slice(5, 7)) - (Number(cohort.slice(0, 4)) * 12 + Number(cohort.slice(5, 7)));
    for (const line of lines) {
      expect(line.customers).toHaveLength(monthsSince(line.cohort) + 1);
      expect(line.retention).toHaveLength(line.customers.length);
      expect(line.revenuePerCustomer.at(-1)).toBe(line.cohort === "2025-12" ? "85.00" : "55.00");
    }
    expect(lines[1].retention.slice(0, 2)).toEqual([1, 0.3333]);
  });
});
