// The Shopify Admin API adapter: the only module that sends Admin GraphQL requests. A shop
// is reached by its domain through its stored offline session, with the library's client
// (`unauthenticated.admin(shop)` from shopify-app-remix: it loads the session from the
// Session table and refreshes an expiring offline token; docs/decisions, "Shopify Admin
// adapter"). Every answer exposes extensions.cost (throttleStatus) so callers can pace
// themselves; every failure is a ShopifyAdminError with a kind that says what to do next.
//
// Typed operations: tagsAdd / tagsRemove, customer tags (nodes), stagedUploadsCreate +
// upload, bulkOperationRunMutation, bulkOperation(id) and the bulk result file, discount
// codes (discountCodeBasicCreate, discountCodeFreeShippingCreate, codeDiscountNodeByCode).
// Product metafields for ratings: standardMetafieldDefinitionEnable, metafieldsSet. Later
// operations go through `request` with a document from app/shopify/admin-documents.ts.
import {
  GraphqlQueryError,
  HttpMaxRetriesError,
  HttpRequestError,
  HttpResponseError,
  HttpThrottlingError,
} from "@shopify/shopify-api";
import { SessionNotFoundError } from "@shopify/shopify-app-remix/server";
import { unauthenticated } from "../shopify.server";
import {
  BULK_OPERATION,
  BULK_OPERATION_RUN_MUTATION,
  BULK_OPERATION_RUN_QUERY,
  CODE_DISCOUNT_NODE_BY_CODE,
  CUSTOMER_BIRTHDAYS,
  CUSTOMER_TAGS,
  DISCOUNT_CODE_BASIC_CREATE,
  DISCOUNT_CODE_FREE_SHIPPING_CREATE,
  SHOP_SETTINGS,
  SHOP_DETAILS,
  WEBHOOK_SUBSCRIPTION_CREATE,
  RECONCILE_CUSTOMERS,
  RECONCILE_ORDERS,
  CROSS_CHECK_CUSTOMERS,
  NODES_EXIST,
  CUSTOMERS_COUNT,
  IMPORT_TOTALS,
  METAFIELDS_SET,
  STAGED_UPLOADS_CREATE,
  STANDARD_METAFIELD_DEFINITION_ENABLE,
  TAGS_ADD,
  TAGS_REMOVE,
  FLOW_TRIGGER_RECEIVE,
} from "./admin-documents";
import type { ThrottleStatus } from "./cost-pacer";

export type { ThrottleStatus } from "./cost-pacer";

export type QueryCost = {
  requestedQueryCost: number;
  actualQueryCost: number | null;
  throttleStatus: ThrottleStatus;
};

export type AdminResult<T> = { data: T; cost: QueryCost | null };
export type UserError = { field: string[] | null; message: string; code?: string | null };

/**
 * What a failure means for the caller:
 * - throttled: the cost bucket could not cover the request (GraphQL THROTTLED or HTTP 429): pace and retry;
 * - transient: network failure, timeout, HTTP 5xx, Shopify's INTERNAL_SERVER_ERROR: retry with backoff;
 * - invalid_token: HTTP 401 or a refused token refresh (uninstalled, revoked): stop for this shop;
 * - no_session: no offline session stored for the shop: stop for this shop;
 * - forbidden: HTTP 402/403/423 or ACCESS_DENIED (missing scope, frozen or locked shop): stop for this shop;
 * - not_found: the resource does not exist (RESOURCE_NOT_FOUND, "invalid id"): permanent for that resource;
 * - bad_request: any other refusal (invalid document, MAX_COST_EXCEEDED, HTTP 4xx): permanent, a bug.
 * userErrors are not thrown: each operation returns them (they belong to its input).
 */
export type AdminErrorKind = "throttled" | "transient" | "invalid_token" | "no_session" | "forbidden" | "not_found" | "bad_request";

export class ShopifyAdminError extends Error {
  constructor(
    readonly kind: AdminErrorKind,
    message: string,
    readonly details: {
      shop: string;
      status?: number;
      codes?: string[];
      cost?: QueryCost | null;
      /** Milliseconds to wait (HTTP 429 Retry-After). */
      retryAfterMs?: number;
      cause?: unknown;
    },
  ) {
    super(message, { cause: details.cause });
    this.name = "ShopifyAdminError";
  }

  /** Whether the whole shop is unusable for now (not just this request). */
  get haltsShop(): boolean {
    return this.kind === "invalid_token" || this.kind === "no_session" || this.kind === "forbidden";
  }
}

type GraphqlFn = (document: string, options?: { variables?: Record<string, unknown>; signal?: AbortSignal }) => Promise<Response>;

export type StagedUploadTarget = { url: string | null; resourceUrl: string | null; parameters: { name: string; value: string }[] };
export type BulkOperationStatus = "CREATED" | "RUNNING" | "COMPLETED" | "CANCELING" | "CANCELED" | "FAILED" | "EXPIRED";
export type BulkOperationInfo = {
  id: string;
  type: "QUERY" | "MUTATION";
  status: BulkOperationStatus;
  errorCode: string | null;
  objectCount: string;
  rootObjectCount: string;
  fileSize: string | null;
  url: string | null;
  partialDataUrl: string | null;
  createdAt: string;
  completedAt: string | null;
};
type TagsPayload = { node: { id: string } | null; userErrors: UserError[] };

export type MetafieldsSetItem = { ownerId: string; namespace: string; key: string; type: string; value: string };
export type MetafieldsSetUserError = UserError & { elementIndex?: number | null };
export type MetafieldsSetResult = { metafields: { id: string; namespace: string; key: string; value: string }[] | null; userErrors: MetafieldsSetUserError[] };
export type DefinitionEnableResult = {
  createdDefinition: { id: string; namespace: string; key: string; name: string; type: { name: string } } | null;
  userErrors: UserError[];
};
/** Shopify's limit of metafields per metafieldsSet call. */
export const METAFIELDS_SET_LIMIT = 25;

/** A code discount as the loyalty rewards read it back. */
export type CodeDiscountInfo = { id: string; title: string | null; startsAt: string | null; endsAt: string | null };
export type DiscountCreatePayload = { codeDiscountNode: CodeDiscountInfo | null; userErrors: UserError[] };
type CodeDiscountNodeRow = { id: string; codeDiscount: { title?: string | null; startsAt?: string | null; endsAt?: string | null } | null };
const toCodeDiscountInfo = (n: CodeDiscountNodeRow | null): CodeDiscountInfo | null =>
  n ? { id: n.id, title: n.codeDiscount?.title ?? null, startsAt: n.codeDiscount?.startsAt ?? null, endsAt: n.codeDiscount?.endsAt ?? null } : null;

const REQUEST_TIMEOUT_MS = 30_000;
const UPLOAD_TIMEOUT_MS = 120_000;

/** Admin API access for one shop. Obtain one per unit of work (getShopifyAdmin); never keep it for hours. */
export class ShopifyAdmin {
  constructor(
    readonly shop: string,
    private readonly graphql: GraphqlFn,
  ) {}

  /** Any Admin GraphQL document (from admin-documents.ts). Throws ShopifyAdminError. */
  async request<T>(document: string, variables: Record<string, unknown> = {}): Promise<AdminResult<T>> {
    let response: Response;
    try {
      response = await this.graphql(document, { variables, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      throw classifyAdminError(this.shop, error);
    }
    const body = (await response.json()) as { data?: T; extensions?: { cost?: QueryCost } };
    if (body.data === undefined || body.data === null) throw new ShopifyAdminError("transient", "Shopify answered without data", { shop: this.shop });
    return { data: body.data, cost: body.extensions?.cost ?? null };
  }

  async tagsAdd(id: string, tags: string[]): Promise<AdminResult<TagsPayload>> {
    const r = await this.request<{ tagsAdd: TagsPayload }>(TAGS_ADD, { id, tags });
    return { data: r.data.tagsAdd, cost: r.cost };
  }

  /** Sends one Flow trigger (handle and payload as its extension declares them). userErrors are returned. */
  async flowTriggerReceive(handle: string, payload: Record<string, unknown>): Promise<AdminResult<{ userErrors: UserError[] }>> {
    const r = await this.request<{ flowTriggerReceive: { userErrors: UserError[] } }>(FLOW_TRIGGER_RECEIVE, { handle, payload });
    return { data: r.data.flowTriggerReceive, cost: r.cost };
  }

  async tagsRemove(id: string, tags: string[]): Promise<AdminResult<TagsPayload>> {
    const r = await this.request<{ tagsRemove: TagsPayload }>(TAGS_REMOVE, { id, tags });
    return { data: r.data.tagsRemove, cost: r.cost };
  }

  /** Enables a standard metafield definition from its template (TAKEN in userErrors when it exists). */
  async standardMetafieldDefinitionEnable(ownerType: "PRODUCT", namespace: string, key: string): Promise<AdminResult<DefinitionEnableResult>> {
    const r = await this.request<{ standardMetafieldDefinitionEnable: DefinitionEnableResult }>(STANDARD_METAFIELD_DEFINITION_ENABLE, { ownerType, namespace, key });
    return { data: r.data.standardMetafieldDefinitionEnable, cost: r.cost };
  }

  /** Sets up to 25 metafields (atomic). userErrors are returned, with the failing element's index. */
  async metafieldsSet(metafields: MetafieldsSetItem[]): Promise<AdminResult<MetafieldsSetResult>> {
    if (metafields.length === 0 || metafields.length > METAFIELDS_SET_LIMIT) throw new RangeError(`metafieldsSet takes 1 to ${METAFIELDS_SET_LIMIT} metafields`);
    const r = await this.request<{ metafieldsSet: MetafieldsSetResult }>(METAFIELDS_SET, { metafields });
    return { data: r.data.metafieldsSet, cost: r.cost };
  }

  /** One page (up to 250) of the shop's customers with their `facts.birth_date` metafield value. */
  async customerBirthdays(first: number, after: string | null): Promise<AdminResult<{ customers: { id: string; birthDate: string | null }[]; next: string | null }>> {
    type Page = { customers: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: { id: string; birthDate: { value: string } | null }[] } };
    const r = await this.request<Page>(CUSTOMER_BIRTHDAYS, { first, after });
    const page = r.data.customers;
    return {
      data: { customers: page.nodes.map((n) => ({ id: n.id, birthDate: n.birthDate?.value ?? null })), next: page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null },
      cost: r.cost,
    };
  }

  /** The shop's IANA time zone and currency. */
  async shopSettings(): Promise<AdminResult<{ ianaTimezone: string; currencyCode: string }>> {
    const r = await this.request<{ shop: { ianaTimezone: string; currencyCode: string } }>(SHOP_SETTINGS, {});
    return { data: r.data.shop, cost: r.cost };
  }

  /** Current tags of up to 250 customers; unknown ids are left out. */
  async customerTags(ids: string[]): Promise<AdminResult<Map<string, string[]>>> {
    if (ids.length > 250) throw new RangeError("customerTags takes at most 250 ids (Shopify's input array limit)");
    const r = await this.request<{ nodes: ({ id?: string; tags?: string[] } | null)[] }>(CUSTOMER_TAGS, { ids });
    const out = new Map<string, string[]>();
    for (const n of r.data.nodes) if (n?.id && n.tags) out.set(n.id, n.tags);
    return { data: out, cost: r.cost };
  }

  async stagedUploadsCreate(
    input: { resource: "BULK_MUTATION_VARIABLES"; filename: string; mimeType: string; httpMethod: "POST" | "PUT"; fileSize?: string }[],
  ): Promise<AdminResult<{ stagedTargets: StagedUploadTarget[] | null; userErrors: UserError[] }>> {
    const r = await this.request<{ stagedUploadsCreate: { stagedTargets: StagedUploadTarget[] | null; userErrors: UserError[] } }>(STAGED_UPLOADS_CREATE, { input });
    return { data: r.data.stagedUploadsCreate, cost: r.cost };
  }

  /**
   * Uploads a file to a staged target created with httpMethod POST: a multipart form with
   * every parameter first and the file last (PLATFORM.md 3.6). Returns the stagedUploadPath
   * (the value of the parameter named `key`).
   */
  async uploadStaged(target: StagedUploadTarget, file: { filename: string; mimeType: string; body: string }): Promise<string> {
    if (!target.url) throw new ShopifyAdminError("bad_request", "the staged upload target has no url", { shop: this.shop });
    const key = target.parameters.find((p) => p.name === "key")?.value;
    if (!key) throw new ShopifyAdminError("bad_request", "the staged upload target has no `key` parameter", { shop: this.shop });
    const form = new FormData();
    for (const p of target.parameters) form.append(p.name, p.value);
    form.append("file", new Blob([file.body], { type: file.mimeType }), file.filename);
    let response: Response;
    try {
      response = await fetch(target.url, { method: "POST", body: form, signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS) });
    } catch (error) {
      throw new ShopifyAdminError("transient", `staged upload failed: ${(error as Error).message}`, { shop: this.shop, cause: error });
    }
    await response.arrayBuffer().catch(() => undefined);
    if (response.status >= 500 || response.status === 429)
      throw new ShopifyAdminError("transient", `staged upload answered HTTP ${response.status}`, { shop: this.shop, status: response.status });
    if (!response.ok) throw new ShopifyAdminError("bad_request", `staged upload answered HTTP ${response.status}`, { shop: this.shop, status: response.status });
    return key;
  }

  async bulkOperationRunMutation(args: {
    mutation: string;
    stagedUploadPath: string;
    clientIdentifier?: string;
  }): Promise<AdminResult<{ bulkOperation: { id: string; status: BulkOperationStatus } | null; userErrors: UserError[] }>> {
    const r = await this.request<{ bulkOperationRunMutation: { bulkOperation: { id: string; status: BulkOperationStatus } | null; userErrors: UserError[] } }>(
      BULK_OPERATION_RUN_MUTATION,
      { mutation: args.mutation, stagedUploadPath: args.stagedUploadPath, clientIdentifier: args.clientIdentifier ?? null },
    );
    return { data: r.data.bulkOperationRunMutation, cost: r.cost };
  }

  /** Starts a bulk query (history import). userErrors (OPERATION_IN_PROGRESS, invalid query) are returned, not thrown. */
  async bulkOperationRunQuery(query: string): Promise<AdminResult<{ bulkOperation: { id: string; status: BulkOperationStatus } | null; userErrors: UserError[] }>> {
    const r = await this.request<{ bulkOperationRunQuery: { bulkOperation: { id: string; status: BulkOperationStatus } | null; userErrors: UserError[] } }>(
      BULK_OPERATION_RUN_QUERY,
      { query },
    );
    return { data: r.data.bulkOperationRunQuery, cost: r.cost };
  }

  async bulkOperation(id: string): Promise<AdminResult<BulkOperationInfo | null>> {
    const r = await this.request<{ bulkOperation: BulkOperationInfo | null }>(BULK_OPERATION, { id });
    return { data: r.data.bulkOperation, cost: r.cost };
  }

  /** Creates an amount-off or percentage-off code discount (input: DiscountCodeBasicInput). userErrors are returned, not thrown. */
  async discountCodeBasicCreate(input: Record<string, unknown>): Promise<AdminResult<DiscountCreatePayload>> {
    const r = await this.request<{ discountCodeBasicCreate: { codeDiscountNode: CodeDiscountNodeRow | null; userErrors: UserError[] } }>(DISCOUNT_CODE_BASIC_CREATE, {
      basicCodeDiscount: input,
    });
    return { data: { codeDiscountNode: toCodeDiscountInfo(r.data.discountCodeBasicCreate.codeDiscountNode), userErrors: r.data.discountCodeBasicCreate.userErrors }, cost: r.cost };
  }

  /** Creates a free shipping code discount (input: DiscountCodeFreeShippingInput). userErrors are returned, not thrown. */
  async discountCodeFreeShippingCreate(input: Record<string, unknown>): Promise<AdminResult<DiscountCreatePayload>> {
    const r = await this.request<{ discountCodeFreeShippingCreate: { codeDiscountNode: CodeDiscountNodeRow | null; userErrors: UserError[] } }>(
      DISCOUNT_CODE_FREE_SHIPPING_CREATE,
      { freeShippingCodeDiscount: input },
    );
    return {
      data: { codeDiscountNode: toCodeDiscountInfo(r.data.discountCodeFreeShippingCreate.codeDiscountNode), userErrors: r.data.discountCodeFreeShippingCreate.userErrors },
      cost: r.cost,
    };
  }

  /** The code discount that owns `code` (case-insensitive, as Shopify matches codes), or null. */
  async codeDiscountNodeByCode(code: string): Promise<AdminResult<CodeDiscountInfo | null>> {
    const r = await this.request<{ codeDiscountNodeByCode: CodeDiscountNodeRow | null }>(CODE_DISCOUNT_NODE_BY_CODE, { code });
    return { data: toCodeDiscountInfo(r.data.codeDiscountNodeByCode), cost: r.cost };
  }

  // ------------------------------------------------------------ shop connection, reconciliation (decisions 047, 048)

  /** The shop's settings (name, email, domain, time zone, currency). */
  async shopDetails(): Promise<AdminResult<ShopDetails>> {
    const r = await this.request<{ shop: ShopDetails }>(SHOP_DETAILS, {});
    return { data: r.data.shop, cost: r.cost };
  }

  /** Subscribes one topic (WebhookSubscriptionTopic, e.g. ORDERS_CREATE) to a URL. userErrors are returned. */
  async webhookSubscriptionCreate(topic: string, uri: string): Promise<AdminResult<{ id: string | null; userErrors: UserError[] }>> {
    type Payload = { webhookSubscriptionCreate: { webhookSubscription: { id: string } | null; userErrors: UserError[] } };
    const r = await this.request<Payload>(WEBHOOK_SUBSCRIPTION_CREATE, { topic, webhookSubscription: { uri, format: "JSON" } });
    return { data: { id: r.data.webhookSubscriptionCreate.webhookSubscription?.id ?? null, userErrors: r.data.webhookSubscriptionCreate.userErrors }, cost: r.cost };
  }

  /** A page of customers matching `query` (Shopify search syntax), oldest update first. */
  async reconcileCustomers(first: number, after: string | null, query: string | null): Promise<AdminResult<{ nodes: RemoteCustomer[]; next: string | null }>> {
    type Page = { customers: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: RemoteCustomer[] } };
    const r = await this.request<Page>(RECONCILE_CUSTOMERS, { first, after, query });
    const page = r.data.customers;
    return { data: { nodes: page.nodes, next: page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null }, cost: r.cost };
  }

  /** A page of orders matching `query`, oldest update first. */
  async reconcileOrders(first: number, after: string | null, query: string | null): Promise<AdminResult<{ nodes: RemoteOrder[]; next: string | null }>> {
    type Page = { orders: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: RemoteOrder[] } };
    const r = await this.request<Page>(RECONCILE_ORDERS, { first, after, query });
    const page = r.data.orders;
    return { data: { nodes: page.nodes, next: page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null }, cost: r.cost };
  }

  /** A page of customers with Shopify's own numberOfOrders and amountSpent. */
  async crossCheckCustomers(
    first: number,
    after: string | null,
  ): Promise<AdminResult<{ nodes: { id: string; numberOfOrders: string; amountSpent: { amount: string; currencyCode: string } }[]; next: string | null }>> {
    type Node = { id: string; numberOfOrders: string; amountSpent: { amount: string; currencyCode: string } };
    const r = await this.request<{ customers: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Node[] } }>(CROSS_CHECK_CUSTOMERS, { first, after });
    const page = r.data.customers;
    return { data: { nodes: page.nodes, next: page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null }, cost: r.cost };
  }

  /** The ids among up to 250 that still exist. */
  async existingIds(ids: string[]): Promise<AdminResult<Set<string>>> {
    if (ids.length > 250) throw new RangeError("existingIds takes at most 250 ids (Shopify's input array limit)");
    const r = await this.request<{ nodes: ({ id?: string } | null)[] }>(NODES_EXIST, { ids });
    return { data: new Set(r.data.nodes.flatMap((n) => (n?.id ? [n.id] : []))), cost: r.cost };
  }

  /** The shop's exact number of customers. */
  async customersCount(): Promise<AdminResult<number>> {
    const r = await this.request<{ customersCount: { count: number } | null }>(CUSTOMERS_COUNT, {});
    return { data: r.data.customersCount?.count ?? 0, cost: r.cost };
  }

  /** The shop's exact numbers of customers, orders and products (what an import will bring). */
  async importTotals(): Promise<AdminResult<{ customers: number; orders: number; products: number }>> {
    type Count = { count: number } | null;
    const r = await this.request<{ customersCount: Count; ordersCount: Count; productsCount: Count }>(IMPORT_TOTALS, {});
    return { data: { customers: r.data.customersCount?.count ?? 0, orders: r.data.ordersCount?.count ?? 0, products: r.data.productsCount?.count ?? 0 }, cost: r.cost };
  }

  /**
   * The lines of a bulk operation's result file (url or partialDataUrl), streamed. The whole
   * download must end within `timeoutMs` (default 120 s); null waits for the headers only
   * that long and then reads as long as data keeps coming (a history import's file is large).
   */
  async *bulkResultLines(url: string, options: { timeoutMs?: number | null } = {}): AsyncGenerator<string> {
    let response: Response;
    try {
      if (options.timeoutMs === null) {
        const controller = new AbortController();
        const headersTimer = setTimeout(() => controller.abort(new DOMException("bulk result headers timed out", "TimeoutError")), UPLOAD_TIMEOUT_MS);
        try {
          response = await fetch(url, { signal: controller.signal });
        } finally {
          clearTimeout(headersTimer);
        }
      } else response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? UPLOAD_TIMEOUT_MS) });
    } catch (error) {
      throw new ShopifyAdminError("transient", `bulk result download failed: ${(error as Error).message}`, { shop: this.shop, cause: error });
    }
    if (!response.ok || !response.body) {
      await response.arrayBuffer().catch(() => undefined);
      throw new ShopifyAdminError(response.status >= 500 ? "transient" : "bad_request", `bulk result download answered HTTP ${response.status}`, {
        shop: this.shop,
        status: response.status,
      });
    }
    let rest = "";
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = rest.indexOf("\n")) >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        if (line.trim()) yield line;
      }
    }
    rest += decoder.decode();
    if (rest.trim()) yield rest;
  }
}

/** The shop as `shop { ... }` answers (SHOP_DETAILS). */
export type ShopDetails = { id: string; name: string; email: string; myshopifyDomain: string; ianaTimezone: string; currencyCode: string };
type Money = { shopMoney: { amount: string; currencyCode: string } };
export type RemoteAddress = {
  id: string | null;
  address1: string | null;
  address2: string | null;
  city: string | null;
  provinceCode: string | null;
  province: string | null;
  zip: string | null;
  countryCodeV2: string | null;
};
/** A customer as RECONCILE_CUSTOMERS reads it. */
export type RemoteCustomer = {
  id: string;
  firstName: string | null;
  lastName: string | null;
  note: string | null;
  state: string;
  verifiedEmail: boolean;
  createdAt: string;
  updatedAt: string;
  tags: string[];
  numberOfOrders: string;
  amountSpent: { amount: string; currencyCode: string };
  defaultEmailAddress: { emailAddress: string | null; marketingState: string | null; marketingOptInLevel: string | null; marketingUpdatedAt: string | null } | null;
  defaultPhoneNumber: { phoneNumber: string | null } | null;
  defaultAddress: RemoteAddress | null;
  addresses: RemoteAddress[];
};
/** An order as RECONCILE_ORDERS reads it. */
export type RemoteOrder = {
  id: string;
  name: string | null;
  email: string | null;
  currencyCode: string;
  presentmentCurrencyCode: string | null;
  test: boolean;
  sourceName: string | null;
  tags: string[];
  discountCodes: string[];
  displayFinancialStatus: string | null;
  displayFulfillmentStatus: string | null;
  cancelledAt: string | null;
  cancelReason: string | null;
  createdAt: string;
  updatedAt: string;
  processedAt: string | null;
  closedAt: string | null;
  totalPriceSet: Money;
  subtotalPriceSet: Money | null;
  totalTaxSet: Money | null;
  totalDiscountsSet: Money | null;
  customer: (Omit<RemoteCustomer, "tags" | "numberOfOrders" | "amountSpent" | "addresses" | "defaultEmailAddress"> & { defaultEmailAddress: { emailAddress: string | null } | null }) | null;
  lineItems: {
    nodes: {
      id: string;
      title: string;
      variantTitle: string | null;
      sku: string | null;
      vendor: string | null;
      quantity: number;
      product: { id: string } | null;
      variant: { id: string } | null;
      originalUnitPriceSet: Money;
      originalTotalSet: Money;
      discountedTotalSet: Money;
    }[];
  };
  refunds: { id: string; legacyResourceId: string; note: string | null; createdAt: string; processedAt: string | null; totalRefundedSet: Money }[];
};

/** Admin access for a shop through its stored offline session (refreshing an expiring token). */
export async function getShopifyAdmin(shop: string): Promise<ShopifyAdmin> {
  try {
    const { admin } = await unauthenticated.admin(shop);
    return new ShopifyAdmin(shop, admin.graphql as GraphqlFn);
  } catch (error) {
    throw classifyAdminError(shop, error);
  }
}

function costOf(body: unknown): QueryCost | null {
  const cost = (body as { extensions?: { cost?: QueryCost } } | undefined)?.extensions?.cost;
  return cost && typeof cost.requestedQueryCost === "number" ? cost : null;
}

/** Maps what the Shopify library throws to a ShopifyAdminError. */
export function classifyAdminError(shop: string, error: unknown): ShopifyAdminError {
  if (error instanceof ShopifyAdminError) return error;
  if (error instanceof SessionNotFoundError) return new ShopifyAdminError("no_session", `no offline session for ${shop}`, { shop, cause: error });
  if (error instanceof GraphqlQueryError) {
    const body = error.body as { errors?: { graphQLErrors?: { message?: string; extensions?: { code?: string } }[] } } | undefined;
    const list = body?.errors?.graphQLErrors ?? [];
    const codes = list.map((e) => e.extensions?.code ?? "").filter(Boolean);
    const message = list.map((e) => e.message).filter(Boolean).join("; ") || error.message;
    const details = { shop, codes, cost: costOf(error.body), cause: error };
    if (codes.includes("THROTTLED")) return new ShopifyAdminError("throttled", "Throttled", details);
    if (codes.includes("ACCESS_DENIED")) return new ShopifyAdminError("forbidden", message, details);
    if (codes.includes("RESOURCE_NOT_FOUND") || /^invalid id$/i.test(message)) return new ShopifyAdminError("not_found", message, details);
    if (codes.includes("INTERNAL_SERVER_ERROR") || codes.includes("SERVICE_UNAVAILABLE") || codes.includes("TIMEOUT"))
      return new ShopifyAdminError("transient", message, details);
    return new ShopifyAdminError("bad_request", message, details);
  }
  if (error instanceof HttpThrottlingError) {
    const retryAfter = error.response.retryAfter;
    return new ShopifyAdminError("throttled", "HTTP 429", {
      shop,
      status: 429,
      retryAfterMs: typeof retryAfter === "number" && Number.isFinite(retryAfter) ? retryAfter * 1000 : 1_000,
      cause: error,
    });
  }
  if (error instanceof HttpResponseError) {
    const status = error.response.code;
    const details = { shop, status, cause: error };
    if (status === 401) return new ShopifyAdminError("invalid_token", `HTTP 401 from Shopify for ${shop}`, details);
    if (status === 402 || status === 403 || status === 423) return new ShopifyAdminError("forbidden", `HTTP ${status} from Shopify for ${shop}`, details);
    if (status >= 500 || status === 408) return new ShopifyAdminError("transient", `HTTP ${status} from Shopify`, details);
    // A refused token refresh comes back from the token endpoint as 400 invalid_grant.
    if (status === 400 && /invalid_(grant|subject_token)/.test(JSON.stringify(error.response.body ?? ""))) {
      return new ShopifyAdminError("invalid_token", `token refresh refused for ${shop}`, details);
    }
    return new ShopifyAdminError("bad_request", `HTTP ${status} from Shopify`, details);
  }
  if (error instanceof HttpRequestError || error instanceof HttpMaxRetriesError) {
    return new ShopifyAdminError("transient", error.message, { shop, cause: error });
  }
  const name = (error as { name?: string } | null)?.name;
  if (name === "TimeoutError" || name === "AbortError" || error instanceof TypeError) {
    return new ShopifyAdminError("transient", (error as Error).message, { shop, cause: error });
  }
  return new ShopifyAdminError("transient", error instanceof Error ? error.message : String(error), { shop, cause: error });
}
