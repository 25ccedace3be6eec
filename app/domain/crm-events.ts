// What a webhook means to the CRM, after the Shopify adapter has mapped the payload.
// Plain data: the worker applies these; nothing here knows about HTTP or Shopify JSON.

export type AddressInput = {
  countryCode: string | null;
  province: string | null;
  city: string | null;
  zip: string | null;
  address1: string | null;
  address2: string | null;
  isDefault: boolean;
};

export type CustomerInput = {
  gid: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  state: string | null;
  note: string | null;
  verifiedEmail: boolean | null;
  currency: string | null;
  addresses: AddressInput[];
  defaultAddress: AddressInput | null;
  createdAt: Date | null;
  updatedAt: Date | null;
};

export type LineItemInput = {
  gid: string;
  productGid: string | null;
  variantGid: string | null;
  title: string;
  variantTitle: string | null;
  sku: string | null;
  vendor: string | null;
  quantity: number;
  priceMinor: bigint;
  totalDiscountMinor: bigint;
  giftCard: boolean;
};

export type RefundLineInput = { lineItemGid: string; quantity: number; subtotalMinor: bigint; totalTaxMinor: bigint };

export type RefundInput = {
  gid: string;
  legacyId: string;
  orderLegacyId: string;
  amountMinor: bigint;
  currency: string | null;
  note: string | null;
  lines: RefundLineInput[];
  refundedAt: Date;
};

export type OrderInput = {
  gid: string;
  legacyId: string;
  customer: CustomerInput | null;
  name: string | null;
  email: string | null;
  currency: string;
  presentmentCurrency: string | null;
  totalPriceMinor: bigint;
  subtotalMinor: bigint;
  totalTaxMinor: bigint;
  totalDiscountsMinor: bigint;
  shippingMinor: bigint;
  financialStatus: string | null;
  fulfillmentStatus: string | null;
  cancelledAt: Date | null;
  cancelReason: string | null;
  test: boolean;
  sourceName: string | null;
  tags: string[];
  discountCodes: string[];
  createdAt: Date;
  updatedAt: Date;
  processedAt: Date | null;
  closedAt: Date | null;
  lineItems: LineItemInput[];
  refunds: RefundInput[];
  /** The checkout the order came from (its token): that checkout is no longer abandoned. */
  checkoutToken?: string | null;
  /** The buyer's locale ("en", "fr-CA"): the customer's language (customer_language). */
  customerLocale?: string | null;
};

/** A checkout (checkouts/create, checkouts/update): abandoned while neither completed nor turned into an order. */
export type CheckoutInput = {
  token: string;
  customerGid: string | null;
  locale: string | null;
  createdAt: Date | null;
  updatedAt: Date;
  completedAt: Date | null;
};

export type ProductInput = {
  gid: string;
  title: string | null;
  productType: string | null;
  /** The featured image's https URL (feedback emails show it), or null. */
  imageUrl: string | null;
  vendor: string | null;
  status: string | null;
  tags: string[];
  createdAt: Date | null;
  updatedAt: Date | null;
};

export type CrmEvent =
  | { kind: "order"; order: OrderInput }
  | { kind: "refund"; refund: RefundInput }
  | { kind: "customer"; customer: CustomerInput }
  | { kind: "customer_deleted"; customerGid: string }
  | { kind: "customer_tags"; customerGid: string; tags: string[]; present: boolean; occurredAt: Date }
  | {
      kind: "email_consent";
      customerGid: string;
      state: string | null;
      optInLevel: string | null;
      consentUpdatedAt: Date | null;
    }
  | {
      kind: "sms_consent";
      customerGid: string;
      state: string | null;
      optInLevel: string | null;
      consentUpdatedAt: Date | null;
    }
  | { kind: "checkout"; checkout: CheckoutInput }
  | { kind: "product"; product: ProductInput }
  | { kind: "product_deleted"; productGid: string }
  | { kind: "app_uninstalled"; shopName: string | null; currency: string | null }
  | { kind: "scopes_update"; scopes: string[] }
  | { kind: "shop_updated"; settings: ShopSettingsInput }
  | { kind: "bulk_operation_finished"; gid: string; type: string | null; status: string | null; errorCode: string | null; completedAt: Date | null }
  | { kind: "customer_data_request"; customerGid: string; requestId: string | null; orderLegacyIds: string[] }
  | { kind: "customer_redact"; customerGid: string; orderLegacyIds: string[] }
  | { kind: "shop_redact" };

/**
 * The shop's settings the CRM keeps (decision 047), from `shop { ... }` or a shop/update
 * payload. `updatedAt` orders versions (null: unknown, always applied); `raw` is the source
 * object, kept whole in shops.settings.
 */
export type ShopSettingsInput = {
  name: string | null;
  email: string | null;
  currencyCode: string | null;
  ianaTimezone: string | null;
  myshopifyDomain: string | null;
  updatedAt: Date | null;
  raw: Record<string, unknown>;
};
