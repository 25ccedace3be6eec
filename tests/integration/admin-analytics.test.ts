// The Analytics admin page's service (app/services/admin-analytics.server.ts) and its CSV
// export route (/app/analytics/export.csv, through the real built server with a session
// token) on a small hand-built store in New York time. Every figure below is worked out by
// hand from the orders listed here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJwt } from "@shopify/shopify-api/test-helpers";
import { closeDb, getPool } from "../../app/db.server";
import { closeQueues } from "../../app/queues.server";
import { createFormatter } from "../../app/domain/format";
import { refreshOrdersRefunds } from "../../app/services/crm-batch-store.server";
import { getAnalyticsCsv, getAnalyticsPage } from "../../app/services/admin-analytics.server";
import { ensureAppBuild } from "../support/admin-app-server";
import { storeOfflineSession } from "../support/admin-seed";
import { startEmbeddedAdminServer } from "../support/e2e-app";
import type { AppServer } from "../support/admin-app-server";
import { TEST_API_KEY, TEST_API_SECRET, useIntegrationEnv } from "../support/env";
import { TEST_SHOP } from "../support/webhooks";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let server: AppServer | undefined;
const SHOP = TEST_SHOP;

type Seed = { id: number; customer: number | null; at: string; total: number; refund?: number; test?: boolean };

// `at` is local New York time (EST, UTC-5). Totals in cents.
const ORDERS: Seed[] = [
  { id: 1, customer: 6, at: "2025-12-15T10:00:00-05:00", total: 70_00 },            // F: December cohort, outside every range below
  { id: 2, customer: 5, at: "2026-01-02T10:00:00-05:00", total: 50_00 },            // E first, before the comparison period
  { id: 3, customer: 1, at: "2026-01-05T10:00:00-05:00", total: 100_00 },           // A first
  { id: 4, customer: 2, at: "2026-01-20T12:00:00-05:00", total: 60_00, refund: 10_00 }, // B first, net 50.00
  { id: 5, customer: 1, at: "2026-02-03T09:00:00-05:00", total: 40_00 },            // A second: 29 days
  { id: 6, customer: 3, at: "2026-02-10T10:00:00-05:00", total: 30_00 },            // C first (new in February)
  { id: 7, customer: 4, at: "2026-02-14T10:00:00-05:00", total: 80_00, test: true }, // D: a test order, not counted
  { id: 8, customer: 5, at: "2026-02-15T10:00:00-05:00", total: 25_00 },            // E second: 44 days
  { id: 9, customer: null, at: "2026-02-20T10:00:00-05:00", total: 10_00 },         // guest
  { id: 10, customer: 2, at: "2026-02-28T23:30:00-05:00", total: 20_00 },           // B second at 23:30 on the last day (1 March UTC): 39 days
  { id: 11, customer: 3, at: "2026-03-02T10:00:00-05:00", total: 15_00 },           // C second, after the range
];

beforeAll(async () => {
  env = await useIntegrationEnv();
  const db = getPool();
  await db.query(`INSERT INTO shops (domain, "currencyCode", "ianaTimezone") VALUES ($1, 'USD', 'America/New_York')`, [SHOP]);
  for (const o of ORDERS) {
    await db.query(
      `INSERT INTO orders (shop, gid, legacy_id, customer_gid, currency, total_price_minor, test, shopify_created_at, shopify_updated_at)
       VALUES ($1, $2, $3, $4, 'USD', $5, $6, $7, $7)`,
      [SHOP, `gid://shopify/Order/${o.id}`, String(o.id), o.customer === null ? null : `gid://shopify/Customer/${o.customer}`, o.total, o.test ?? false, o.at],
    );
    if (o.refund) {
      await db.query(`INSERT INTO refunds (shop, gid, legacy_id, order_legacy_id, amount_minor, currency, refunded_at) VALUES ($1, $2, $3, $4, $5, 'USD', $6)`, [
        SHOP, `gid://shopify/Refund/${o.id}`, `${o.id}0`, String(o.id), o.refund, o.at,
      ]);
      await refreshOrdersRefunds(db, SHOP, [String(o.id)]);
    }
  }
});

afterAll(async () => {
  await server?.stop();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const FEBRUARY = new URLSearchParams({ range: "custom", from: "2026-02-01", to: "2026-02-28" });
const fmt = createFormatter({ locale: "en-US", timeZone: "America/New_York", currency: "USD" });

describe("the Analytics page's service", () => {
  it("February against the 28 days before it: cards with their change", async () => {
    // February (1-28, New York): orders 5 (40), 6 (30), 8 (25), 9 (10), 10 (20, 23:30 on the
    // 28th) = 5 orders, 125.00, AOV 25.00. Customers A B C E: new C; returning A B E; two
    // orders by the end: A B E = 75%; second orders in February: A 29, B 39, E 44 days -> 39.
    // Comparison 4-31 January: orders 3 (100) and 4 (50 net) = 2 orders, 150.00, AOV 75.00;
    // A and B new, nobody repeats -> 0%, no median. E's first order (2 January) is outside.
    const page = await getAnalyticsPage({ shop: SHOP, params: FEBRUARY, now: new Date("2026-03-15T12:00:00Z"), fmt });
    expect(page.range).toEqual({ range: "custom", from: "2026-02-01", to: "2026-02-28", compareFrom: "2026-01-04", compareTo: "2026-01-31", days: 28 });
    expect(page.periodLabel).toBe("Feb 1, 2026 – Feb 28, 2026");
    expect(page.comparisonLabel).toBe("Jan 4, 2026 – Jan 31, 2026");
    expect(page.cards.map((c) => [c.key, c.value, c.previous, c.change, c.direction])).toEqual([
      ["revenue", "$125.00", "$150.00", "−16.7%", "down"],
      ["orders", "5", "2", "+150%", "up"],
      ["aov", "$25.00", "$75.00", "−66.7%", "down"],
      ["newCustomers", "1", "2", "−50%", "down"],
      ["returningCustomers", "3", "0", "—", "none"],
      ["repeatPurchaseRate", "75%", "0%", "+75 pts", "up"],
      ["medianDaysToSecondOrder", "39 days", "—", "—", "none"],
    ]);
    // The grid holds the cohorts of the range's months: February = C, 30.00, then 15.00 in
    // March (the current month at 15 March). F (December) and January's cohort are outside.
    expect(page.months).toBe(2);
    expect(page.cohorts).toEqual([
      { cohort: "2026-02", size: 1, customers: [1, 1], retention: [1, 1], retentionText: ["100%", "100%"], revenuePerCustomer: [30, 45], revenuePerCustomerText: ["$30.00", "$45.00"] },
    ]);
  });

  it("cohorts of January and February: January = E A B", async () => {
    // January = E A B, 50 + 100 + 50 = 200.00 in month 0; all three again in February (25 + 40
    // + 20 = 85.00); March empty (at 15 March).
    const page = await getAnalyticsPage({ shop: SHOP, params: new URLSearchParams({ range: "custom", from: "2026-01-01", to: "2026-02-28" }), now: new Date("2026-03-15T12:00:00Z"), fmt });
    expect(page.months).toBe(3);
    expect(page.cohorts[0]).toEqual({
      cohort: "2026-01", size: 3, customers: [3, 3, 0], retention: [1, 1, 0], retentionText: ["100%", "100%", "0%"],
      revenuePerCustomer: [66.67, 95, 95], revenuePerCustomerText: ["$66.67", "$95.00", "$95.00"],
    });
    expect(page.cohorts.map((c) => c.cohort)).toEqual(["2026-01", "2026-02"]);
  });

  it("a preset ends today in the shop's zone, not in UTC", async () => {
    // 03:00 UTC on 1 March is 22:00 on 28 February in New York.
    const page = await getAnalyticsPage({ shop: SHOP, params: new URLSearchParams({ range: "30" }), now: new Date("2026-03-01T03:00:00Z"), fmt });
    expect(page.range).toEqual({ range: "30", from: "2026-01-30", to: "2026-02-28", compareFrom: "2025-12-31", compareTo: "2026-01-29", days: 30 });
    // 30 Jan - 28 Feb: the February orders; 31 Dec - 29 Jan: orders 2 3 4 = 200.00.
    expect(page.cards.find((c) => c.key === "revenue")).toMatchObject({ value: "$125.00", previous: "$200.00" });
  });

  it("an unreadable address falls back to the last 30 days", async () => {
    const page = await getAnalyticsPage({ shop: SHOP, params: new URLSearchParams({ range: "custom", from: "2026-02-30" }), now: new Date("2026-03-15T12:00:00Z"), fmt });
    expect(page.range).toMatchObject({ range: "30", from: "2026-02-14", to: "2026-03-15" });
  });

  it("a shop without orders: zeros and dashes, no cohorts, not an error", async () => {
    const page = await getAnalyticsPage({ shop: "analytics-empty.myshopify.com", params: FEBRUARY, now: new Date("2026-03-15T12:00:00Z"), fmt });
    expect(page.cards.map((c) => [c.value, c.change])).toEqual([["$0.00", "—"], ["0", "—"], ["$0.00", "—"], ["0", "—"], ["0", "—"], ["0%", "—"], ["—", "—"]]);
    expect(page.cohorts).toEqual([]);
    expect(page.months).toBe(0);
  });

  it("CSV text of both tables", async () => {
    const overview = await getAnalyticsCsv({ shop: SHOP, report: "overview", params: FEBRUARY, now: new Date("2026-03-15T12:00:00Z") });
    expect(overview.filename).toBe("analytics-overview-2026-02-01-to-2026-02-28.csv");
    expect(overview.body).toBe(
      [
        "figure,2026-02-01 to 2026-02-28,2026-01-04 to 2026-01-31",
        "revenue_net_USD,125.00,150.00",
        "orders,5,2",
        "aov_USD,25.00,75.00",
        "customers,4,2",
        "new_customers,1,2",
        "returning_customers,3,0",
        "repeat_purchase_rate,0.75,0",
        "median_days_to_second_order,39,",
        "",
      ].join("\r\n"),
    );
    const cohorts = await getAnalyticsCsv({ shop: SHOP, report: "cohorts", params: FEBRUARY, now: new Date("2026-03-15T12:00:00Z") });
    expect(cohorts.filename).toBe("analytics-cohorts-2026-02-01-to-2026-02-28.csv");
    // The range's months are February only: C's cohort.
    expect(cohorts.body).toBe(
      ["cohort,size,month,customers,retention,cumulative_revenue,revenue_per_customer,currency", "2026-02,1,0,1,1,30.00,30.00,USD", "2026-02,1,1,1,1,45.00,45.00,USD", ""].join("\r\n"),
    );
  });
});

// The library answers 410 to what looks like a bot (Node's fetch does): ask as a browser.
const BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";

describe("GET /app/analytics/export.csv (the built server, a session token)", () => {
  const get = async (query: string) => {
    const { token } = await getJwt(SHOP.replace(/\.myshopify\.com$/, ""), TEST_API_KEY, TEST_API_SECRET);
    return fetch(`${server!.origin}/app/analytics/export.csv?${query}`, { headers: { Authorization: `Bearer ${token}`, "User-Agent": BROWSER } });
  };

  beforeAll(async () => {
    ensureAppBuild();
    await storeOfflineSession(SHOP);
    server = await startEmbeddedAdminServer();
  }, 120_000);

  it("answers text/csv as a download named after the report and range", { timeout: 60_000 }, async () => {
    const response = await get("report=overview&range=custom&from=2026-02-01&to=2026-02-28");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="analytics-overview-2026-02-01-to-2026-02-28.csv"');
    const lines = (await response.text()).split("\r\n");
    expect(lines.slice(0, 4)).toEqual(["figure,2026-02-01 to 2026-02-28,2026-01-04 to 2026-01-31", "revenue_net_USD,125.00,150.00", "orders,5,2", "aov_USD,25.00,75.00"]);

    // Cohorts of January-February: the grid runs to the current month, so only the first months are checked.
    const cohorts = await get("report=cohorts&range=custom&from=2026-01-01&to=2026-02-28");
    expect(cohorts.status).toBe(200);
    const rows = (await cohorts.text()).trim().split("\r\n");
    expect(rows[0]).toBe("cohort,size,month,customers,retention,cumulative_revenue,revenue_per_customer,currency");
    expect(rows.filter((r) => /^2026-0[12],\d+,[012],/.test(r))).toEqual([
      "2026-01,3,0,3,1,200.00,66.67,USD",
      "2026-01,3,1,3,1,285.00,95.00,USD",
      "2026-01,3,2,0,0,285.00,95.00,USD",
      "2026-02,1,0,1,1,30.00,30.00,USD",
      "2026-02,1,1,1,1,45.00,45.00,USD",
      "2026-02,1,2,0,0,45.00,45.00,USD",
    ]);
    expect(rows.some((r) => r.startsWith("2025-12,"))).toBe(false);
  });

  it("refuses an unknown report (400) and a request without a session token", { timeout: 60_000 }, async () => {
    const unknown = await get("report=secrets");
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toMatch(/report must be one of: overview, cohorts/);
    const anonymous = await fetch(`${server!.origin}/app/analytics/export.csv?report=overview`, { headers: { "User-Agent": BROWSER }, redirect: "manual" });
    // Without a token the library sends the request to log in (a redirect), never the figures.
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get("content-type") ?? "").not.toContain("text/csv");
    expect(await anonymous.text()).not.toContain("revenue_net");
  });
});
