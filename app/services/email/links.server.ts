// Links the email channel owns: the one-click unsubscribe link of every message.
//
// A token names the outbox row the message came from (`<row id>.<signature>`): no address or
// other personal data in the URL (mailbox providers, proxies and access logs see it), and the
// row says which shop and address to suppress. The signature is HMAC-SHA256 over a purpose
// label and the id, keyed with EMAIL_LINK_SECRET, or by default with a key derived from
// SHOPIFY_API_SECRET under its own label (so the key is never the webhook secret itself).
// Verification is constant-time; a token that does not verify names nothing.
import { createHmac, timingSafeEqual } from "node:crypto";
import { getEnv } from "../../env.server";

const PURPOSE = "crm-email-unsubscribe:v1:";
const SIGNATURE_BYTES = 16; // 128 bits, base64url: 22 characters

function linkKey(): Buffer {
  const env = getEnv();
  if (env.EMAIL_LINK_SECRET) return Buffer.from(env.EMAIL_LINK_SECRET, "utf8");
  return createHmac("sha256", env.SHOPIFY_API_SECRET).update("crm-email-link-key:v1").digest();
}

function signature(id: string): Buffer {
  return createHmac("sha256", linkKey()).update(PURPOSE + id).digest().subarray(0, SIGNATURE_BYTES);
}

/** The unsubscribe token for an outbox row. */
export function unsubscribeToken(outboxId: string): string {
  if (!/^[1-9][0-9]{0,18}$/.test(outboxId)) throw new Error(`invalid outbox id ${JSON.stringify(outboxId)}`);
  return `${outboxId}.${signature(outboxId).toString("base64url")}`;
}

/** The outbox row id a token names, or null when the token is malformed or its signature does not verify. */
export function verifyUnsubscribeToken(token: string): string | null {
  const match = /^([1-9][0-9]{0,18})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!match) return null;
  const [, id, sig] = match as unknown as [string, string, string];
  // Compared as text: 22 base64url characters carry 132 bits, so decoding first would let
  // the last character's 4 spare bits vary (several spellings of one signature).
  const given = Buffer.from(sig, "utf8");
  const expected = Buffer.from(signature(id).toString("base64url"), "utf8");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return id;
}

/** The public origin links point at (SHOPIFY_APP_URL, without a trailing slash). */
export function publicOrigin(): string {
  return getEnv().SHOPIFY_APP_URL.replace(/\/+$/, "");
}

export function unsubscribeUrl(outboxId: string): string {
  return `${publicOrigin()}/email/unsubscribe/${unsubscribeToken(outboxId)}`;
}

/** The From / envelope address: EMAIL_FROM_ADDRESS, or no-reply@<host of SHOPIFY_APP_URL>. */
export function fromAddress(): string {
  const env = getEnv();
  return env.EMAIL_FROM_ADDRESS ?? `no-reply@${new URL(env.SHOPIFY_APP_URL).hostname}`;
}

/**
 * The Message-ID of an outbox row: derived from the row alone, so a message re-sent after a
 * crash (SMTP accepted it, the row was not yet marked sent) carries the same Message-ID and
 * receiving systems can recognise the copy.
 */
export function messageIdFor(outboxId: string, shop: string): string {
  const tag = createHmac("sha256", "crm-email-message-id").update(shop).digest("hex").slice(0, 12);
  return `<crm-email.${outboxId}.${tag}@${fromAddress().split("@")[1]}>`;
}
