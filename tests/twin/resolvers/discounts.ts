// Discounts: codeDiscountNode(ByCode), discountCodeBasicCreate, discountCodeFreeShippingCreate.
import type { GraphQLResolveInfo } from "graphql";
import type { Discount, Product, ShopState } from "../admin-state";
import { centsOf, idResolver, moneyV2, page, parseGid, typed, TwinExecError, type ResolverMap, type Resolver, type TwinContext } from "./shared";

// ------------------------------------------------------------------ discounts

export function discountStatus(d: Discount, nowMs: number): "ACTIVE" | "EXPIRED" | "SCHEDULED" {
  if (Date.parse(d.startsAt) > nowMs) return "SCHEDULED";
  if (d.endsAt && Date.parse(d.endsAt) <= nowMs) return "EXPIRED";
  return "ACTIVE";
}

export function discountClass(d: Discount): "ORDER" | "PRODUCT" | "SHIPPING" {
  if (d.kind === "DiscountCodeFreeShipping") return "SHIPPING";
  return d.customerGets && "all" in d.customerGets.items ? "ORDER" : "PRODUCT";
}

export const usd = (cents: number) => `$${(cents / 100).toFixed(2)}`;

export function discountSummary(d: Discount, shop: ShopState): string {
  const parts: string[] = [];
  // Which purchases a code applies to, as the summary words it (the capture shop sells
  // subscriptions): "one-time purchase products", "subscription products" or "all products".
  const purchases = (oneTime: boolean, subscription: boolean) =>
    subscription && !oneTime ? "subscription products" : oneTime && !subscription ? "one-time purchase products" : "all products";
  if (d.kind === "DiscountCodeFreeShipping") {
    parts.push(`Free shipping on ${purchases(d.appliesOnOneTimePurchase, d.appliesOnSubscription)}`);
  } else if (d.customerGets) {
    const v = d.customerGets.value;
    const what = "percentage" in v ? `${Math.round(v.percentage * 10000) / 100}% off` : `${usd(centsOf(v.amount))} off`;
    const items = d.customerGets.items;
    // A code discount on all items names the purchases it applies to, not "entire order"
    // (discount-code-basic-lifecycle, discount-upstream-fixed-amount-activate, discount-redeem-code-bulk;
    // "entire order" is the automatic discounts' wording, discount-activate-deactivate-noop-idempotence).
    let target = purchases(d.customerGets.appliesOnOneTimePurchase, d.customerGets.appliesOnSubscription);
    if ("products" in items) {
      const titles = items.products.map((id) => shop.products.get(id)?.title).filter((x): x is string => !!x);
      const n = items.products.length + items.variants.length;
      target = titles.length === 1 && n === 1 ? titles[0]! : `${n} products`;
    } else if ("collections" in items) target = `${items.collections.length} collection${items.collections.length === 1 ? "" : "s"}`;
    parts.push(`${what} ${target}`);
  }
  const min = d.minimumRequirement;
  if (min && "subtotal" in min) parts.push(`Minimum purchase of ${usd(centsOf(min.subtotal))}`);
  if (min && "quantity" in min) parts.push(`Minimum quantity of ${min.quantity}`);
  if (d.kind === "DiscountCodeFreeShipping" && d.destination) {
    parts.push("all" in d.destination ? "For all countries" : d.destination.countries.length === 1 ? `For ${d.destination.countries[0]}` : `For ${d.destination.countries.length} countries`);
  }
  if (d.kind === "DiscountCodeFreeShipping" && d.maximumShippingPrice) parts.push(`Applies to shipping rates under ${usd(centsOf(d.maximumShippingPrice))}`);
  if (d.appliesOncePerCustomer) parts.push("One use per customer");
  return parts.join(" • ");
}

export const discountFields: Record<string, Resolver> = {
  codes: (d: Discount, args) => page(d.codes, args, (c) => c.id, (c) => c.id),
  codesCount: (d: Discount) => ({ count: d.codes.length, precision: "EXACT" }),
  status: (d: Discount, _a, ctx) => discountStatus(d, ctx.shop.now()),
  summary: (d: Discount, _a, ctx) => discountSummary(d, ctx.shop),
  shortSummary: (d: Discount, _a, ctx) => discountSummary(d, ctx.shop).split(" • ")[0],
  discountClass: (d: Discount) => discountClass(d),
  discountClasses: (d: Discount) => [discountClass(d)],
  asyncUsageCount: () => 0,
  combinesWith: (d: Discount) => d.combinesWith,
  context: (d: Discount, _a, ctx) =>
    "all" in d.context
      ? { __typename: "DiscountBuyerSelectionAll", all: "ALL" }
      : { __typename: "DiscountCustomers", customers: d.context.customers.map((id) => ctx.shop.customers.get(id)).filter(Boolean) },
  customerSelection: (d: Discount, _a, ctx) =>
    "all" in d.context
      ? { __typename: "DiscountCustomerAll", allCustomers: true }
      : { __typename: "DiscountCustomers", customers: d.context.customers.map((id) => ctx.shop.customers.get(id)).filter(Boolean) },
  customerGets: (d: Discount, _a, ctx) => {
    const g = d.customerGets!;
    const value =
      "percentage" in g.value
        ? { __typename: "DiscountPercentage", percentage: g.value.percentage }
        : { __typename: "DiscountAmount", amount: moneyV2(g.value.amount, ctx.shop.currency), appliesOnEachItem: g.value.appliesOnEachItem };
    const items =
      "all" in g.items
        ? { __typename: "AllDiscountItems", allItems: true }
        : "products" in g.items
          ? { __typename: "DiscountProducts", productIds: g.items.products, variantIds: g.items.variants }
          : { __typename: "DiscountCollections", collectionIds: g.items.collections };
    return { value, items, appliesOnOneTimePurchase: g.appliesOnOneTimePurchase, appliesOnSubscription: g.appliesOnSubscription };
  },
  minimumRequirement: (d: Discount, _a, ctx) => {
    const m = d.minimumRequirement;
    if (!m) return null;
    return "subtotal" in m
      ? { __typename: "DiscountMinimumSubtotal", greaterThanOrEqualToSubtotal: moneyV2(m.subtotal, ctx.shop.currency) }
      : { __typename: "DiscountMinimumQuantity", greaterThanOrEqualToQuantity: m.quantity };
  },
  destinationSelection: (d: Discount) =>
    !d.destination || "all" in d.destination
      ? { __typename: "DiscountCountryAll", allCountries: true }
      : { __typename: "DiscountCountries", countries: d.destination.countries, includeRestOfWorld: d.destination.includeRestOfWorld },
  maximumShippingPrice: (d: Discount, _a, ctx) => (d.maximumShippingPrice ? moneyV2(d.maximumShippingPrice, ctx.shop.currency) : null),
};

export type DiscountInput = Record<string, unknown> & {
  title?: string | null;
  code?: string | null;
  startsAt?: string | null;
  endsAt?: string | null;
  usageLimit?: number | null;
  appliesOncePerCustomer?: boolean | null;
  appliesOnOneTimePurchase?: boolean | null;
  appliesOnSubscription?: boolean | null;
  recurringCycleLimit?: number | null;
  combinesWith?: { orderDiscounts?: boolean | null; productDiscounts?: boolean | null; shippingDiscounts?: boolean | null; productDiscountsWithTagsOnSameCartLine?: { add?: string[] | null; remove?: string[] | null } | null } | null;
  context?: { all?: string | null; customers?: { add?: string[] | null; remove?: string[] | null } | null; customerSegments?: { add?: string[] | null; remove?: string[] | null } | null } | null;
  customerSelection?: { all?: boolean | null; customers?: { add?: string[] | null; remove?: string[] | null } | null; customerSegments?: { add?: string[] | null; remove?: string[] | null } | null } | null;
  customerGets?: {
    value?: { percentage?: number | null; discountAmount?: { amount: string; appliesOnEachItem?: boolean | null } | null; discountOnQuantity?: unknown } | null;
    items?: { all?: boolean | null; products?: { productsToAdd?: string[] | null; productVariantsToAdd?: string[] | null } | null; collections?: { add?: string[] | null; remove?: string[] | null } | null } | null;
    appliesOnOneTimePurchase?: boolean | null;
    appliesOnSubscription?: boolean | null;
  } | null;
  minimumRequirement?: { quantity?: { greaterThanOrEqualToQuantity?: string | null } | null; subtotal?: { greaterThanOrEqualToSubtotal?: string | null } | null } | null;
  destination?: { all?: boolean | null; countries?: { add?: string[] | null; remove?: string[] | null; includeRestOfWorld?: boolean | null } | null } | null;
  maximumShippingPrice?: string | null;
  tags?: string[] | null;
};

export const overlap = (a?: readonly string[] | null, b?: readonly string[] | null) => !!a && !!b && a.some((x) => b.includes(x));
export const INT32_MAX = 2147483647;
export const INT32_MIN = -2147483648;
export const DECIMAL_LIMIT = 10n ** 18n;
export const bigDecimal = (s: string) => BigInt(s.trim().split(".")[0]!.replace(/^\+/, "") || "0");

export function discountCreate(ctx: TwinContext, kind: Discount["kind"], input: DiscountInput, _info: GraphQLResolveInfo) {
  const shop = ctx.shop;
  const root = kind === "DiscountCodeBasic" ? "basicCodeDiscount" : "freeShippingCodeDiscount";
  const f = (...path: string[]) => [root, ...path];

  // Request-level rejections: top-level error, data null (conformance 2026-04/discounts
  // discount-add-remove-overlap, discount-customer-gets-value-multiple-types,
  // discount-customer-selection-internal-conflicts, discount-combines-with-validation).
  const value = input.customerGets?.value;
  if (value && [value.percentage, value.discountAmount, value.discountOnQuantity].filter((x) => x !== undefined && x !== null).length > 1)
    throw new TwinExecError("A discount can only have one of percentage, discountOnQuantity or discountAmount.", "BAD_REQUEST");
  const sel = input.customerSelection;
  if (sel?.all && (sel.customers?.add?.length || sel.customers?.remove?.length))
    throw new TwinExecError("A discount cannot have customerSelection set to all, when customers or customerSavedSearches is specified.", "BAD_REQUEST");
  if (sel?.all && (sel.customerSegments?.add?.length || sel.customerSegments?.remove?.length))
    throw new TwinExecError("A discount cannot have customerSelection set to all, when customerSegments is specified.", "BAD_REQUEST");
  if (overlap(sel?.customers?.add, sel?.customers?.remove) || overlap(input.context?.customers?.add, input.context?.customers?.remove))
    throw new TwinExecError("A customer id is present in `add` and `remove` fields", "BAD_REQUEST");
  if (overlap(input.customerGets?.items?.collections?.add, input.customerGets?.items?.collections?.remove))
    throw new TwinExecError("The same Collection id is present in both 'add' and 'remove' fields", "BAD_REQUEST");
  if (overlap(input.destination?.countries?.add, input.destination?.countries?.remove))
    throw new TwinExecError("A country code is present in `add` and `remove` field", "BAD_REQUEST");
  const tagLine = input.combinesWith?.productDiscountsWithTagsOnSameCartLine;
  if (overlap(tagLine?.add, tagLine?.remove))
    throw new TwinExecError("The same tag is present in both `add` and `remove` fields of `productDiscountsWithTagsOnSameCartLine`.", "BAD_REQUEST");

  type DUE = { field: string[] | null; message: string; code: string | null; extraInfo: string | null };
  const errors: DUE[] = [];
  const e = (field: string[] | null, message: string, code: string) => errors.push({ field, message, code, extraInfo: null });

  const items = input.customerGets?.items;
  const cls = kind === "DiscountCodeFreeShipping" ? "SHIPPING" : items?.all ? "ORDER" : items ? "PRODUCT" : "ORDER";
  // combinesWith (discount-combines-with-validation)
  if (tagLine?.add?.length) {
    e(f("combinesWith", "productDiscountsWithTagsOnSameCartLine"), "The shop's plan does not allow setting `productDiscountsWithTagsOnSameCartLine`.", "PRODUCT_DISCOUNTS_WITH_TAGS_ON_SAME_CART_LINE_NOT_ENTITLED");
    if (cls !== "PRODUCT")
      e(
        f("combinesWith", "productDiscountsWithTagsOnSameCartLine"),
        "Combines with product discounts with tags on same cart line is only valid for discounts with the PRODUCT discount class",
        "INVALID_PRODUCT_DISCOUNTS_WITH_TAGS_ON_SAME_CART_LINE_FOR_DISCOUNT_CLASS",
      );
  }
  if (cls === "SHIPPING" && input.combinesWith?.shippingDiscounts)
    e(f("combinesWith"), "The combinesWith settings are not valid for the discount class.", "INVALID_COMBINES_WITH_FOR_DISCOUNT_CLASS");
  // title (discount-title-validation)
  const title = input.title ?? "";
  if (!title.trim()) e(f("title"), "Title can't be blank", "BLANK");
  else if (title.length > 255) e(f("title"), "Title is too long (maximum is 255 characters)", "TOO_LONG");
  // code (discount-code-required-blank-validation, discount-validation-branches `duplicate`)
  const code = input.code;
  if (code === undefined || code === null) e(f("code"), "Code can't be blank", "BLANK");
  else if (code.length === 0) e(f("code"), "Code is too short (minimum is 1 character)", "TOO_SHORT");
  else if (/[\r\n]/.test(code)) e(f("code"), "Code cannot contain newline characters.", "INVALID");
  else if (code.length > 255) e(f("code"), "Code is too long (maximum is 255 characters)", "TOO_LONG");
  else if (shop.codes.has(code.toLowerCase())) e(f("code"), "Code must be unique. Please try a different code.", "TAKEN");
  // dates (discount-starts-at-required-validation, discount-invalid-date-range-all-types)
  if (!input.startsAt) e(f("startsAt"), "Starts at can't be blank", "BLANK");
  else if (input.endsAt && Date.parse(input.endsAt) <= Date.parse(input.startsAt)) e(f("endsAt"), "Ends at needs to be after starts_at", "INVALID");
  // buyer context (discount-context-customer-selection-conflict)
  if (input.context && input.customerSelection) e(f("context"), "Only one of context or customerSelection can be provided.", "INVALID");
  // customerGets (discount-value-bounds, discount-basic-disallowed-discount-on-quantity, discount-numeric-bounds)
  if (kind === "DiscountCodeBasic") {
    if (!input.customerGets) e(f("customerGets"), "Customer gets can't be blank", "BLANK"); // not captured: required per PLATFORM.md 3.5
    if (value?.discountOnQuantity !== undefined && value?.discountOnQuantity !== null)
      e(f("customerGets", "value", "discountOnQuantity"), "discountOnQuantity field is only permitted with bxgy discounts.", "INVALID");
    if (typeof value?.percentage === "number" && (value.percentage < 0 || value.percentage > 1))
      e(f("customerGets", "value", "percentage"), "Value must be between 0.0 and 1.0", "VALUE_OUTSIDE_RANGE");
    if (value?.discountAmount) {
      const amount = value.discountAmount.amount;
      if (Number(amount) < 0) e(f("customerGets", "value", "discountAmount", "amount"), "Value must be less than or equal to 0", "LESS_THAN_OR_EQUAL_TO");
      else if (bigDecimal(amount) >= DECIMAL_LIMIT)
        e(f("customerGets", "value", "discountAmount", "amount"), "Value must be greater than -1000000000000000000", "LESS_THAN");
    }
    // entitled items (discount-items-refs-validation, discount-validation-branches `badRefs`)
    const productsAdd = items?.products?.productsToAdd ?? [];
    const variantsAdd = items?.products?.productVariantsToAdd ?? [];
    const collectionsAdd = items?.collections?.add ?? [];
    if (collectionsAdd.length && (productsAdd.length || variantsAdd.length))
      e(f("customerGets", "items", "collections", "add"), "Cannot entitle collections in combination with product variants or products", "CONFLICT");
    for (const id of productsAdd) {
      const g = parseGid(id);
      if (!g || !shop.hasReference("Product", g.id)) e(f("customerGets", "items", "products", "productsToAdd"), `Product with id: ${g?.id ?? id} is invalid`, "INVALID");
    }
    for (const id of variantsAdd) {
      const g = parseGid(id);
      if (!g || !shop.hasReference("ProductVariant", g.id))
        e(f("customerGets", "items", "products", "productVariantsToAdd"), `Product variant with id: ${g?.id ?? id} is invalid`, "INVALID");
    }
    if (!(productsAdd.length || variantsAdd.length))
      for (const id of collectionsAdd) {
        const g = parseGid(id);
        if (!g || !shop.hasReference("Collection", g.id)) e(f("customerGets", "items", "collections", "add"), `Collection with id: ${g?.id ?? id} is invalid`, "INVALID");
      }
  }
  // minimum requirement (discount-minimum-requirement-exclusivity)
  const minQ = input.minimumRequirement?.quantity?.greaterThanOrEqualToQuantity;
  const minS = input.minimumRequirement?.subtotal?.greaterThanOrEqualToSubtotal;
  if (minQ != null && minS != null) {
    e(f("minimumRequirement", "subtotal", "greaterThanOrEqualToSubtotal"), "Minimum subtotal cannot be defined when minimum quantity is.", "CONFLICT");
    e(f("minimumRequirement", "quantity", "greaterThanOrEqualToQuantity"), "Minimum quantity cannot be defined when minimum subtotal is.", "CONFLICT");
  } else {
    if (minQ != null && BigInt(minQ) >= BigInt(INT32_MAX))
      e(f("minimumRequirement", "quantity", "greaterThanOrEqualToQuantity"), "Minimum quantity must be less than 2147483647", "LESS_THAN");
    if (minS != null && bigDecimal(minS) >= DECIMAL_LIMIT)
      e(f("minimumRequirement", "subtotal", "greaterThanOrEqualToSubtotal"), "Minimum subtotal must be less than 1000000000000000000", "LESS_THAN");
  }
  // numeric bounds (discount-numeric-bounds)
  if (typeof input.usageLimit === "number") {
    if (input.usageLimit > INT32_MAX) e(f("usageLimit"), "Usage limit must be less than or equal to 2147483647", "LESS_THAN_OR_EQUAL_TO");
    else if (input.usageLimit <= 0) {
      e(f("usageLimit"), "Usage limit must be greater than 0", "GREATER_THAN");
      if (input.usageLimit < INT32_MIN) e(f("usageLimit"), "Usage limit must be greater than or equal to -2147483648", "GREATER_THAN_OR_EQUAL_TO");
    }
  }
  if (typeof input.recurringCycleLimit === "number" && input.recurringCycleLimit > INT32_MAX)
    e(f("recurringCycleLimit"), "Recurring cycle limit must be less than or equal to 2147483647", "LESS_THAN_OR_EQUAL_TO");

  if (errors.length > 0) return { codeDiscountNode: null, userErrors: errors };

  const now = shop.nowIso();
  const customersAdd = input.context?.customers?.add ?? input.customerSelection?.customers?.add ?? null;
  const d: Discount = {
    id: shop.nextId(),
    kind,
    title,
    codes: [{ id: shop.nextId(), code: code! }],
    startsAt: new Date(input.startsAt!).toISOString().replace(/\.\d{3}Z$/, "Z"),
    endsAt: input.endsAt ? new Date(input.endsAt).toISOString().replace(/\.\d{3}Z$/, "Z") : null,
    createdAt: now,
    updatedAt: now,
    usageLimit: input.usageLimit ?? null,
    appliesOncePerCustomer: input.appliesOncePerCustomer ?? false,
    appliesOnOneTimePurchase: input.appliesOnOneTimePurchase ?? input.customerGets?.appliesOnOneTimePurchase ?? true,
    appliesOnSubscription: input.appliesOnSubscription ?? input.customerGets?.appliesOnSubscription ?? false,
    // 1 when not given, for amount/percentage codes as for free shipping (discount-upstream-fixed-amount-activate,
    // discount-activate-deactivate-noop-idempotence, discount-free-shipping-lifecycle).
    recurringCycleLimit: input.recurringCycleLimit ?? 1,
    combinesWith: {
      orderDiscounts: input.combinesWith?.orderDiscounts ?? false,
      productDiscounts: input.combinesWith?.productDiscounts ?? false,
      shippingDiscounts: input.combinesWith?.shippingDiscounts ?? false,
      productDiscountsWithTagsOnSameCartLine: null,
    },
    context: customersAdd ? { customers: customersAdd.map((x) => parseGid(x)?.id ?? x) } : { all: true },
    minimumRequirement: minQ != null ? { quantity: String(minQ) } : minS != null ? { subtotal: minS } : null,
    tags: input.tags ?? [],
  };
  if (kind === "DiscountCodeBasic" && input.customerGets) {
    const v = input.customerGets.value;
    const it = input.customerGets.items;
    d.customerGets = {
      value: v?.discountAmount ? { amount: v.discountAmount.amount, appliesOnEachItem: v.discountAmount.appliesOnEachItem ?? false } : { percentage: v?.percentage ?? 0 },
      items: it?.products
        ? { products: (it.products.productsToAdd ?? []).map((x) => parseGid(x)!.id), variants: (it.products.productVariantsToAdd ?? []).map((x) => parseGid(x)!.id) }
        : it?.collections
          ? { collections: (it.collections.add ?? []).map((x) => parseGid(x)!.id) }
          : { all: true },
      appliesOnOneTimePurchase: input.customerGets.appliesOnOneTimePurchase ?? true,
      appliesOnSubscription: input.customerGets.appliesOnSubscription ?? false,
    };
  }
  if (kind === "DiscountCodeFreeShipping") {
    const dest = input.destination;
    d.destination = dest?.countries ? { countries: dest.countries.add ?? [], includeRestOfWorld: dest.countries.includeRestOfWorld ?? false } : { all: true };
    d.maximumShippingPrice = input.maximumShippingPrice ?? null;
  }
  shop.discounts.set(d.id, d);
  shop.codes.set(code!.toLowerCase(), d.id);
  return { codeDiscountNode: d, userErrors: [] };
}

export const discountResolvers: ResolverMap = {
  QueryRoot: {
    codeDiscountNode: (_s, a, ctx) => {
      const g = parseGid(a.id);
      return (g?.type === "DiscountCodeNode" && ctx.shop.discounts.get(g.id)) || null;
    },
    codeDiscountNodeByCode: (_s, a, ctx) => {
      const id = ctx.shop.codes.get(String(a.code).toLowerCase());
      return id ? (ctx.shop.discounts.get(id) ?? null) : null;
    },
  },
  Mutation: {
    discountCodeBasicCreate: (_s, a, ctx, info) => discountCreate(ctx, "DiscountCodeBasic", a.basicCodeDiscount as DiscountInput, info),
    discountCodeFreeShippingCreate: (_s, a, ctx, info) => discountCreate(ctx, "DiscountCodeFreeShipping", a.freeShippingCodeDiscount as DiscountInput, info),
  },
  DiscountCodeNode: {
    id: idResolver("DiscountCodeNode"),
    codeDiscount: (d: Discount) => typed(d.kind, d),
  },
  DiscountCodeBasic: discountFields,
  DiscountCodeFreeShipping: discountFields,
  DiscountRedeemCode: { id: idResolver("DiscountRedeemCode"), asyncUsageCount: () => 0 },
  DiscountProducts: {
    products: (s: { productIds: string[] }, a, ctx) =>
      page(s.productIds.map((id) => ctx.shop.products.get(id)).filter((p): p is Product => !!p), a, (p) => p.id),
    productVariants: (s: { variantIds: string[] }, a, ctx) => {
      const out: { id: string; productId: string }[] = [];
      for (const id of s.variantIds)
        for (const p of ctx.shop.products.values()) {
          const v = p.variants.find((x) => x.id === id);
          if (v) out.push({ ...v, productId: p.id });
        }
      return page(out, a, (v) => v.id);
    },
  },
};
