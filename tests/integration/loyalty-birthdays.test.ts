// Birthday bonuses from the customers' `facts.birth_date` metafield, read from the twin through
// the Admin API (paged, paced), awarded once a year, invalid values skipped and counted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { ledger } from "../../app/services/loyalty/balance.server";
import { runBirthdayBonuses } from "../../app/services/loyalty/birthdays.server";
import { saveProgram } from "../../app/services/loyalty/program.server";
import { closeQueues } from "../../app/queues.server";
import { useIntegrationEnv } from "../support/env";
import { startAdminTwin, type AdminTwin } from "../twin/admin-graphql";
import { generateStore } from "../twin/store-generator";
import { seedLocalCustomers, storeOfflineSession, TOKEN } from "./tag-sync.support";

const SHOP = "loyalty-birthdays.myshopify.com";
const NOW = new Date("2026-06-15T12:00:00Z");
let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let twin: AdminTwin;
let gids: string[];

function setBirthDate(gid: string, value: string) {
  const ownerId = gid.slice(gid.lastIndexOf("/") + 1); // the twin keys owners by numeric id
  twin.shop(SHOP).putMetafield({
    id: `gid://shopify/Metafield/${900_000 + gids.indexOf(gid)}`,
    ownerType: "CUSTOMER",
    ownerId,
    namespace: "facts",
    key: "birth_date",
    type: "date",
    value,
    createdAt: "2026-01-01T00:00:00Z",
    updatedAt: "2026-01-01T00:00:00Z",
  });
}

beforeAll(async () => {
  twin = await startAdminTwin({ accessTokens: { [SHOP]: TOKEN } });
  // More customers than one page (250), so the run pages through the connection.
  twin.shop(SHOP).loadStore(generateStore({ seed: 9, customers: 300, shopDomain: SHOP }), { maxOrders: 0 });
  gids = twin.shop(SHOP).sortedIds("customers").map((id) => `gid://shopify/Customer/${id}`);
  env = await useIntegrationEnv({ SHOPIFY_TWIN_URL: twin.url });
  await storeOfflineSession(SHOP);
  // The CRM holds every customer but the last one.
  await seedLocalCustomers(SHOP, gids.slice(0, -1));
  await saveProgram({ shop: SHOP, settings: { earn: { pointsPerUnit: 1 }, pendingDays: 0, timeZone: "UTC", bonuses: { birthday: 50 } }, actor: "owner@example.com", now: new Date("2026-01-01T00:00:00Z") });
});

afterAll(async () => {
  await twin?.close();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const bonuses = async (gid: string) => (await ledger(SHOP, gid, { now: NOW })).filter((r) => r.kind === "bonus").map((r) => [r.points, r.idempotencyKey]);

describe("birthday bonuses from the facts.birth_date metafield", () => {
  it("awards today's and this week's birthdays once, skips other days, unknown customers and invalid dates", async () => {
    const [today, fiveDaysAgo, earlier, tomorrow, garbage, impossible] = gids.slice(0, 6) as [string, string, string, string, string, string];
    const onLastPage = gids[280]!;
    const notInCrm = gids.at(-1)!;
    setBirthDate(today, "1990-06-15");
    setBirthDate(fiveDaysAgo, "06-10");
    setBirthDate(earlier, "1985-06-01");
    setBirthDate(tomorrow, "2001-06-16");
    setBirthDate(garbage, "someday");
    setBirthDate(impossible, "1990-04-31");
    setBirthDate(onLastPage, "1970-06-14");
    setBirthDate(notInCrm, "1990-06-15");

    const first = await runBirthdayBonuses({ shop: SHOP, now: NOW });
    expect(first).toEqual({ customers: 300, withBirthday: 7, invalid: 2, awarded: 3 });
    for (const gid of [today, fiveDaysAgo, onLastPage]) expect(await bonuses(gid)).toEqual([[50, `bonus:birthday:${gid}:2026`]]);
    for (const gid of [earlier, tomorrow, garbage, impossible]) expect(await bonuses(gid)).toEqual([]);
    const { rows } = await getPool().query(`SELECT count(*)::int AS n FROM loyalty_ledger WHERE shop = $1 AND customer_gid = $2`, [SHOP, notInCrm]);
    expect(rows).toEqual([{ n: 0 }]);

    // A second run the same day (a retry) awards nothing more; the next day's run awards only
    // the customer whose birthday it is then.
    expect((await runBirthdayBonuses({ shop: SHOP, now: new Date(NOW.getTime() + 3600_000) })).awarded).toBe(0);
    expect((await runBirthdayBonuses({ shop: SHOP, now: new Date(NOW.getTime() + 24 * 3600_000) })).awarded).toBe(1);
    expect(await bonuses(tomorrow)).toEqual([[50, `bonus:birthday:${tomorrow}:2026`]]);
    expect(await bonuses(today)).toEqual([[50, `bonus:birthday:${today}:2026`]]);

    // The run also stored the birth dates for anniversary() (decision 043): as written, a
    // yearless one in 2000, none for an impossible or unreadable value.
    const stored = async (gid: string) =>
      (await getPool().query<{ d: string | null }>(`SELECT birth_date::text AS d FROM customers WHERE shop = $1 AND gid = $2`, [SHOP, gid])).rows[0]?.d ?? null;
    expect(await Promise.all([today, fiveDaysAgo, earlier, tomorrow, garbage, impossible, onLastPage].map(stored))).toEqual([
      "1990-06-15", "2000-06-10", "1985-06-01", "2001-06-16", null, null, "1970-06-14",
    ]);
    // A cleared metafield clears the stored date at the next run.
    setBirthDate(earlier, "");
    await runBirthdayBonuses({ shop: SHOP, now: NOW });
    expect(await stored(earlier)).toBeNull();
  });

  it("runs the birth-date read also for shops whose segments use anniversary() (listAnniversaryShops)", async () => {
    const other = "loyalty-no-birthday.myshopify.com";
    await getPool().query(
      `INSERT INTO segments (shop, name, query) VALUES ($1, 'Birthdays', 'anniversary(date: ''metafields.facts.birth_date'') BETWEEN today AND +30d')`,
      [SHOP.replace("loyalty-birthdays", "anniversary-only")],
    );
    const { listAnniversaryShops } = await import("../../app/services/loyalty/birthdays.server");
    expect(await listAnniversaryShops()).toContain(SHOP.replace("loyalty-birthdays", "anniversary-only"));
    expect(await listAnniversaryShops()).not.toContain(other);
  });

  it("costs nothing and asks Shopify nothing when the program has no birthday bonus", async () => {
    const other = "loyalty-no-birthday.myshopify.com";
    await saveProgram({ shop: other, settings: { earn: { pointsPerUnit: 1 }, pendingDays: 0 }, actor: "owner@example.com", now: new Date("2026-01-01T00:00:00Z") });
    // No offline session for this shop: any Admin call would fail.
    expect(await runBirthdayBonuses({ shop: other, now: NOW })).toEqual({ customers: 0, withBirthday: 0, invalid: 0, awarded: 0 });
  });
});
