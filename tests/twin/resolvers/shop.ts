// The shop (shop { ... }) and the calling app's installation (currentAppInstallation).
import type { ShopState } from "../admin-state";
import { gid, type ResolverMap, type TwinContext } from "./shared";

/** Offset of a time zone at a moment, in minutes east of UTC (America/New_York in January: -300). */
export function zoneOffsetMinutes(timeZone: string, atMs: number): number {
  const name = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" }).formatToParts(atMs).find((p) => p.type === "timeZoneName")?.value ?? "GMT";
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

const abbreviation = (timeZone: string, atMs: number) =>
  new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "short" }).formatToParts(atMs).find((p) => p.type === "timeZoneName")?.value ?? "UTC";

/** Every scope the twin knows how to grant, for a caller with all scopes (a custom app's token). */
const ALL_SCOPES = [
  "read_customers",
  "write_customers",
  "read_orders",
  "write_orders",
  "read_all_orders",
  "read_products",
  "write_products",
  "read_discounts",
  "write_discounts",
  "write_app_proxy",
];

export const shopResolvers: ResolverMap = {
  QueryRoot: {
    shop: (_s, _a, ctx) => ctx.shop,
    currentAppInstallation: (_s, _a, ctx: TwinContext) => ({
      id: gid("AppInstallation", ctx.appId),
      accessScopes: (ctx.caller.scopes ?? ALL_SCOPES).map((handle) => ({ handle, description: handle.replace(/_/g, " ") })),
    }),
  },
  Shop: {
    id: (s: ShopState) => gid("Shop", s.shopId),
    myshopifyDomain: (s: ShopState) => s.domain,
    currencyCode: (s: ShopState) => s.currency,
    ianaTimezone: (s: ShopState) => s.ianaTimezone,
    contactEmail: (s: ShopState) => s.email,
    updatedAt: (s: ShopState) => s.createdAt,
    url: (s: ShopState) => `https://${s.domain}`,
    primaryDomain: (s: ShopState) => ({ id: gid("Domain", s.shopId), host: s.domain, url: `https://${s.domain}` }),
    enabledPresentmentCurrencies: (s: ShopState) => [s.currency],
    currencyFormats: (s: ShopState) => ({
      moneyFormat: s.currency === "USD" ? "${{amount}}" : `{{amount}} ${s.currency}`,
      moneyInEmailsFormat: s.currency === "USD" ? "${{amount}}" : `{{amount}} ${s.currency}`,
      moneyWithCurrencyFormat: s.currency === "USD" ? "${{amount}} USD" : `{{amount}} ${s.currency}`,
      moneyWithCurrencyInEmailsFormat: s.currency === "USD" ? "${{amount}} USD" : `{{amount}} ${s.currency}`,
    }),
    plan: () => ({ partnerDevelopment: true, publicDisplayName: "Development", shopifyPlus: false }),
    timezoneAbbreviation: (s: ShopState) => abbreviation(s.ianaTimezone, s.now()),
    timezoneOffsetMinutes: (s: ShopState) => zoneOffsetMinutes(s.ianaTimezone, s.now()),
    timezoneOffset: (s: ShopState) => {
      const m = zoneOffsetMinutes(s.ianaTimezone, s.now());
      const a = Math.abs(m);
      return `${m < 0 ? "-" : "+"}${String(Math.floor(a / 60)).padStart(2, "0")}${String(a % 60).padStart(2, "0")}`;
    },
    weightUnit: () => "KILOGRAMS",
  },
};
