// Customers: customer, customers, customersCount, customerUpdate, Customer, MailingAddress.
import type { GraphQLResolveInfo } from "graphql";
import { normalizeTagInput, sortTags, cmpId, type Customer, type ShopState } from "../admin-state";
import { matches, parseSearch, type FieldReader } from "../search";
import { METAFIELD_TYPE_MESSAGE, METAFIELD_TYPE_SET, metafieldResolvers, upsertMetafield, type MetafieldInput } from "./metafields";
import { orderWindowStart, searchOrders, sortOrders, visibleOrder } from "./orders";
import { centsOf, cmpStr, count, idResolver, pageByIdFast, legacy, moneyV2, page, parseGid, userError, type ResolverMap, type TwinContext } from "./shared";

export function formatPhone(phone: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(phone);
  return m ? `+1 ${m[1]}-${m[2]}-${m[3]}` : phone;
}

export function displayName(c: Customer): string {
  const name = [c.firstName, c.lastName].filter((x) => x && x.trim()).join(" ");
  if (name) return name;
  if (c.email) return c.email;
  if (c.phone) return formatPhone(c.phone);
  return "";
}

export const readCustomer =
  (shop: ShopState): FieldReader<Customer> =>
  (c, field) => {
    switch (field) {
      case "id":
        return [Number(c.id)];
      case "email":
        return [c.email];
      case "phone":
        return [c.phone];
      case "first_name":
        return [c.firstName];
      case "last_name":
        return [c.lastName];
      case "tag":
        return c.tags;
      case "tag_not":
        return undefined;
      case "state":
        return [c.state];
      case "created_at":
        return [c.createdAt];
      case "updated_at":
        return [c.updatedAt];
      case "country": {
        const a = c.addresses.find((x) => x.id === c.defaultAddressId);
        return [a?.country ?? null, a?.countryCode ?? null];
      }
      case "accepts_marketing":
      case "email_marketing_state":
        return [c.emailMarketing.state === "SUBSCRIBED" ? "true" : "false", c.emailMarketing.state];
      case "orders_count":
      case "number_of_orders":
        return [shop.orderIdsOf(c.id).length];
      case "total_spent":
      case "amount_spent":
        return [customerAmountSpent(shop, c)];
      case "customer_date":
        return [c.createdAt];
      default:
        return undefined;
    }
  };

export function customerAmountSpent(shop: ShopState, c: Customer): number {
  let cents = 0;
  for (const id of shop.orderIdsOf(c.id)) {
    const o = shop.orders.get(id);
    if (o) cents += centsOf(o.currentTotal);
  }
  return cents / 100;
}

export function sortCustomers(list: Customer[], key: unknown): { list: Customer[]; value: (c: Customer) => string | number; byId: boolean } {
  switch (key) {
    case "CREATED_AT":
      return { list: [...list].sort((a, b) => cmpStr(a.createdAt, b.createdAt) || cmpId(a.id, b.id)), value: (c) => c.createdAt, byId: false };
    case "UPDATED_AT":
      return { list: [...list].sort((a, b) => cmpStr(a.updatedAt, b.updatedAt) || cmpId(a.id, b.id)), value: (c) => c.updatedAt, byId: false };
    case "NAME":
      return { list: [...list].sort((a, b) => displayName(a).localeCompare(displayName(b)) || cmpId(a.id, b.id)), value: (c) => displayName(c), byId: false };
    default:
      return { list, value: (c) => c.id, byId: true };
  }
}

export function searchCustomers(shop: ShopState, query: unknown): Customer[] {
  const expr = parseSearch(query as string | null);
  const ids = shop.sortedIds("customers");
  const out: Customer[] = [];
  const read = readCustomer(shop);
  for (const id of ids) {
    const c = shop.customers.get(id)!;
    if (matches(c, expr, read, ["email", "first_name", "last_name", "phone", "tag"])) out.push(c);
  }
  return out;
}

export function customerUpdate(ctx: TwinContext, input: Record<string, unknown>, _info: GraphQLResolveInfo) {
  const shop = ctx.shop;
  const g = parseGid(input.id);
  const existing = g?.type === "Customer" ? shop.customers.get(g.id) : undefined;
  // conformance 2025-01/customers/customer-update-parity `validation`
  if (!existing) return { customer: null, userErrors: [userError(["id"], "Customer does not exist")] };
  // conformance 2026-07/customers/customer-input-inline-consent-parity
  for (const [field, mutation] of [
    ["emailMarketingConsent", "customerEmailMarketingConsentUpdate"],
    ["smsMarketingConsent", "customerSmsMarketingConsentUpdate"],
    ["whatsAppMarketingConsent", "customerWhatsAppMarketingConsentUpdate"],
  ] as const) {
    if (input[field] !== undefined && input[field] !== null)
      return { customer: null, userErrors: [userError([field], `To update ${field}, please use the ${mutation} Mutation instead`)] };
  }
  const next: Customer = { ...existing, tags: [...existing.tags] };
  const errors: { field: string[] | null; message: string }[] = [];
  const str = (k: string) => (input[k] === undefined ? undefined : (input[k] as string | null));
  for (const k of ["firstName", "lastName", "note", "locale", "multipassIdentifier"] as const) {
    const v = str(k);
    if (v !== undefined) (next as Record<string, unknown>)[k] = v === "" && k !== "note" ? null : v;
  }
  if (input.email !== undefined) {
    const email = (input.email as string | null)?.trim() || null;
    if (email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) errors.push(userError(["email"], "Email is invalid"));
    else if (email && [...shop.customers.values()].some((c) => c.id !== existing.id && c.email?.toLowerCase() === email.toLowerCase()))
      errors.push(userError(["email"], "Email has already been taken"));
    next.email = email ? email.toLowerCase() : null;
  }
  if (input.phone !== undefined) next.phone = (input.phone as string | null) || null;
  if (input.taxExempt !== undefined && input.taxExempt !== null) next.taxExempt = input.taxExempt as boolean;
  if (input.taxExemptions !== undefined && input.taxExemptions !== null) next.taxExemptions = input.taxExemptions as string[];
  // conformance customer-tag-note-limits-parity
  if (typeof next.note === "string" && next.note.length > 5000) errors.push(userError(["note"], "Note is too long (maximum is 5000 characters)"));
  if (input.tags !== undefined && input.tags !== null) {
    const tags = shop.canonicalCustomerTags(normalizeTagInput(input.tags as string[]));
    if (tags.length > 250) errors.push(userError(["tags"], "Tags cannot be more than 250"));
    next.tags = sortTags(tags);
  }
  const metafields = (input.metafields as MetafieldInput[] | null | undefined) ?? [];
  metafields.forEach((m, i) => {
    if (m.type && !METAFIELD_TYPE_SET.has(m.type)) errors.push(userError(["metafields", String(i), "type"], METAFIELD_TYPE_MESSAGE));
  });
  // conformance 2025-01/customers/customer-update-requires-identity
  if (errors.length === 0 && !next.firstName && !next.lastName && !next.email && !next.phone)
    errors.push(userError(null, "A name, phone number, or email address must be present"));
  if (errors.length > 0) return { customer: null, userErrors: errors };
  next.updatedAt = shop.nowIso();
  shop.putCustomer(next);
  for (const m of metafields) upsertMetafield(ctx, "CUSTOMER", next.id, m);
  return { customer: next, userErrors: [] };
}

export const customerResolvers: ResolverMap = {
  QueryRoot: {
    customer: (_s, a, ctx) => {
      const g = parseGid(a.id);
      const c = g?.type === "Customer" ? ctx.shop.customers.get(g.id) : undefined;
      return c ?? null;
    },
    customers: (_s, a, ctx) => {
      const fast = pageByIdFast(ctx.shop.sortedIds("customers"), (id) => ctx.shop.customers.get(id)!, a);
      if (fast) return fast;
      const sorted = sortCustomers(searchCustomers(ctx.shop, a.query), a.sortKey);
      return page(sorted.list, a, (c) => c.id, sorted.value, sorted.byId);
    },
    customersCount: (_s, a, ctx) => count(a.query ? searchCustomers(ctx.shop, a.query).length : ctx.shop.customers.size, a.limit),
  },
  Mutation: {
    customerUpdate: (_s, a, ctx, info) => customerUpdate(ctx, a.input as Record<string, unknown>, info),
  },
  Customer: {
    id: idResolver("Customer"),
    legacyResourceId: legacy,
    displayName: (c: Customer) => displayName(c),
    defaultEmailAddress: (c: Customer) =>
      c.email
        ? {
            emailAddress: c.email,
            marketingState: c.emailMarketing.state,
            marketingOptInLevel: c.emailMarketing.optInLevel,
            marketingUpdatedAt: c.emailMarketing.updatedAt,
            validFormat: /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(c.email),
          }
        : null,
    defaultPhoneNumber: (c: Customer) =>
      c.phone
        ? { phoneNumber: c.phone, marketingState: c.smsMarketing.state, marketingOptInLevel: c.smsMarketing.optInLevel, marketingUpdatedAt: c.smsMarketing.updatedAt }
        : null,
    emailMarketingConsent: (c: Customer) =>
      c.email ? { marketingState: c.emailMarketing.state, marketingOptInLevel: c.emailMarketing.optInLevel, consentUpdatedAt: c.emailMarketing.updatedAt } : null,
    amountSpent: (c: Customer, _a, ctx) => moneyV2(customerAmountSpent(ctx.shop, c), ctx.shop.currency),
    numberOfOrders: (c: Customer, _a, ctx) => String(ctx.shop.orderIdsOf(c.id).length),
    defaultAddress: (c: Customer) => c.addresses.find((x) => x.id === c.defaultAddressId) ?? null,
    addresses: (c: Customer, a) => (typeof a.first === "number" ? c.addresses.slice(0, a.first) : c.addresses),
    canDelete: (c: Customer, _a, ctx) => ctx.shop.orderIdsOf(c.id).length === 0,
    lastOrder: (c: Customer, _a, ctx) => {
      const ids = ctx.shop.orderIdsOf(c.id);
      return ids.length ? visibleOrder(ctx, ids[ids.length - 1]!) : null;
    },
    orders: (c: Customer, a, ctx) => {
      const sorted = sortOrders(searchOrders(ctx.shop, a.query, ctx.shop.orderIdsOf(c.id), orderWindowStart(ctx)), a.sortKey);
      return page(sorted.list, a, (o) => o.id, sorted.value, sorted.byId);
    },
    ...metafieldResolvers("CUSTOMER"),
  },
  MailingAddress: {
    id: (a: { id: string }) => `gid://shopify/MailingAddress/${a.id}?model_name=CustomerAddress`,
    countryCodeV2: (a: { countryCode: string | null }) => a.countryCode,
    name: (a: { firstName: string | null; lastName: string | null }) => [a.firstName, a.lastName].filter(Boolean).join(" ") || null,
  },
};
