// The app proxy's gate (PLATFORM.md 5.2-5.3): a storefront request reaches the app as
// {application_url}/proxy/...?shop&logged_in_customer_id&path_prefix&timestamp&signature.
// `authenticate.public.appProxy` (the Shopify package) checks the signature, Shopify's
// algorithm including its 90 s timestamp window and the refusal of a repeated shop,
// signature, timestamp or hmac; then the app's own checks: a *.myshopify.com shop that has
// installed the app (it has an offline session), a signed-in customer, and no other customer
// named anywhere in the request. The customer is only ever the signed
// `logged_in_customer_id`. Every refusal is a JSON error the storefront block can show.
import { logger } from "../logger.server";
import { authenticate } from "../shopify.server";
import { isShopDomain } from "./shop-domain";

/** Shopify's (and @shopify/shopify-api's) tolerance on the signed timestamp. */
export const APP_PROXY_TIMESTAMP_TOLERANCE_S = 90;
const SINGLE_VALUE_PARAMS = ["shop", "signature", "timestamp", "hmac"] as const;
/** Names a storefront script (or a shopper editing the URL) might use to name a customer. */
export const CLAIMED_CUSTOMER_PARAMS = ["customer_id", "customerId", "customer", "customer_gid", "customerGid"] as const;

export type AppProxyCustomer = {
  shop: string;
  /** The signed `logged_in_customer_id`, e.g. "7234567890123". */
  customerId: string;
  customerGid: string;
};

export type ProxyErrorCode =
  | "invalid_signature"
  | "unknown_shop"
  | "not_installed"
  | "signed_out"
  | "wrong_customer"
  | "invalid_request"
  | "unsupported_media_type"
  | "no_program"
  | "unknown_customer"
  | "unknown_reward"
  | "not_enough_points"
  | "redemption_failed"
  | "redemption_pending"
  | "conflict"
  | "method_not_allowed"
  | "payload_too_large"
  | "server_error";

/** Personal data: never cached by Shopify's proxy, a CDN or the browser. */
export const PROXY_RESPONSE_HEADERS = { "cache-control": "private, no-store", "content-type": "application/json; charset=utf-8" } as const;

export function proxyJson(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: PROXY_RESPONSE_HEADERS });
}

/** The JSON error every refusal answers with: `{ error, message }`. */
export function proxyError(status: number, error: ProxyErrorCode, message: string): Response {
  return proxyJson({ error, message }, status);
}

/**
 * Why the Shopify package refused a query, for the error message only (the package decides):
 * a missing signature, a missing, non-integer or out-of-window timestamp, or a repeated
 * single-value parameter; otherwise the signature does not match (tampered, wrong secret).
 */
export function explainRejectedProxyQuery(params: URLSearchParams, nowSeconds: number): string {
  for (const name of SINGLE_VALUE_PARAMS) {
    if (params.getAll(name).length > 1) return `the query parameter "${name}" appears more than once`;
  }
  if (!params.get("signature")) return "the request has no signature: it did not come through the Shopify app proxy";
  const timestamp = params.get("timestamp");
  if (timestamp === null || !/^-?\d+$/.test(timestamp)) return "the signed timestamp is missing or not a whole number of seconds";
  const skew = nowSeconds - Number(timestamp);
  if (skew > APP_PROXY_TIMESTAMP_TOLERANCE_S) return `the signed timestamp is ${skew} s old (at most ${APP_PROXY_TIMESTAMP_TOLERANCE_S} s are accepted)`;
  if (-skew > APP_PROXY_TIMESTAMP_TOLERANCE_S) return `the signed timestamp is ${-skew} s in the future (at most ${APP_PROXY_TIMESTAMP_TOLERANCE_S} s are accepted)`;
  return "the signature does not match the query";
}

/** "7234567890123" or "gid://shopify/Customer/7234567890123" -> the numeric id; anything else null. */
export function customerIdOf(value: unknown): string | null {
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value !== "string") return null;
  const match = /^(?:gid:\/\/shopify\/Customer\/)?([1-9]\d{0,19})$/.exec(value.trim());
  return match ? match[1]! : null;
}

/**
 * Refuses (throws a JSON 403) when `claimed` names a customer other than the signed one. A
 * claim equal to the signed customer is harmless; a blank claim is ignored.
 */
export function requireSameCustomer(proxy: AppProxyCustomer, claimed: unknown, where: string): void {
  if (claimed === undefined || claimed === null || claimed === "") return;
  if (customerIdOf(claimed) === proxy.customerId) return;
  logger.warn({ shop: proxy.shop, where }, "app_proxy.wrong_customer");
  throw proxyError(403, "wrong_customer", `the request names another customer (${where}); the customer is the one signed in to the store`);
}

/**
 * Authenticates an app proxy request and returns the shop and the signed-in customer, or
 * throws a JSON Response: 403 invalid_signature | unknown_shop | not_installed | wrong_customer,
 * 401 signed_out (the block shows "sign in").
 */
export async function requireAppProxyCustomer(request: Request): Promise<AppProxyCustomer> {
  const url = new URL(request.url);
  const params = url.searchParams;
  // Refused whatever its signature: the Shopify package cannot even name the session of a
  // shop that is not {name}.myshopify.com (it throws InvalidShopError).
  const shops = params.getAll("shop");
  if (shops.length === 0 || (shops.length === 1 && !isShopDomain(shops[0]))) {
    logger.warn({ shop: shops[0] }, "app_proxy.unknown_shop");
    throw proxyError(403, "unknown_shop", shops.length === 0 ? "the request names no shop" : "the shop is not a *.myshopify.com shop");
  }
  let session: unknown;
  try {
    ({ session } = await authenticate.public.appProxy(request));
  } catch (thrown) {
    if (!(thrown instanceof Response)) throw thrown;
    const reason = explainRejectedProxyQuery(params, Math.trunc(Date.now() / 1000));
    logger.warn({ shop: params.getAll("shop").join(","), reason, status: thrown.status }, "app_proxy.rejected");
    throw proxyError(403, "invalid_signature", `not a valid app proxy request: ${reason}`);
  }
  // Signed by Shopify from here on.
  const shop = shops[0]!;
  if (!session) {
    logger.warn({ shop }, "app_proxy.not_installed");
    throw proxyError(403, "not_installed", `${shop} has not installed the app`);
  }
  // Shopify sends it once; a second copy (appended by a shopper to the storefront URL) is
  // signed too, and must not choose the customer.
  if (params.getAll("logged_in_customer_id").length > 1) {
    logger.warn({ shop }, "app_proxy.wrong_customer");
    throw proxyError(403, "wrong_customer", "logged_in_customer_id appears more than once");
  }
  const signedCustomer = params.get("logged_in_customer_id") ?? "";
  if (signedCustomer === "") throw proxyError(401, "signed_out", "sign in to your account to see your points");
  const customerId = /^[1-9]\d{0,19}$/.test(signedCustomer) ? signedCustomer : null;
  if (!customerId) throw proxyError(400, "invalid_request", "logged_in_customer_id is not a customer id");
  const proxy: AppProxyCustomer = { shop, customerId, customerGid: `gid://shopify/Customer/${customerId}` };
  for (const name of CLAIMED_CUSTOMER_PARAMS) {
    for (const value of params.getAll(name)) requireSameCustomer(proxy, value, `query parameter ${name}`);
  }
  return proxy;
}

/**
 * Runs a proxy route's work and answers every failure as JSON: a thrown Response (the
 * checks above, the services' mapped errors) as it is, anything else as a logged 500.
 */
export async function answerProxyRequest(request: Request, work: () => Promise<Response>): Promise<Response> {
  try {
    return await work();
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    logger.error({ err: thrown, path: new URL(request.url).pathname }, "app_proxy.failed");
    return proxyError(500, "server_error", "something went wrong on our side; please try again");
  }
}
