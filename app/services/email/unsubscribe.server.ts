// One-click unsubscribe (RFC 8058): the link in every message's List-Unsubscribe header and
// footer names its outbox row (links.server.ts); unsubscribing suppresses that row's address
// for that shop. A token that does not verify, or names a row that no longer exists (the shop
// was purged), unsubscribes nothing.
import { getPool } from "../../db.server";
import { logger } from "../../logger.server";
import { verifyUnsubscribeToken } from "./links.server";
import { suppressAddress, type SuppressionReason } from "./suppression.server";

export type UnsubscribeState =
  | { state: "invalid" }
  | { state: "unknown" }
  | { state: "ready"; shopName: string; suppressed: SuppressionReason | null }
  | { state: "unsubscribed"; shopName: string };

type Target = { id: string; shop: string; address: string | null; shopName: string; suppressed: SuppressionReason | null };

async function target(token: string): Promise<Target | "invalid" | "unknown"> {
  const id = verifyUnsubscribeToken(token);
  if (!id) return "invalid";
  const { rows } = await getPool().query<{ shop: string; to_address: string | null; name: string | null; reason: SuppressionReason | null }>(
    `SELECT o.shop, o.to_address, s.name, (SELECT reason::text FROM email_suppressions x WHERE x.shop = o.shop AND x.address_hash = encode(sha256(convert_to(o.to_address, 'UTF8')), 'hex')) AS reason
       FROM email_outbox o LEFT JOIN shops s ON s.domain = o.shop WHERE o.id = $1`,
    [id],
  );
  const r = rows[0];
  if (!r) return "unknown";
  // An erased address (customers/redact) is suppressed already.
  return { id, shop: r.shop, address: r.to_address, shopName: r.name ?? r.shop.replace(/\.myshopify\.com$/, ""), suppressed: r.to_address ? r.reason : "redacted" };
}

/** What the GET page shows (nothing changes). */
export async function lookUpUnsubscribe(token: string): Promise<UnsubscribeState> {
  const t = await target(token);
  if (typeof t === "string") return { state: t };
  return { state: "ready", shopName: t.shopName, suppressed: t.suppressed };
}

/** The POST (one-click or the page's button): suppresses the address, without confirmation. Idempotent. */
export async function unsubscribe(token: string): Promise<UnsubscribeState> {
  const t = await target(token);
  if (typeof t === "string") return { state: t };
  if (t.address) {
    const added = await suppressAddress(getPool(), { shop: t.shop, address: t.address, reason: "unsubscribed", detail: `link of email ${t.id}` });
    if (added) logger.info({ shop: t.shop, emailId: t.id }, "email.unsubscribed");
  }
  return { state: "unsubscribed", shopName: t.shopName };
}
