// Seeds one store for the admin UI tests through the real pipeline: signed webhooks
// into receiveWebhook, applied by the in-process worker (the caller starts it). Then
// adds what webhooks cannot produce on demand: dead-lettered and pending inbox rows,
// and the offline session that lets authenticate.admin run without Shopify.
import { receiveWebhook } from "../../app/services/webhook-ingress.server";
import { getPool } from "../../app/db.server";
import { getEnv } from "../../app/env.server";
import { customerPayload, orderPayload, productPayload, refundPayload, toBody, type CustomerSpec } from "./factories";
import { webhookRequest } from "./webhooks";
import { waitForInboxSettled } from "./pipeline";

async function send(shop: string, topic: string, payload: unknown): Promise<void> {
  const response = await receiveWebhook(webhookRequest({ topic, body: toBody(payload), shop }));
  if (response.status !== 200) throw new Error(`seed webhook ${topic} answered ${response.status}: ${await response.text()}`);
}

export const SEEDED = {
  ana: { id: 7001001n, firstName: "Ana", lastName: "Silva", email: "ana.silva@example.com", createdAt: "2025-10-01T09:00:00Z" },
  beatriz: { id: 7001002n, firstName: "Beatriz", lastName: "Costa", email: "beatriz.costa@example.com", phone: "+14155550123", createdAt: "2025-09-12T09:00:00Z" },
  deleted: { id: 7001003n, firstName: "Carla", lastName: "Gone", email: "carla.gone@example.com" },
  redacted: { id: 7001004n, firstName: "Diego", lastName: "Erased", email: "diego.erased@example.com" },
  /** Arrives only through the replay of dead-lettered events. */
  replayed: { id: 7001005n, firstName: "Elena", lastName: "Replay", email: "elena.replay@example.com" },
  fillerCount: 26,
  orders: {
    beatrizFirst: { id: 7102001n, name: "#1003" },
    beatrizCancelled: { id: 7102002n, name: "#1004" },
    beatrizRefunded: { id: 7102003n, name: "#1005", refundId: 7202003n },
    beatrizTest: { id: 7102004n, name: "#1006" },
    anaRefunded: { id: 7101002n, name: "#1002", refundId: 7201002n },
  },
} satisfies Record<string, unknown>;

export type SeededInbox = { deadIds: string[]; pendingId: string };

/** Customers, orders, a refund, a cancellation, a test order, tags, consent, a deleted and a redacted customer. */
export async function seedStoreThroughWebhooks(shop: string): Promise<void> {
  const { ana, beatriz, deleted, redacted, orders } = SEEDED;
  const fillers: CustomerSpec[] = Array.from({ length: SEEDED.fillerCount }, (_, i) => ({
    id: 7003000n + BigInt(i),
    firstName: `Filler${String(i + 1).padStart(2, "0")}`,
    lastName: "Shopper",
    email: `filler${i + 1}@example.com`,
  }));

  // 1. Customers.
  for (const c of [ana, beatriz, deleted, redacted, ...fillers]) await send(shop, "customers/create", customerPayload(c));
  await waitForInboxSettled();

  // 2. Orders.
  const creates = [
    orderPayload({ id: 7101001n, name: "#1001", customer: ana, totalPrice: "120.00", createdAt: "2026-01-10T14:00:00Z" }),
    orderPayload({ id: orders.anaRefunded.id, name: orders.anaRefunded.name, customer: ana, totalPrice: "80.00", createdAt: "2026-02-03T11:30:00Z" }),
    orderPayload({ id: orders.beatrizFirst.id, name: orders.beatrizFirst.name, customer: beatriz, totalPrice: "50.00", createdAt: "2025-12-01T16:45:00Z" }),
    orderPayload({ id: orders.beatrizCancelled.id, name: orders.beatrizCancelled.name, customer: beatriz, totalPrice: "75.00", createdAt: "2026-01-15T10:00:00Z" }),
    orderPayload({
      id: orders.beatrizRefunded.id,
      name: orders.beatrizRefunded.name,
      customer: beatriz,
      totalPrice: "200.00",
      createdAt: "2026-02-10T08:15:00Z",
      lines: [
        { price: "120.00", title: "Alpaca Throw" },
        { price: "80.00", title: "Merino Crew Sock", quantity: 1 },
      ],
    }),
    orderPayload({ id: orders.beatrizTest.id, name: orders.beatrizTest.name, customer: beatriz, totalPrice: "10.00", createdAt: "2026-02-11T12:00:00Z", test: true }),
    orderPayload({ id: 7104001n, name: "#1010", customer: redacted, totalPrice: "45.00", createdAt: "2026-01-20T12:00:00Z" }),
    ...fillers.map((c, i) =>
      orderPayload({ id: 7105000n + BigInt(i), name: `#${2000 + i}`, customer: c, totalPrice: `${10 + i}.50`, createdAt: `2025-06-${String(i + 1).padStart(2, "0")}T10:00:00Z` }),
    ),
  ];
  for (const order of creates) await send(shop, "orders/create", order);
  await waitForInboxSettled();

  // 3. A cancellation and two partial refunds (refunds/create plus the order update Shopify sends with it).
  await send(
    shop,
    "orders/cancelled",
    orderPayload({
      id: orders.beatrizCancelled.id,
      name: orders.beatrizCancelled.name,
      customer: beatriz,
      totalPrice: "75.00",
      createdAt: "2026-01-15T10:00:00Z",
      updatedAt: "2026-01-16T09:05:00Z",
      cancelledAt: "2026-01-16T09:05:00Z",
      financialStatus: "voided",
    }),
  );
  const beatrizRefund = { id: orders.beatrizRefunded.refundId, orderId: orders.beatrizRefunded.id, amount: "30.00", createdAt: "2026-02-12T15:20:00Z" };
  const anaRefund = { id: orders.anaRefunded.refundId, orderId: orders.anaRefunded.id, amount: "20.00", createdAt: "2026-02-05T09:00:00Z" };
  await send(shop, "refunds/create", refundPayload(beatrizRefund));
  await send(shop, "refunds/create", refundPayload(anaRefund));
  await send(
    shop,
    "orders/updated",
    orderPayload({
      id: orders.beatrizRefunded.id,
      name: orders.beatrizRefunded.name,
      customer: beatriz,
      totalPrice: "200.00",
      createdAt: "2026-02-10T08:15:00Z",
      updatedAt: "2026-02-12T15:20:00Z",
      financialStatus: "partially_refunded",
      lines: [
        { price: "120.00", title: "Alpaca Throw" },
        { price: "80.00", title: "Merino Crew Sock", quantity: 1 },
      ],
      refunds: [beatrizRefund],
    }),
  );
  await send(
    shop,
    "orders/updated",
    orderPayload({
      id: orders.anaRefunded.id,
      name: orders.anaRefunded.name,
      customer: ana,
      totalPrice: "80.00",
      createdAt: "2026-02-03T11:30:00Z",
      updatedAt: "2026-02-05T09:00:00Z",
      financialStatus: "partially_refunded",
      refunds: [anaRefund],
    }),
  );

  // 4. Tags, marketing consent, a deleted and a redacted customer.
  await send(shop, "customer.tags_added", { customerId: `gid://shopify/Customer/${beatriz.id}`, tags: ["vip", "wholesale"], occurredAt: "2026-02-01T10:00:00Z" });
  await send(shop, "customers_email_marketing_consent/update", {
    customer_id: beatriz.id,
    email_address: beatriz.email,
    email_marketing_consent: { state: "subscribed", opt_in_level: "single_opt_in", consent_updated_at: "2026-01-02T10:00:00Z" },
  });
  await send(shop, "customers/delete", { id: deleted.id, admin_graphql_api_id: `gid://shopify/Customer/${deleted.id}` });
  await send(shop, "customers/redact", {
    shop_id: 954889,
    shop_domain: shop,
    customer: { id: redacted.id, email: redacted.email, phone: null },
    orders_to_redact: [7104001n],
  });
  await waitForInboxSettled();
}

/** Two dead-lettered events (valid payloads, so a replay applies them) and one stuck pending event. */
export async function seedInboxProblems(shop: string): Promise<SeededInbox> {
  const { replayed } = SEEDED;
  const insert = `INSERT INTO webhook_events (shop, webhook_id, event_id, topic, api_version, received_at, payload, status, attempts, last_error)
    VALUES ($1, $2, $3, $4, '2026-07', now() - $5::interval, $6, $7::"WebhookStatus", $8, $9) RETURNING id`;
  const pool = getPool();
  const dead1 = await pool.query<{ id: string }>(insert, [
    shop, "seed-dead-customer", "seed-evt-1", "customers/update", "3 hours", toBody(customerPayload(replayed)), "dead", 8,
    "connect ECONNREFUSED 10.0.0.5:5432 (database unavailable while applying)",
  ]);
  const dead2 = await pool.query<{ id: string }>(insert, [
    shop, "seed-dead-order", "seed-evt-2", "orders/create", "2 hours",
    toBody(orderPayload({ id: 7106001n, name: "#1099", customer: replayed, totalPrice: "64.00", createdAt: "2026-02-14T10:00:00Z" })),
    "dead", 8, "deadlock detected",
  ]);
  const pending = await pool.query<{ id: string }>(insert, [
    shop, "seed-pending-product", "seed-evt-3", "products/update", "4 minutes", toBody(productPayload({ id: 8012345678901n })), "received", 0, null,
  ]);
  return { deadIds: [dead1.rows[0]!.id, dead2.rows[0]!.id], pendingId: pending.rows[0]!.id };
}

/** Another store's customer and dead letter, which the first store's pages must never show or touch. */
export async function seedOtherStore(shop: string): Promise<{ deadId: string }> {
  const other = { id: 7009001n, firstName: "Zed", lastName: "Otherstore", email: "zed@other.example.com" };
  await send(shop, "customers/create", customerPayload(other));
  await send(shop, "orders/create", orderPayload({ id: 7109001n, name: "#9001", customer: other, totalPrice: "999.00", createdAt: "2026-03-01T10:00:00Z" }));
  await waitForInboxSettled();
  const { rows } = await getPool().query<{ id: string }>(
    `INSERT INTO webhook_events (shop, webhook_id, topic, api_version, payload, status, attempts, last_error)
     VALUES ($1, 'seed-other-dead', 'customers/update', '2026-07', $2, 'dead', 8, 'other store failure') RETURNING id`,
    [shop, toBody(customerPayload(other))],
  );
  return { deadId: rows[0]!.id };
}

/** The offline session authenticate.admin loads, so no token exchange (no network) is needed. */
export async function storeOfflineSession(shop: string): Promise<void> {
  await getPool().query(
    `INSERT INTO "Session" (id, shop, state, "isOnline", scope, "accessToken") VALUES ($1, $2, '', false, $3, $4)
     ON CONFLICT (id) DO UPDATE SET scope = EXCLUDED.scope, "accessToken" = EXCLUDED."accessToken"`,
    [`offline_${shop}`, shop, getEnv().SCOPES, "shpat_e2e_offline_token"],
  );
}

/** The shop's time zone as the app stores it after reading Shopify's Shop.ianaTimezone (creates the shop row if needed). */
export async function storeShopTimeZone(shop: string, timeZone: string): Promise<void> {
  await getPool().query(
    `INSERT INTO shops (domain, "ianaTimezone") VALUES ($1, $2) ON CONFLICT (domain) DO UPDATE SET "ianaTimezone" = EXCLUDED."ianaTimezone"`,
    [shop, timeZone],
  );
}

export async function eventStatuses(ids: string[]): Promise<Record<string, string>> {
  const { rows } = await getPool().query<{ id: string; status: string }>(`SELECT id, status::text FROM webhook_events WHERE id = ANY($1::bigint[])`, [ids]);
  return Object.fromEntries(rows.map((r) => [r.id, r.status]));
}
