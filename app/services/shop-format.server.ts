// The shop's display settings for the admin pages: its locale (the Shopify admin passes
// `locale` in the embedded app's address), its IANA time zone and its currency. The time
// zone is Shopify's Shop.ianaTimezone, read once through the Admin API adapter and kept in
// shops."ianaTimezone"; until it can be read (no offline session yet, Shopify unreachable)
// pages use UTC and say so, and the next page load tries again (at most once a minute).
import { getPool, withTransaction } from "../db.server";
import { bumpSegmentsVersion, lockShopSegmentsExclusive } from "./segments/membership.server";
import { logger } from "../logger.server";
import { getShopifyAdmin } from "../shopify/admin-api.server";
import { DEFAULT_TIME_ZONE, createFormatter, isTimeZone, safeLocale, type FormatSettings, type Formatter } from "../domain/format";

export type ShopFormatSettings = { locale: string; timeZone: string; currency: string; timeZoneKnown: boolean };

const RETRY_AFTER_MS = 60_000;
const READ_TIMEOUT_MS = 3_000;
const lastFailure = new Map<string, number>();
// When the shop has no row yet (no webhook arrived), the zone read is kept in memory only.
const unstored = new Map<string, string>();

async function readShopTimeZone(shop: string): Promise<string | null> {
  const failedAt = lastFailure.get(shop);
  if (failedAt !== undefined && Date.now() - failedAt < RETRY_AFTER_MS) return null;
  try {
    // A page load waits for Shopify at most READ_TIMEOUT_MS; a slower answer is tried again later.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("Shopify did not answer in time")), READ_TIMEOUT_MS);
    });
    const { data } = await Promise.race([getShopifyAdmin(shop).then((admin) => admin.shopSettings()), timeout]).finally(() => clearTimeout(timer));
    if (!isTimeZone(data.ianaTimezone)) throw new Error("Shopify answered an unknown time zone");
    lastFailure.delete(shop);
    return data.ianaTimezone;
  } catch (error) {
    lastFailure.set(shop, Date.now());
    logger.warn({ shop, err: error instanceof Error ? { name: error.name, message: error.message } : String(error) }, "shop.time_zone_unavailable");
    return null;
  }
}

/** The shop's zone, reading and storing it on first use. */
export async function getShopTimeZone(shop: string): Promise<{ timeZone: string; known: boolean; currency: string | null }> {
  const pool = getPool();
  const { rows } = await pool.query<{ zone: string | null; currency: string | null }>(
    `SELECT "ianaTimezone" AS zone, "currencyCode" AS currency FROM shops WHERE domain = $1`,
    [shop],
  );
  const row = rows[0];
  if (row?.zone && isTimeZone(row.zone)) return { timeZone: row.zone, known: true, currency: row.currency };
  const cached = unstored.get(shop);
  if (!row && cached) return { timeZone: cached, known: true, currency: null };
  const zone = await readShopTimeZone(shop);
  if (!zone) return { timeZone: DEFAULT_TIME_ZONE, known: false, currency: row?.currency ?? null };
  if (row) {
    // Relative dates in segments resolve in this zone: compiled filters cached by any process are dropped (decision 047).
    await withTransaction(async (db) => {
      await db.query(`UPDATE shops SET "ianaTimezone" = $2, updated_at = now() WHERE domain = $1`, [shop, zone]);
      await lockShopSegmentsExclusive(db, shop);
      await bumpSegmentsVersion(db, shop);
    });
    unstored.delete(shop);
    logger.info({ shop, timeZone: zone }, "shop.time_zone_stored");
  } else {
    unstored.set(shop, zone);
  }
  return { timeZone: zone, known: true, currency: row?.currency ?? null };
}

/**
 * The locale the Shopify admin asked for (`?locale=fr`, on the document the admin opens), else
 * the browser's first language (navigations inside the app do not carry the admin's
 * parameter), else English.
 */
export function requestLocale(request: Request): string {
  const fromAdmin = new URL(request.url).searchParams.get("locale");
  if (fromAdmin) return safeLocale(fromAdmin);
  const first = request.headers.get("accept-language")?.split(",")[0]?.split(";")[0]?.trim();
  return safeLocale(first && first !== "*" ? first : null);
}

export async function getShopFormatSettings(shop: string, request: Request): Promise<ShopFormatSettings> {
  const { timeZone, known, currency } = await getShopTimeZone(shop);
  return { locale: requestLocale(request), timeZone, currency: currency ?? "USD", timeZoneKnown: known };
}

/** The formatter for this shop and request. */
export async function getShopFormatter(shop: string, request: Request): Promise<Formatter> {
  return createFormatter(await getShopFormatSettings(shop, request));
}

export type { FormatSettings, Formatter };
