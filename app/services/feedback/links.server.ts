// Signed, expiring answer links (decision 031): `/feedback/<requestId>.<expires>.<signature>`,
// the signature an HMAC-SHA256 over the shop, the request id and the expiry (unix seconds).
// The key is FEEDBACK_LINK_SECRET, or else derived from SHOPIFY_API_SECRET with HKDF and a
// purpose label, so the Shopify secret itself never signs anything but Shopify's own checks.
// A link can neither be pointed at another request (of this shop or another) nor extended.
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { getEnv } from "../../env.server";

const PURPOSE = "crm/feedback-answer-link/v1";
const TOKEN = /^(\d{1,18})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

let cachedKey: { source: string; key: Buffer } | undefined;

function linkKey(): Buffer {
  const env = getEnv();
  const source = env.FEEDBACK_LINK_SECRET ?? `shopify:${env.SHOPIFY_API_SECRET}`;
  if (cachedKey?.source !== source) {
    const key = env.FEEDBACK_LINK_SECRET
      ? createHmac("sha256", env.FEEDBACK_LINK_SECRET).update(PURPOSE).digest()
      : Buffer.from(hkdfSync("sha256", env.SHOPIFY_API_SECRET, Buffer.alloc(0), PURPOSE, 32));
    cachedKey = { source, key };
  }
  return cachedKey.key;
}

function signature(shop: string, requestId: string, expiresSeconds: number): string {
  return createHmac("sha256", linkKey()).update(`${shop}\n${requestId}\n${expiresSeconds}`).digest("base64url");
}

/** The token for a request's answer link; its expiry is rounded down to the second. */
export function signFeedbackToken({ shop, requestId, expiresAt }: { shop: string; requestId: string; expiresAt: Date }): string {
  const expires = Math.floor(expiresAt.getTime() / 1000);
  return `${requestId}.${expires}.${signature(shop, requestId, expires)}`;
}

export function feedbackLinkUrl(token: string): string {
  return new URL(`/feedback/${token}`, getEnv().SHOPIFY_APP_URL).toString();
}

/** The parts of a token that looks well-formed (not yet verified), or null. */
export function parseFeedbackToken(token: string): { requestId: string; expiresSeconds: number; signature: string } | null {
  const match = TOKEN.exec(token);
  if (!match) return null;
  return { requestId: match[1]!, expiresSeconds: Number(match[2]), signature: match[3]! };
}

export type TokenCheck = { ok: true; requestId: string; expiresAt: Date } | { ok: false; reason: "malformed" | "forged" | "expired" };

/**
 * Verifies a token against the shop its request belongs to (the caller looks the request up
 * by the token's id first). The signature is checked before the expiry, so an expired answer
 * is only ever given for a link the app issued.
 */
export function verifyFeedbackToken(token: string, shop: string, now: Date): TokenCheck {
  const parts = parseFeedbackToken(token);
  if (!parts) return { ok: false, reason: "malformed" };
  const expected = Buffer.from(signature(shop, parts.requestId, parts.expiresSeconds));
  const given = Buffer.from(parts.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: "forged" };
  const expiresAt = new Date(parts.expiresSeconds * 1000);
  if (expiresAt.getTime() <= now.getTime()) return { ok: false, reason: "expired" };
  return { ok: true, requestId: parts.requestId, expiresAt };
}
