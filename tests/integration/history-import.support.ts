// Shared by the history import tests: a twin holding a generated store for a shop, the offline
// session the app reaches it with, and the same history delivered as webhooks (mapped and
// applied as the worker does, in batches of 100).
import { getPool, withTransaction } from "../../app/db.server";
import { applyCrmBatch, type BatchEvent } from "../../app/services/apply-crm-batch.server";
import { mapWebhook } from "../../app/shopify/webhook-payloads";
import { cents, storeWebhooks, toBody } from "../twin/webhook-payloads";
import type { AdminTwin } from "../twin/admin-graphql";
import type { SyntheticStore } from "../twin/store-generator";

export const TOKEN = "shpat_history_import_test";
export const ALL_SCOPES = "read_customers,write_customers,read_orders,read_all_orders,read_products,write_products";

/**
 * Loads the store into the twin's shop. Order fields the twin's resolvers do not compute
 * (shipping, line discounts, gift cards) are set on its records the way its webhook payloads
 * say them (tests/twin/webhook-payloads.ts): shipping from the generated order, line
 * total_discount 0.00 (REST's and GraphQL's totalDiscount both exclude discount-code
 * allocations), no gift cards.
 */
export function loadTwinStore(twin: AdminTwin, shop: string, store: SyntheticStore) {
  const state = twin.shop(shop);
  state.loadStore(store);
  const money = (amount: string, currencyCode: string) => ({ shopMoney: { amount, currencyCode }, presentmentMoney: { amount, currencyCode } });
  for (const o of store.orders()) {
    const record = state.orders.get(String(o.id)) as unknown as Record<string, unknown> & { lineItems: Record<string, unknown>[]; currency: string };
    if (!record) continue;
    record.totalShippingPriceSet ??= money(cents(o.shippingCents), record.currency);
    for (const line of record.lineItems) {
      line.isGiftCard ??= false;
      line.totalDiscountSet ??= money("0.00", record.currency);
    }
  }
}

export async function storeSession(shop: string, scope = ALL_SCOPES) {
  await getPool().query(
    `INSERT INTO "Session" (id, shop, state, "isOnline", scope, "accessToken") VALUES ($1, $2, '', false, $3, $4)
     ON CONFLICT (id) DO UPDATE SET "accessToken" = EXCLUDED."accessToken", scope = EXCLUDED.scope`,
    [`offline_${shop}`, shop, scope, TOKEN],
  );
}

/** Every webhook of the store's history, applied to `shop` as the worker applies them (batches of 100, in order). */
export async function applyHistoryAsWebhooks(shop: string, store: SyntheticStore): Promise<number> {
  let batch: BatchEvent[] = [];
  let n = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    await withTransaction((db) => applyCrmBatch(db, shop, items));
  };
  for (const message of storeWebhooks(store.events())) {
    const mapped = mapWebhook(message.topic, toBody(message.payload));
    if (!mapped.ok) throw new Error(`${message.topic}: ${mapped.reason}`);
    batch.push({ inboxId: String(++n), event: mapped.event, eventTime: new Date(message.triggeredAt) });
    if (batch.length >= 100) await flush();
  }
  await flush();
  return n;
}

/** Applies single webhook payloads to `shop` (one batch). */
export async function applyWebhooks(shop: string, messages: { topic: string; payload: unknown; at: string }[]) {
  const items: BatchEvent[] = messages.map((m, i) => {
    const mapped = mapWebhook(m.topic, toBody(m.payload));
    if (!mapped.ok) throw new Error(`${m.topic}: ${mapped.reason}`);
    return { inboxId: String(900000 + i), event: mapped.event, eventTime: new Date(m.at) };
  });
  await withTransaction((db) => applyCrmBatch(db, shop, items));
}

// ---------------------------------------------------------------- snapshots of the CRM model

const addresses = (value: unknown) =>
  ((value as Record<string, unknown>[] | null) ?? []).map((a) => ({ ...a, address2: a.address2 === "" ? null : a.address2 }));

/**
 * One shop's customers as the CRM holds them, by gid. Email marketing state: the webhooks of a
 * never-subscribed customer send no consent event (null), the import reads not_subscribed.
 * shopify_updated_at is left out: the twin's order payloads embed the customer with the
 * order's updated_at (Shopify embeds the customer's own), so the webhooks move it and the
 * customer's own record does not.
 */
export async function customersOf(shop: string) {
  const { rows } = await getPool().query(
    `SELECT gid, email, first_name, last_name, phone, state, note, verified_email, country_code, province, city, addresses, tags,
            COALESCE(email_marketing_state, 'not_subscribed') AS email_marketing_state,
            orders_count, total_spent_minor, refunded_minor, aov_minor, aggregate_currency,
            first_order_at, last_order_at, shopify_created_at
       FROM customers WHERE shop = $1 ORDER BY gid`,
    [shop],
  );
  return new Map(rows.map((r) => [r.gid as string, { ...r, addresses: addresses(r.addresses) }]));
}

export async function ordersOf(shop: string) {
  const { rows } = await getPool().query(
    `SELECT gid, legacy_id, customer_gid, name, email, currency, total_price_minor, subtotal_minor, total_tax_minor, total_discounts_minor,
            shipping_minor, refunded_minor, financial_status, fulfillment_status, cancelled_at, cancel_reason, test, source_name, tags,
            discount_codes, shopify_created_at, shopify_updated_at, processed_at, closed_at
       FROM orders WHERE shop = $1 ORDER BY gid`,
    [shop],
  );
  return new Map(rows.map((r) => [r.gid as string, r]));
}

export async function lineItemsOf(shop: string) {
  const { rows } = await getPool().query(
    `SELECT gid, order_gid, product_gid, variant_gid, title, sku, vendor, quantity, price_minor, total_discount_minor, gift_card
       FROM line_items WHERE shop = $1 ORDER BY gid`,
    [shop],
  );
  return rows;
}

export async function refundsOf(shop: string) {
  const { rows } = await getPool().query(`SELECT gid, legacy_id, order_legacy_id, amount_minor, currency, refunded_at FROM refunds WHERE shop = $1 ORDER BY gid`, [shop]);
  return rows;
}

export async function productsOf(shop: string) {
  const { rows } = await getPool().query(`SELECT gid, title, product_type, vendor, status, tags FROM products WHERE shop = $1 ORDER BY gid`, [shop]);
  return rows;
}
