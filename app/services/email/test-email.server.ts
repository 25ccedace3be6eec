// A test email (category "test") to any address, with the shop's settings and, when a
// customer is named, that customer's first name, latest order and its products: what the
// email settings page's "Send a test email" and `npm run demo` send. Not frequency-capped;
// suppressed addresses still get nothing.
import { randomUUID } from "node:crypto";
import { renderTestEmail } from "../../emails/test-email";
import type { Queryable } from "../../db.server";
import { queueEmail, type QueueEmailResult } from "./outbox.server";
import { getShopEmailSettings } from "./settings.server";

export async function queueTestEmail(db: Queryable, input: { shop: string; to: string; customerGid?: string | null }): Promise<QueueEmailResult> {
  const settings = await getShopEmailSettings(db, input.shop);
  const shopRow = await db.query<{ name: string | null }>(`SELECT name FROM shops WHERE domain = $1`, [input.shop]);
  const shopName = shopRow.rows[0]?.name ?? input.shop.replace(/\.myshopify\.com$/, "");
  let firstName: string | null = null;
  let orderName: string | null = null;
  let products: { title: string; imageUrl: string | null; url: string | null }[] = [];
  if (input.customerGid) {
    const c = await db.query<{ first_name: string | null }>(`SELECT first_name FROM customers WHERE shop = $1 AND gid = $2`, [input.shop, input.customerGid]);
    firstName = c.rows[0]?.first_name ?? null;
    const o = await db.query<{ gid: string; name: string | null }>(
      `SELECT gid, name FROM orders WHERE shop = $1 AND customer_gid = $2 ORDER BY processed_at DESC NULLS LAST, id DESC LIMIT 1`,
      [input.shop, input.customerGid],
    );
    if (o.rows[0]) {
      orderName = o.rows[0].name;
      const items = await db.query<{ title: string }>(`SELECT DISTINCT title FROM line_items WHERE shop = $1 AND order_gid = $2 ORDER BY title LIMIT 5`, [input.shop, o.rows[0].gid]);
      products = items.rows.map((i) => ({ title: i.title, imageUrl: null, url: null }));
    }
  }
  return queueEmail(db, {
    shop: input.shop,
    customerGid: input.customerGid ?? null,
    to: input.to,
    category: "test",
    idempotencyKey: `test:${randomUUID()}`,
    render: ({ unsubscribeUrl }) => renderTestEmail({ shopName, settings, firstName, orderName, products, unsubscribeUrl }),
  });
}
