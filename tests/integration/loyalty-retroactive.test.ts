// Retroactive points on import (issue 13, decision 057) through the Shopify twin: by default an
// import awards no points; with the program option retroactiveDays 30, the import's finalize
// awards points for the imported orders placed in the last 30 days only, with the live ledger
// keys (earn:<order gid>), so re-running the import, or a later live webhook for the same order
// (applied as the worker applies it), awards nothing more.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool, withTransaction } from "../../app/db.server";
import { runImport, startImport } from "../../app/services/history-import/import.server";
import { applyLoyaltyForOrders } from "../../app/services/loyalty/apply-orders.server";
import { saveProgram } from "../../app/services/loyalty/program.server";
import { parseProgramSettings } from "../../app/domain/loyalty/program";
import { closeQueues } from "../../app/queues.server";
import { useIntegrationEnv } from "../support/env";
import { startAdminTwin, type AdminTwin } from "../twin/admin-graphql";
import { generateStore, type SyntheticStore } from "../twin/store-generator";
import { orderWebhookPayload } from "../twin/webhook-payloads";
import { applyWebhooks, loadTwinStore, storeSession, TOKEN } from "./history-import.support";

const SHOP = "loyalty-retro.myshopify.com";
const DAY = 86_400_000;
let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let twin: AdminTwin;
let store: SyntheticStore;
const NOW = Date.now();

async function importShop() {
  await startImport(SHOP);
  const result = await runImport(SHOP, { pollMs: 50 });
  expect(result.status?.error ?? null).toBeNull();
  expect(result.outcome).toBe("done");
}

type Entry = { key: string; order_gid: string; kind: string; points: number };
async function ledger(): Promise<Entry[]> {
  const { rows } = await getPool().query<Entry>(`SELECT idempotency_key AS key, order_gid, kind, points FROM loyalty_ledger WHERE shop = $1 ORDER BY idempotency_key`, [SHOP]);
  return rows;
}

beforeAll(async () => {
  twin = await startAdminTwin({ accessTokens: { [SHOP]: TOKEN }, bulkDelayMs: 20 });
  // A store trading for the last 120 days: orders on both sides of the 30-day line.
  store = generateStore({ seed: 1357, customers: 50, shopDomain: SHOP, start: new Date(NOW - 120 * DAY).toISOString().slice(0, 10), now: NOW });
  loadTwinStore(twin, SHOP, store);
  env = await useIntegrationEnv({ SHOPIFY_TWIN_URL: twin.url });
  await storeSession(SHOP);
}, 60_000);

afterAll(async () => {
  await twin?.close();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

describe("retroactive points on import", () => {
  it("the option is validated: whole days from 0 to 365, default 0", () => {
    const base = { earn: { pointsPerUnit: 1 } };
    expect(parseProgramSettings(base)).toMatchObject({ ok: true, settings: { retroactiveDays: 0 } });
    expect(parseProgramSettings({ ...base, retroactiveDays: 30 })).toMatchObject({ ok: true, settings: { retroactiveDays: 30 } });
    expect(parseProgramSettings({ ...base, retroactiveDays: -1 })).toMatchObject({ ok: false, errors: [{ path: "retroactiveDays" }] });
    expect(parseProgramSettings({ ...base, retroactiveDays: 1.5 })).toMatchObject({ ok: false, errors: [{ path: "retroactiveDays" }] });
  });

  it("none by default; with retroactiveDays 30 once for the last 30 days' orders; a re-run import or a live webhook adds nothing", async () => {
    // The program exists before the import; every order of the store was placed before it.
    await saveProgram({ shop: SHOP, settings: { earn: { pointsPerUnit: 1, on: "placed" }, pendingDays: 14, bonuses: { firstOrder: 25 } }, actor: "owner" });
    await importShop();
    expect(await ledger()).toEqual([]);

    await saveProgram({ shop: SHOP, settings: { earn: { pointsPerUnit: 1, on: "placed" }, pendingDays: 14, bonuses: { firstOrder: 25 }, retroactiveDays: 30 }, actor: "owner" });
    await importShop();
    const after = await ledger();
    const { rows: orders } = await getPool().query<{ gid: string; recent: boolean; earns: boolean; subtotal: string }>(
      `SELECT gid, shopify_created_at >= now() - interval '30 days' AS recent, customer_gid IS NOT NULL AND NOT test AND cancelled_at IS NULL AS earns, subtotal_minor::text AS subtotal
         FROM orders WHERE shop = $1`,
      [SHOP],
    );
    const recent = orders.filter((o) => o.recent && o.earns && BigInt(o.subtotal) >= 100n).map((o) => o.gid).sort();
    const older = new Set(orders.filter((o) => !o.recent).map((o) => o.gid));
    expect(recent.length, "the store has recent orders").toBeGreaterThan(5);
    expect(older.size, "and older ones").toBeGreaterThan(5);
    const earned = after.filter((e) => e.kind === "earn");
    // The live key of each order, once; only recent orders.
    for (const e of earned) expect(e.key).toBe(`earn:${e.order_gid}`);
    expect(earned.map((e) => e.order_gid).filter((g) => older.has(g))).toEqual([]);
    for (const gid of recent) expect(earned.map((e) => e.order_gid), gid).toContain(gid);
    expect(earned.every((e) => e.points > 0)).toBe(true);
    // Refunded recent orders were reversed as live earning reverses them (never more than earned).
    const reversed = after.filter((e) => e.kind === "reverse");
    for (const r of reversed) expect(earned.map((e) => e.order_gid)).toContain(r.order_gid);
    // The first-order bonus only for customers whose first order is recent.
    const { rows: firsts } = await getPool().query<{ customer_gid: string; first: Date }>(
      `SELECT customer_gid, min(shopify_created_at) AS first FROM orders WHERE shop = $1 AND customer_gid IS NOT NULL AND NOT test AND cancelled_at IS NULL GROUP BY 1`,
      [SHOP],
    );
    const bonusCustomers = after.filter((e) => e.key.startsWith("bonus:first_order:")).map((e) => e.key.slice("bonus:first_order:".length));
    for (const c of bonusCustomers) expect(firsts.find((f) => f.customer_gid === c)!.first.getTime()).toBeGreaterThan(NOW - 31 * DAY);

    // The import again: nothing more.
    await importShop();
    expect(await ledger()).toEqual(after);

    // A live webhook for a recent order, applied as the worker applies it: nothing more.
    const gid = recent[0]!;
    const order = [...store.orders()].find((o) => `gid://shopify/Order/${o.id}` === gid)!;
    const customer = [...store.customers()].find((c) => c.id === order.customerId) ?? null;
    const at = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    await applyWebhooks(SHOP, [{ topic: "orders/updated", payload: { ...orderWebhookPayload(order, customer), updated_at: at }, at }]);
    const live = await withTransaction((db) => applyLoyaltyForOrders(db, SHOP, [gid]));
    expect(live.entries).toBe(0);
    expect(await ledger()).toEqual(after);
  }, 120_000);
});
