// Customer facts the segment attributes of issue 16 read (decision 043), written in the apply
// step's transaction: SMS consent (customers_marketing_consent/update), the language (the
// customer_locale of the newest order or checkout), and checkouts (checkouts/create|update),
// which stay abandoned until completed or until an order names their token. Every write is
// keyed and guarded by Shopify's time, so re-sent and reordered events change nothing twice.
// A redacted customer gets none of them back (docs/privacy.md).
import type { PoolClient } from "pg";
import type { CheckoutInput, OrderInput } from "../domain/crm-events";

type Db = Pick<PoolClient, "query">;

export async function applySmsConsent(
  db: Db,
  shop: string,
  event: { customerGid: string; state: string | null; optInLevel: string | null; consentUpdatedAt: Date | null },
  eventTime: Date,
): Promise<void> {
  const at = event.consentUpdatedAt ?? eventTime;
  await db.query(
    `UPDATE customers SET sms_marketing_state = $3, sms_opt_in_level = $4, sms_consent_at = $5, updated_at = now()
      WHERE shop = $1 AND gid = $2 AND redacted_at IS NULL AND (sms_consent_at IS NULL OR sms_consent_at <= $5)`,
    [shop, event.customerGid, event.state, event.optInLevel, at],
  );
}

/** The newest locale per customer of these (customer, locale, time) facts, written where newer than the stored one. */
async function writeLocales(db: Db, shop: string, facts: readonly { customerGid: string; locale: string; at: Date }[]): Promise<void> {
  const newest = new Map<string, { locale: string; at: Date }>();
  for (const f of facts) {
    const current = newest.get(f.customerGid);
    if (!current || current.at.getTime() <= f.at.getTime()) newest.set(f.customerGid, { locale: f.locale, at: f.at });
  }
  if (newest.size === 0) return;
  const gids = [...newest.keys()];
  await db.query(
    `UPDATE customers c SET locale = x.locale, locale_at = x.at, updated_at = now()
       FROM unnest($2::text[], $3::text[], $4::timestamptz[]) AS x(gid, locale, at)
      WHERE c.shop = $1 AND c.gid = x.gid AND c.redacted_at IS NULL AND (c.locale_at IS NULL OR c.locale_at <= x.at)`,
    [shop, gids, gids.map((g) => newest.get(g)!.locale), gids.map((g) => newest.get(g)!.at)],
  );
}

/**
 * customers.abandoned_checkout_at (abandoned_checkout_date) from the checkouts table: the last
 * update of the customer's newest checkout that is neither completed nor ordered.
 */
async function refreshAbandonedCheckouts(db: Db, shop: string, customerGids: readonly (string | null)[]): Promise<void> {
  const gids = [...new Set(customerGids.filter((g): g is string => g !== null))].sort();
  if (gids.length === 0) return;
  await db.query(
    `UPDATE customers c SET abandoned_checkout_at = x.at, updated_at = now()
       FROM (SELECT g.gid, (SELECT max(k.shopify_updated_at) FROM checkouts k
                             WHERE k.shop = $1 AND k.customer_gid = g.gid AND k.completed_at IS NULL AND k.order_gid IS NULL) AS at
               FROM unnest($2::text[]) AS g(gid)) AS x
      WHERE c.shop = $1 AND c.gid = x.gid AND c.redacted_at IS NULL AND c.abandoned_checkout_at IS DISTINCT FROM x.at`,
    [shop, gids],
  );
}

/**
 * A checkout's newest state. An order that named its token first left a row with `order_gid`
 * (and no Shopify times): the checkout fills it in and stays closed.
 */
export async function applyCheckout(db: Db, shop: string, checkout: CheckoutInput): Promise<void> {
  if (checkout.customerGid) {
    const { rows } = await db.query<{ redacted: boolean }>(`SELECT redacted_at IS NOT NULL AS redacted FROM customers WHERE shop = $1 AND gid = $2`, [shop, checkout.customerGid]);
    if (rows[0]?.redacted) return;
  }
  const { rows: before } = await db.query<{ customer_gid: string | null }>(`SELECT customer_gid FROM checkouts WHERE shop = $1 AND token = $2`, [shop, checkout.token]);
  await db.query(
    `INSERT INTO checkouts (shop, token, customer_gid, shopify_created_at, shopify_updated_at, completed_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (shop, token) DO UPDATE SET
       customer_gid = COALESCE(EXCLUDED.customer_gid, checkouts.customer_gid),
       shopify_created_at = COALESCE(EXCLUDED.shopify_created_at, checkouts.shopify_created_at),
       shopify_updated_at = EXCLUDED.shopify_updated_at,
       completed_at = COALESCE(EXCLUDED.completed_at, checkouts.completed_at),
       updated_at = now()
     WHERE checkouts.shopify_updated_at IS NULL OR checkouts.shopify_updated_at <= EXCLUDED.shopify_updated_at`,
    [shop, checkout.token, checkout.customerGid, checkout.createdAt, checkout.updatedAt, checkout.completedAt],
  );
  await refreshAbandonedCheckouts(db, shop, [checkout.customerGid, before[0]?.customer_gid ?? null]);
  if (checkout.customerGid && checkout.locale) await writeLocales(db, shop, [{ customerGid: checkout.customerGid, locale: checkout.locale, at: checkout.updatedAt }]);
}

/**
 * What orders tell about their customers beyond the order itself: their checkouts are no
 * longer abandoned, and the buyer's locale is the customer's language. `orders` as written
 * (a redacted customer's order has no customer any more).
 */
export async function applyOrderFacts(db: Db, shop: string, orders: readonly OrderInput[]): Promise<void> {
  const closing = orders.filter((o) => o.checkoutToken);
  if (closing.length > 0) {
    const byToken = new Map(closing.map((o) => [o.checkoutToken as string, o.gid]));
    const { rows } = await db.query<{ customer_gid: string | null }>(
      `INSERT INTO checkouts (shop, token, order_gid)
       SELECT $1, t, g FROM unnest($2::text[], $3::text[]) AS x(t, g)
       ON CONFLICT (shop, token) DO UPDATE SET order_gid = EXCLUDED.order_gid, updated_at = now()
       WHERE checkouts.order_gid IS DISTINCT FROM EXCLUDED.order_gid
       RETURNING customer_gid`,
      [shop, [...byToken.keys()], [...byToken.values()]],
    );
    await refreshAbandonedCheckouts(db, shop, rows.map((r) => r.customer_gid));
  }
  await writeLocales(
    db,
    shop,
    orders.flatMap((o) => (o.customer && o.customerLocale ? [{ customerGid: o.customer.gid, locale: o.customerLocale, at: o.createdAt }] : [])),
  );
}
