// Who did something, in the merchant's words. Actions in the admin are recorded with the
// actor "shopify-user:<id>" (the session token's `sub`: Shopify's staff user id; the token
// carries no name). The app uses offline access tokens, so it learns a staff member's name
// only where an online session for that user is stored (Session.firstName / lastName);
// otherwise the page says "Staff member #<id>", which the merchant can match in Shopify's
// Settings > Users.

const USER_ACTOR = /^shopify-user:(\d{1,20})$/;

/** "shopify-user:1" -> "1"; anything else -> null. */
export function staffUserId(actor: string): string | null {
  return USER_ACTOR.exec(actor)?.[1] ?? null;
}

/** "shopify-user:1" -> "Ana Silva (staff member #1)" when the name is known, else "Staff member #1"; "merchant" -> "Store staff". */
export function staffLabel(actor: string, names: ReadonlyMap<string, string> = new Map()): string {
  const id = staffUserId(actor);
  if (id === null) return actor === "merchant" ? "Store staff" : actor;
  const name = names.get(id);
  return name ? `${name} (staff member #${id})` : `Staff member #${id}`;
}
