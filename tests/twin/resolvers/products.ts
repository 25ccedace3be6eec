// Products: product, products, productsCount, Product, ProductVariant.
import { cmpId, type Product, type ShopState } from "../admin-state";
import { matches, parseSearch, type FieldReader } from "../search";
import { metafieldResolvers } from "./metafields";
import { cmpStr, count, decimal, idResolver, pageByIdFast, legacy, page, parseGid, type ResolverMap } from "./shared";

export const readProduct: FieldReader<Product> = (p, field) => {
  switch (field) {
    case "id":
      return [Number(p.id)];
    case "title":
      return [p.title];
    case "tag":
      return p.tags;
    case "product_type":
      return [p.productType];
    case "vendor":
      return [p.vendor];
    case "status":
      return [p.status];
    case "handle":
      return [p.handle];
    case "created_at":
      return [p.createdAt];
    case "updated_at":
      return [p.updatedAt];
    case "sku":
      return p.variants.map((v) => v.sku);
    default:
      return undefined;
  }
};

export function sortProducts(list: Product[], key: unknown): { list: Product[]; value: (p: Product) => string | number; byId: boolean } {
  const by = (f: (p: Product) => string) => ({ list: [...list].sort((a, b) => cmpStr(f(a), f(b)) || cmpId(a.id, b.id)), value: f, byId: false });
  switch (key) {
    case "TITLE":
      return by((p) => p.title);
    case "CREATED_AT":
      return by((p) => p.createdAt);
    case "UPDATED_AT":
      return by((p) => p.updatedAt);
    case "PRODUCT_TYPE":
      return by((p) => p.productType);
    case "VENDOR":
      return by((p) => p.vendor);
    default:
      return { list, value: (p) => p.id, byId: true };
  }
}

export function searchProducts(shop: ShopState, query: unknown): Product[] {
  const expr = parseSearch(query as string | null);
  const out: Product[] = [];
  for (const id of shop.sortedIds("products")) {
    const p = shop.products.get(id)!;
    if (matches(p, expr, readProduct, ["title", "product_type", "vendor", "tag"])) out.push(p);
  }
  return out;
}

export const productResolvers: ResolverMap = {
  QueryRoot: {
    product: (_s, a, ctx) => {
      const g = parseGid(a.id);
      return (g?.type === "Product" && ctx.shop.products.get(g.id)) || null;
    },
    products: (_s, a, ctx) => {
      const fast = pageByIdFast(ctx.shop.sortedIds("products"), (id) => ctx.shop.products.get(id)!, a);
      if (fast) return fast;
      const sorted = sortProducts(searchProducts(ctx.shop, a.query), a.sortKey);
      return page(sorted.list, a, (p) => p.id, sorted.value, sorted.byId);
    },
    productsCount: (_s, a, ctx) => count(a.query ? searchProducts(ctx.shop, a.query).length : ctx.shop.products.size, a.limit),
  },
  Product: {
    id: idResolver("Product"),
    legacyResourceId: legacy,
    totalVariants: (p: Product) => p.variants.length,
    variants: (p: Product, a) => page(p.variants.map((v) => ({ ...v, productId: p.id })), a, (v) => v.id, (v) => v.id),
    ...metafieldResolvers("PRODUCT"),
  },
  ProductVariant: {
    id: idResolver("ProductVariant"),
    legacyResourceId: legacy,
    price: (v: { price: string }) => decimal(v.price),
    product: (v: { productId: string }, _a, ctx) => ctx.shop.products.get(v.productId),
  },
};
