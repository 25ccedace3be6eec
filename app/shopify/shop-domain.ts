const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

/** True for a `{name}.myshopify.com` domain, the only shop identity we accept. */
export function isShopDomain(value: string | null | undefined): value is string {
  return typeof value === "string" && value.length <= 255 && SHOP_DOMAIN.test(value);
}
