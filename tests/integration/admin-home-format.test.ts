// The shop's display settings (its time zone read once from the Admin API and stored, the
// admin's locale from the address) and the home page's overview: counts and what needs
// attention, scoped to the shop.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { createFormatter } from "../../app/domain/format";
import { getHomeOverview } from "../../app/services/admin-home.server";
import { staffNames } from "../../app/services/admin-loyalty.server";
import { getShopFormatSettings, getShopTimeZone } from "../../app/services/shop-format.server";
import { closeQueues } from "../../app/queues.server";
import { useIntegrationEnv } from "../support/env";
import { startAdminTwin, type AdminTwin } from "../twin/admin-graphql";
import { storeOfflineSession, TOKEN } from "./tag-sync.support";

const SHOP = "home-format.myshopify.com";
const OTHER = "home-format-other.myshopify.com";
const NO_SESSION = "home-format-no-session.myshopify.com";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let twin: AdminTwin;

beforeAll(async () => {
  twin = await startAdminTwin({ accessTokens: { [SHOP]: TOKEN } });
  twin.shop(SHOP).ianaTimezone = "Asia/Tokyo";
  env = await useIntegrationEnv({ SHOPIFY_TWIN_URL: twin.url });
  await storeOfflineSession(SHOP);
  for (const shop of [SHOP, OTHER, NO_SESSION]) await getPool().query(`INSERT INTO shops (domain) VALUES ($1)`, [shop]);
});

afterAll(async () => {
  await twin?.close();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const storedZone = async (shop: string) =>
  (await getPool().query<{ zone: string | null }>(`SELECT "ianaTimezone" AS zone FROM shops WHERE domain = $1`, [shop])).rows[0]?.zone;

describe("the shop's time zone", () => {
  it("is read once from the Admin API (shop { ianaTimezone }) and stored; later pages use the stored zone", async () => {
    expect(await storedZone(SHOP)).toBeNull();
    expect(await getShopTimeZone(SHOP)).toMatchObject({ timeZone: "Asia/Tokyo", known: true });
    expect(await storedZone(SHOP)).toBe("Asia/Tokyo");
    // Shopify's answer changing no longer matters: the stored zone is used without asking again.
    twin.shop(SHOP).ianaTimezone = "Europe/Paris";
    expect(await getShopTimeZone(SHOP)).toMatchObject({ timeZone: "Asia/Tokyo", known: true });
  });

  it("falls back to UTC, says it is not known and stores nothing when Shopify cannot be asked (no offline session)", async () => {
    expect(await getShopTimeZone(NO_SESSION)).toMatchObject({ timeZone: "UTC", known: false });
    expect(await storedZone(NO_SESSION)).toBeNull();
  });

  it("takes the locale from the admin's address, English when absent or unknown", async () => {
    const withLocale = await getShopFormatSettings(SHOP, new Request("https://app.example/app?locale=fr&shop=x"));
    expect(withLocale).toMatchObject({ locale: "fr", timeZone: "Asia/Tokyo" });
    expect((await getShopFormatSettings(SHOP, new Request("https://app.example/app"))).locale).toBe("en");
    expect((await getShopFormatSettings(SHOP, new Request("https://app.example/app?locale=%%%"))).locale).toBe("en");
    // Navigations inside the app carry no locale parameter: the browser's language, the admin's parameter first.
    const browser = (q: string) => new Request(`https://app.example/app${q}`, { headers: { "accept-language": "de-DE,de;q=0.9,en;q=0.8" } });
    expect((await getShopFormatSettings(SHOP, browser(""))).locale).toBe("de-DE");
    expect((await getShopFormatSettings(SHOP, browser("?locale=fr"))).locale).toBe("fr");
  });
});

describe("staff names", () => {
  it("come from an online session of that user when one is stored, and nothing else is invented", async () => {
    await getPool().query(
      `INSERT INTO "Session" (id, shop, state, "isOnline", "accessToken", "userId", "firstName", "lastName") VALUES ($1, $2, '', true, 'x', 42, 'Ana', 'Silva')`,
      [`online_${SHOP}_42`, SHOP],
    );
    const names = await staffNames(SHOP, ["shopify-user:42", "shopify-user:7", "merchant"]);
    expect([...names]).toEqual([["42", "Ana Silva"]]);
    expect(await staffNames(OTHER, ["shopify-user:42"])).toEqual(new Map()); // another store's session says nothing
  });
});

describe("the home page's overview", () => {
  it("counts this shop's customers, segments and loyalty and lists what needs attention, nothing of another shop", async () => {
    const pool = getPool();
    const now = new Date("2026-12-07T12:00:00Z");
    // 2,002 customers (grouped in the display), one deleted; and another shop's.
    await pool.query(
      `INSERT INTO customers (shop, gid, orders_count, shopify_created_at)
       SELECT $1, 'gid://shopify/Customer/' || g, CASE WHEN g % 2 = 0 THEN 1 ELSE 0 END,
              CASE WHEN g <= 10 THEN $2::timestamptz - interval '3 days' ELSE $2::timestamptz - interval '300 days' END
         FROM generate_series(1, 2003) g`,
      [SHOP, now],
    );
    await pool.query(`UPDATE customers SET deleted_at = now() WHERE shop = $1 AND gid = 'gid://shopify/Customer/2003'`, [SHOP]);
    await pool.query(`INSERT INTO customers (shop, gid) VALUES ($1, 'gid://shopify/Customer/1')`, [OTHER]);

    const quiet = await getHomeOverview({ shop: SHOP, fmt: createFormatter({ locale: "en" }), now });
    expect(quiet.customers).toEqual({ total: "2,002", withOrders: "1,001", newThisMonth: "10" });
    expect(quiet.attention).toEqual([]);
    expect(quiet.loyalty.configured).toBe(false);

    // Something for each kind of attention, and the same in another shop (not counted).
    for (const shop of [SHOP, OTHER]) {
      await pool.query(
        `INSERT INTO webhook_events (shop, webhook_id, topic, api_version, payload, status) VALUES ($1, $2, 'orders/create', '2026-07', '{}', 'dead')`,
        [shop, `dead-${shop}`],
      );
      await pool.query(`INSERT INTO segments (shop, name, query, broken_at, broken_reason) VALUES ($1, 'Big spenders', 'amount_spent > 100', now(), 'boom')`, [shop]);
      await pool.query(`INSERT INTO segments (shop, name, query) VALUES ($1, 'Everyone', 'number_of_orders >= 0')`, [shop]);
      const { rows } = await pool.query<{ id: string }>(`INSERT INTO feedback_responses (shop, nps, submitted_at) VALUES ($1, 2, now()) RETURNING id`, [shop]);
      await pool.query(`INSERT INTO feedback_cases (shop, response_id, reasons) VALUES ($1, $2, ARRAY['low score'])`, [shop, rows[0]!.id]);
      await pool.query(
        `INSERT INTO email_outbox (shop, category, idempotency_key, subject, html, text, message_id, status, updated_at)
         VALUES ($1, 'feedback', $2, 's', 'h', 't', $2, 'failed', $3)`,
        [shop, `mail-${shop}`, now],
      );
    }
    const busy = await getHomeOverview({ shop: SHOP, fmt: createFormatter({ locale: "en" }), now });
    expect(busy.segments).toEqual({ total: "2", broken: 1 });
    expect(busy.attention.map((a) => [a.key, a.title, a.url])).toEqual([
      ["dead_letters", "1 webhook delivery failed every retry", "/app/pipeline"],
      ["broken_segments", "1 segment cannot be evaluated", "/app/segments"],
      ["feedback_cases", "1 open feedback case", "/app/feedback"],
      ["emails_failed", "1 email could not be sent in the last 30 days", "/app/settings/email"],
    ]);
    expect(busy.attention[1]!.detail).toContain("“Big spenders”");
  });
});
