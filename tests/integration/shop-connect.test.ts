// Connecting a shop and its settings (decision 047), through the Shopify twin: `crm shop
// connect` with a custom app's Admin API token (a refused token stores nothing; an accepted
// one is stored encrypted, verified with `shop`, the app's webhook topics are subscribed
// with webhookSubscriptionCreate at SHOPIFY_APP_URL, the settings are stored), `crm shop
// show` (never the token), and the shop/update webhook changing the time zone, which a
// relative-date segment follows: around midnight in Pacific/Auckland, "today" is not UTC's.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { connectShop, requiredSubscriptions, setImportStarter, showShop } from "../../app/services/shop-connection.server";
import { createSegment, previewAll, refreshRelativeSegments } from "../../app/services/segments/segments.server";
import { saveProgram } from "../../app/services/loyalty/program.server";
import { tierWindowStart } from "../../app/domain/loyalty/tiers";
import { WEBHOOK_ROUTE_TOPICS } from "../../app/shopify/webhook-routes";
import { closeQueues } from "../../app/queues.server";
import { TEST_APP_URL, childProcessEnv, useIntegrationEnv } from "../support/env";
import { customerPayload, orderPayload } from "../support/factories";
import { deliverAndSettle, runCli, startInProcessWorker } from "../support/pipeline";
import { startAdminTwin, type AdminTwin } from "../twin/admin-graphql";

const SHOP = "connect-own-store.myshopify.com";
const TOKEN = "shpat_custom_app_admin_token_1234";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let twin: AdminTwin;

beforeAll(async () => {
  twin = await startAdminTwin({ accessTokens: { [SHOP]: TOKEN } });
  twin.shop(SHOP).name = "Own Store";
  twin.shop(SHOP).ianaTimezone = "UTC";
  env = await useIntegrationEnv({ SHOPIFY_TWIN_URL: twin.url });
}, 60_000);

afterAll(async () => {
  setImportStarter(null);
  await twin?.close();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const sessionRows = async () => (await getPool().query<{ id: string; accessToken: string }>(`SELECT id, "accessToken" FROM "Session" WHERE shop = $1`, [SHOP])).rows;

describe("crm shop connect", () => {
  it("refuses a token Shopify refuses, and stores nothing", async () => {
    const run = await runCli(["shop", "connect", "--shop", SHOP, "--access-token", "shpat_wrong_token_000"], childProcessEnv());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/refused the access token/);
    expect(await sessionRows()).toEqual([]);
    expect([...twin.shop(SHOP).webhookSubscriptions.values()]).toEqual([]);
  });

  it("stores the token encrypted, verifies it, subscribes every topic of the route table, stores the settings", async () => {
    const run = await runCli(["shop", "connect", "--shop", SHOP, "--access-token", TOKEN], childProcessEnv());
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    const expectedTopics = Object.entries(WEBHOOK_ROUTE_TOPICS)
      .filter(([route]) => route !== "/webhooks/compliance")
      .flatMap(([, topics]) => topics.map((t) => t.toUpperCase().replace(/[/.]/g, "_")));
    expect(out).toMatchObject({ shop: SHOP, name: "Own Store", ianaTimezone: "UTC", currencyCode: "USD", webhooks: { existing: [], failed: [] }, import: "started" });
    // The history import is started (decision 045): a running run the worker's import job picks up.
    expect((await getPool().query<{ state: string }>(`SELECT state FROM import_runs WHERE shop = $1`, [SHOP])).rows.map((r) => r.state)).toEqual(["running"]);
    expect([...out.webhooks.created].sort()).toEqual([...expectedTopics].sort());
    expect(out.webhooks.created).toContain("SHOP_UPDATE");

    const subscriptions = [...twin.shop(SHOP).webhookSubscriptions.values()];
    expect(subscriptions.find((s) => s.topic === "ORDERS_CREATE")?.uri).toBe(`${TEST_APP_URL}/webhooks/orders`);
    expect(subscriptions.find((s) => s.topic === "SHOP_UPDATE")?.uri).toBe(`${TEST_APP_URL}/webhooks/app`);
    expect(subscriptions.some((s) => /REDACT|DATA_REQUEST/.test(s.topic))).toBe(false);

    const [session] = await sessionRows();
    expect(session!.id).toBe(`offline_${SHOP}`);
    expect(session!.accessToken).not.toContain(TOKEN); // encrypted at rest (decision 035)
  });

  it("connecting again registers nothing twice and starts the import when it is wired", async () => {
    const started: string[] = [];
    setImportStarter(async (shop) => {
      started.push(shop);
    });
    const result = await connectShop({ shop: SHOP, accessToken: TOKEN });
    expect(result.webhooks.created).toEqual([]);
    expect(result.webhooks.existing).toHaveLength(requiredSubscriptions(TEST_APP_URL).length);
    expect(result.import).toBe("started");
    expect(started).toEqual([SHOP]);
    expect([...twin.shop(SHOP).webhookSubscriptions.values()]).toHaveLength(requiredSubscriptions(TEST_APP_URL).length);
  });

  it("crm shop show prints the stored shop and its settings, never the token", async () => {
    const run = await runCli(["shop", "show", "--shop", SHOP], childProcessEnv());
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain(TOKEN);
    expect(run.stdout).not.toMatch(/accessToken|shpat_/);
    expect(JSON.parse(run.stdout)).toMatchObject({
      domain: SHOP,
      name: "Own Store",
      email: twin.shop(SHOP).email,
      ianaTimezone: "UTC",
      currencyCode: "USD",
      connectedVia: "token",
      uninstalledAt: null,
      settings: { myshopifyDomain: SHOP, ianaTimezone: "UTC" },
      session: { offline: true },
    });
    expect(await showShop("unknown-shop.myshopify.com")).toBeNull();
  });
});

describe("the shop's time zone: shop/update, and relative dates in segments", () => {
  // 11:30 UTC on 7 December is 00:30 on 8 December in Auckland (NZDT, UTC+13).
  const now = new Date("2026-12-07T11:30:00Z");
  const late = { id: 880001n, email: "late@example.com" }; // last order 10:50 UTC: 23:50 on the 7th in Auckland
  const early = { id: 880002n, email: "early@example.com" }; // last order 11:10 UTC: 00:10 on the 8th in Auckland

  it("a shop/update moves the zone, and `last_order_date >= today` follows it", async () => {
    const worker = startInProcessWorker(2);
    try {
      for (const c of [late, early]) await deliverAndSettle("customers/create", customerPayload(c), { shop: SHOP });
      await deliverAndSettle("orders/create", orderPayload({ id: 990001n, customer: late, totalPrice: "10.00", createdAt: "2026-12-07T10:50:00Z", updatedAt: "2026-12-07T10:50:00Z" }), { shop: SHOP });
      await deliverAndSettle("orders/create", orderPayload({ id: 990002n, customer: early, totalPrice: "10.00", createdAt: "2026-12-07T11:10:00Z", updatedAt: "2026-12-07T11:10:00Z" }), { shop: SHOP });

      const { segment } = await createSegment({ shop: SHOP, name: "Bought today", query: "last_order_date >= today", now });
      const members = async () =>
        (await getPool().query<{ gid: string }>(`SELECT customer_gid AS gid FROM segment_members WHERE segment_id = $1 ORDER BY 1`, [segment.id])).rows.map((r) => r.gid);
      // In UTC both orders are on the 7th: today.
      expect(await members()).toEqual([`gid://shopify/Customer/${late.id}`, `gid://shopify/Customer/${early.id}`].sort());

      const payload = {
        id: 548380009,
        name: "Own Store",
        email: "owner@own-store.example.com",
        myshopify_domain: SHOP,
        currency: "NZD",
        timezone: "(GMT+12:00) Auckland, Wellington",
        iana_timezone: "Pacific/Auckland",
        // Later than the settings stored on connect (read from the Admin API then).
        updated_at: new Date(Date.now() + 1_000).toISOString(),
      };
      await deliverAndSettle("shop/update", payload, { shop: SHOP });
      expect(await showShop(SHOP)).toMatchObject({ ianaTimezone: "Pacific/Auckland", currencyCode: "NZD", email: "owner@own-store.example.com" });

      // An older shop/update arriving late changes nothing.
      await deliverAndSettle("shop/update", { ...payload, iana_timezone: "Europe/Lisbon", updated_at: new Date(Date.now() - 3_600_000).toISOString() }, { shop: SHOP });
      expect((await showShop(SHOP))!.ianaTimezone).toBe("Pacific/Auckland");

      // In Auckland it is already the 8th: only the order placed after local midnight is today.
      await refreshRelativeSegments({ shop: SHOP, now });
      expect(await members()).toEqual([`gid://shopify/Customer/${early.id}`]);
      const preview = await previewAll(SHOP, "last_order_date >= today", { now });
      expect(preview.ok && preview.customerIds).toEqual([`gid://shopify/Customer/${early.id}`]);
    } finally {
      await worker.close();
    }
  });

  it("a loyalty program saved without a time zone takes the shop's (its windows are the shop's days); an explicit one is kept", async () => {
    const saved = await saveProgram({ shop: SHOP, settings: { earn: { pointsPerUnit: 1 } }, actor: "test" });
    expect(saved.settings.timeZone).toBe("Pacific/Auckland");
    // The calendar year's window starts at Auckland's midnight, 11:00 UTC the day before.
    expect(tierWindowStart({ window: "calendar_year", timeZone: saved.settings.timeZone, now })?.toISOString()).toBe("2025-12-31T11:00:00.000Z");
    const explicit = await saveProgram({ shop: SHOP, settings: { earn: { pointsPerUnit: 1 }, timeZone: "UTC" }, actor: "test" });
    expect(explicit.settings.timeZone).toBe("UTC");
  });
});
