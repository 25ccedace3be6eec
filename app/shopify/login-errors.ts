// What the /auth/login form says when `login(request)` (app/shopify.server.ts) refuses the
// shop domain. The library answers with a LoginErrorType per field; the merchant reads a
// sentence. Pure: the route passes the library's result in.
import { LoginErrorType } from "@shopify/shopify-app-remix/server";

export type LoginResult = { shop?: LoginErrorType };
export type LoginErrors = { shop?: string };

const SHOP_MESSAGES: Record<LoginErrorType, string> = {
  [LoginErrorType.MissingShop]: "Enter your shop domain to log in.",
  [LoginErrorType.InvalidShop]: "Enter a valid shop domain, ending in .myshopify.com, to log in.",
};

/** The field errors to show for `login()`'s answer (empty when the form was only opened). */
export function loginErrorMessages(result: LoginResult): LoginErrors {
  return result.shop ? { shop: SHOP_MESSAGES[result.shop] ?? SHOP_MESSAGES[LoginErrorType.InvalidShop] } : {};
}
