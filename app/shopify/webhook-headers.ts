// The delivery headers the HMAC does not cover, read defensively: whatever they hold,
// they must not fail the inbox write (a 503 that Shopify retries for hours) or put an
// event at a time it never had (docs/decisions/027-unsigned-webhook-headers.md).

/** Webhook and event ids: Shopify sends UUIDs; anything of visible ASCII up to 255 characters is accepted. */
const DELIVERY_ID = /^[\x21-\x7e]{1,255}$/;

/** True for a usable X-Shopify-Webhook-Id (the dedupe key) or X-Shopify-Event-Id. */
export function isDeliveryId(value: string | null | undefined): value is string {
  return typeof value === "string" && DELIVERY_ID.test(value);
}

/** ISO-8601 / RFC 3339 date-time with a zone, as Shopify sends it (2026-07-01T12:00:00.123Z, ...-04:00). */
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/** How far ahead of our clock a trigger time may be (clock skew) before it is distrusted. */
export const TRIGGERED_AT_MAX_SKEW_MS = 5 * 60_000;
/** Before any Shopify webhook existed. */
const EARLIEST = Date.UTC(2006, 0, 1);

/**
 * X-Shopify-Triggered-At as an exact ISO string for the inbox, or null (the worker then uses
 * the receipt time): null when the header is missing, not an ISO-8601 date-time with a zone
 * (Date.parse accepts "1" or "Dec 7", which PostgreSQL then refuses, failing the insert)
 * or a day the month does not have,
 * before 2006, or more than a few minutes ahead of `now` (a future time would make the event
 * look newer than later ones).
 */
export function parseTriggeredAt(value: string | null | undefined, now: Date): string | null {
  const match = typeof value === "string" && value.length <= 40 ? ISO_DATE_TIME.exec(value) : null;
  if (!match) return null;
  // A day the month does not have (Date.parse rolls 2026-02-30 over into March).
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return null;
  const time = Date.parse(match[0]);
  if (Number.isNaN(time) || time < EARLIEST || time > now.getTime() + TRIGGERED_AT_MAX_SKEW_MS) return null;
  return new Date(time).toISOString();
}
