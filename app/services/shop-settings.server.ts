// The shop's own settings (decision 047): name, contact email, currency and IANA time zone,
// stored in the shops row on connect and install (Admin API `shop { ... }`) and kept current
// by the shop/update webhook. The time zone is what relative dates in segments resolve in
// (app/services/segments/zone.server.ts), and what the admin formats with.
import type { PoolClient } from "pg";
import type { ShopSettingsInput } from "../domain/crm-events";
import { isTimeZone } from "../domain/format";
import { logger } from "../logger.server";
import { bumpSegmentsVersion, lockShopSegmentsExclusive } from "./segments/membership.server";

type Db = Pick<PoolClient, "query">;

export type StoredShopSettings = { stored: boolean; zoneChanged: boolean; timeZone: string | null };

/**
 * Upserts the shop's settings unless the stored version is newer (settings_updated_at).
 * An unknown time zone is not stored (the previous one stays). When the zone changes, the
 * shop's compiled segment filters are invalidated (their relative dates resolve in the zone):
 * the segment definitions version is bumped under the exclusive segment lock, in the
 * caller's transaction.
 */
export async function storeShopSettings(
  db: Db,
  shop: string,
  settings: ShopSettingsInput,
  options: { eventTime?: Date; connectedVia?: "install" | "token" } = {},
): Promise<StoredShopSettings> {
  const zone = isTimeZone(settings.ianaTimezone) ? settings.ianaTimezone : null;
  if (settings.ianaTimezone && !zone) logger.warn({ shop, timeZone: settings.ianaTimezone }, "shop.time_zone_unknown");
  const versionAt = settings.updatedAt ?? options.eventTime ?? new Date();
  // The previous zone, read under the row lock the upsert takes.
  await db.query(`INSERT INTO shops (domain) VALUES ($1) ON CONFLICT (domain) DO NOTHING`, [shop]);
  const { rows: before } = await db.query<{ zone: string | null; at: Date | null }>(
    `SELECT "ianaTimezone" AS zone, settings_updated_at AS at FROM shops WHERE domain = $1 FOR UPDATE`,
    [shop],
  );
  const previous = before[0];
  if (previous?.at && settings.updatedAt && previous.at.getTime() > settings.updatedAt.getTime()) {
    logger.info({ shop, storedAt: previous.at, payloadAt: settings.updatedAt }, "shop.settings_stale");
    return { stored: false, zoneChanged: false, timeZone: previous.zone };
  }
  await db.query(
    `UPDATE shops SET name = COALESCE($2, name), email = COALESCE($3, email), "currencyCode" = COALESCE($4, "currencyCode"),
            "ianaTimezone" = COALESCE($5, "ianaTimezone"), settings = $6::jsonb, settings_updated_at = $7,
            connected_via = COALESCE($8, connected_via), updated_at = now()
      WHERE domain = $1`,
    [shop, settings.name, settings.email, settings.currencyCode, zone, JSON.stringify(settings.raw), versionAt, options.connectedVia ?? null],
  );
  const zoneChanged = zone !== null && zone !== (previous?.zone ?? null);
  if (zoneChanged) {
    await lockShopSegmentsExclusive(db, shop);
    await bumpSegmentsVersion(db, shop);
    logger.info({ shop, from: previous?.zone ?? null, to: zone }, "shop.time_zone_changed");
  }
  return { stored: true, zoneChanged, timeZone: zone ?? previous?.zone ?? null };
}

/** The shop's time zone for relative dates: the stored one, else UTC (with `known: false`). */
export async function shopTimeZoneOrUtc(db: Db, shop: string): Promise<{ timeZone: string; known: boolean }> {
  const { rows } = await db.query<{ zone: string | null }>(`SELECT "ianaTimezone" AS zone FROM shops WHERE domain = $1`, [shop]);
  const zone = rows[0]?.zone;
  return isTimeZone(zone) ? { timeZone: zone, known: true } : { timeZone: "UTC", known: false };
}
