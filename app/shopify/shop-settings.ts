// The shop's settings as the CRM keeps them (decision 047), from the Admin API's
// `shop { ... }` answer. (shop/update payloads are mapped in webhook-payloads.ts.) Pure.
import type { ShopSettingsInput } from "../domain/crm-events";
import type { ShopDetails } from "./admin-api.server";

export function shopSettingsFromDetails(details: ShopDetails): ShopSettingsInput {
  return {
    name: details.name,
    email: details.email,
    currencyCode: details.currencyCode,
    ianaTimezone: details.ianaTimezone,
    myshopifyDomain: details.myshopifyDomain,
    // The Admin API's answer is the shop as it is now: newer than any earlier shop/update.
    updatedAt: null,
    raw: { ...details },
  };
}
