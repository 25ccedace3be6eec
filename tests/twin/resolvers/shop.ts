// The shop: shop { ... }.
import type { ShopState } from "../admin-state";
import { gid, type ResolverMap } from "./shared";

export const shopResolvers: ResolverMap = {
  QueryRoot: {
    shop: (_s, _a, ctx) => ctx.shop,
  },
  Shop: {
    id: (s: ShopState) => gid("Shop", s.shopId),
    myshopifyDomain: (s: ShopState) => s.domain,
    currencyCode: (s: ShopState) => s.currency,
    ianaTimezone: (s: ShopState) => s.ianaTimezone,
  },
};
