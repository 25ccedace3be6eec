// The Admin GraphQL documents the app sends (pure strings, no I/O). Each starts with the
// `#graphql` marker and has no interpolation, so tests/contract/admin-documents.test.ts
// finds every such document under app/ and jobs/ and validates it against the real Admin
// schema (../shared/shopify/admin-2026-07.graphql). Add new operations (discount codes for
// loyalty, ...) here the same way.

/** Adds tags (incremental, idempotent: adding a present tag changes nothing). Cost 10. */
export const TAGS_ADD = `#graphql
mutation TagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) {
    node { id }
    userErrors { field message }
  }
}`;

/** Removes tags (idempotent: removing an absent tag changes nothing). Cost 10. */
export const TAGS_REMOVE = `#graphql
mutation TagsRemove($id: ID!, $tags: [String!]!) {
  tagsRemove(id: $id, tags: $tags) {
    node { id }
    userErrors { field message }
  }
}`;

/** The shop's settings the admin pages format with (its IANA time zone, its currency). Cost 1. */
export const SHOP_SETTINGS = `#graphql
query ShopSettings {
  shop { ianaTimezone currencyCode }
}`;

/** Current tags of up to 250 customers (crash recovery checks what already happened). */
export const CUSTOMER_TAGS = `#graphql
query CustomerTags($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on Customer { id tags }
  }
}`;

/** A staged upload target for a bulk mutation's JSONL variables file. */
export const STAGED_UPLOADS_CREATE = `#graphql
mutation StagedUploadsCreate($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) {
    stagedTargets { url resourceUrl parameters { name value } }
    userErrors { field message }
  }
}`;

/** Runs one mutation per line of an uploaded JSONL file (not subject to the cost bucket). */
export const BULK_OPERATION_RUN_MUTATION = `#graphql
mutation BulkOperationRunMutation($mutation: String!, $stagedUploadPath: String!, $clientIdentifier: String) {
  bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $stagedUploadPath, clientIdentifier: $clientIdentifier) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}`;

/** A bulk operation's progress and result files. */
export const BULK_OPERATION = `#graphql
query BulkOperation($id: ID!) {
  bulkOperation(id: $id) {
    id
    type
    status
    errorCode
    objectCount
    rootObjectCount
    fileSize
    url
    partialDataUrl
    createdAt
    completedAt
  }
}`;

// ---------------------------------------------------------------- discount codes (loyalty rewards)

/** A single-use amount-off or percentage-off code for one customer (a loyalty reward). Cost 10 + selection. */
export const DISCOUNT_CODE_BASIC_CREATE = `#graphql
mutation LoyaltyDiscountCodeBasicCreate($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode {
      id
      codeDiscount { ... on DiscountCodeBasic { title startsAt endsAt } }
    }
    userErrors { field message code }
  }
}`;

/** A single-use free shipping code for one customer (a loyalty reward). */
export const DISCOUNT_CODE_FREE_SHIPPING_CREATE = `#graphql
mutation LoyaltyDiscountCodeFreeShippingCreate($freeShippingCodeDiscount: DiscountCodeFreeShippingInput!) {
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $freeShippingCodeDiscount) {
    codeDiscountNode {
      id
      codeDiscount { ... on DiscountCodeFreeShipping { title startsAt endsAt } }
    }
    userErrors { field message code }
  }
}`;

/** The code discount a code belongs to, if any (a retried or recovered redemption checks whether its code exists). */
export const CODE_DISCOUNT_NODE_BY_CODE = `#graphql
query LoyaltyCodeDiscountNodeByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) {
    id
    codeDiscount {
      ... on DiscountCodeBasic { title startsAt endsAt }
      ... on DiscountCodeFreeShipping { title startsAt endsAt }
    }
  }
}`;

/**
 * A page of the shop's customers with their birthday (Shopify's standard customer metafield
 * `facts.birth_date`, a date), for the loyalty birthday bonus. Cost about 2 per customer.
 */
export const CUSTOMER_BIRTHDAYS = `#graphql
query LoyaltyCustomerBirthdays($first: Int!, $after: String) {
  customers(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id birthDate: metafield(namespace: "facts", key: "birth_date") { value } }
  }
}`;

// ---------------------------------------------------------------- product ratings (feedback)

/**
 * Enables one of Shopify's standard metafield definitions from its template (reviews.rating,
 * reviews.rating_count on PRODUCT): themes read product ratings from these. A definition that
 * already exists answers the userError TAKEN. Cost 10.
 */
export const STANDARD_METAFIELD_DEFINITION_ENABLE = `#graphql
mutation ProductRatingsDefinitionEnable($ownerType: MetafieldOwnerType!, $namespace: String!, $key: String!) {
  standardMetafieldDefinitionEnable(ownerType: $ownerType, namespace: $namespace, key: $key) {
    createdDefinition { id namespace key name type { name } }
    userErrors { field message code }
  }
}`;

/**
 * Sets up to 25 metafields at once (atomic: one invalid element and nothing is set; each
 * userError carries its elementIndex). Cost 10.
 */
export const METAFIELDS_SET = `#graphql
mutation ProductRatingsMetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id namespace key value }
    userErrors { field message code elementIndex }
  }
}`;

// ---------------------------------------------------------------- shop connection and settings (decision 047)

/** The shop's settings the app keeps (shops.settings): read on connect and install, then kept by shop/update. Cost 1. */
export const SHOP_DETAILS = `#graphql
query ShopDetails {
  shop { id name email myshopifyDomain ianaTimezone currencyCode }
}`;

/**
 * Subscribes the shop to one topic at a URL (a custom app's token does not get the toml's
 * subscriptions). An existing subscription for the same topic and address answers a userError.
 */
export const WEBHOOK_SUBSCRIPTION_CREATE = `#graphql
mutation ConnectWebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}`;

// ---------------------------------------------------------------- reconciliation (decision 048)

/**
 * A page of customers updated after a time (`query: "updated_at:>'...'"`), oldest change
 * first, with what the CRM keeps of each and Shopify's own order count and amount spent.
 */
export const RECONCILE_CUSTOMERS = `#graphql
query ReconcileCustomers($first: Int!, $after: String, $query: String) {
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id firstName lastName note state verifiedEmail createdAt updatedAt tags
      numberOfOrders amountSpent { amount currencyCode }
      defaultEmailAddress { emailAddress marketingState marketingOptInLevel marketingUpdatedAt }
      defaultPhoneNumber { phoneNumber }
      defaultAddress { id address1 address2 city provinceCode province zip countryCodeV2 }
      addresses(first: 20) { id address1 address2 city provinceCode province zip countryCodeV2 }
    }
  }
}`;

/** A page of orders updated after a time, with their lines, refunds and customer. */
export const RECONCILE_ORDERS = `#graphql
query ReconcileOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name email currencyCode presentmentCurrencyCode test sourceName tags discountCodes
      displayFinancialStatus displayFulfillmentStatus cancelledAt cancelReason
      createdAt updatedAt processedAt closedAt
      totalPriceSet { shopMoney { amount currencyCode } }
      subtotalPriceSet { shopMoney { amount currencyCode } }
      totalTaxSet { shopMoney { amount currencyCode } }
      totalDiscountsSet { shopMoney { amount currencyCode } }
      customer {
        id firstName lastName note state verifiedEmail createdAt updatedAt
        defaultEmailAddress { emailAddress }
        defaultPhoneNumber { phoneNumber }
        defaultAddress { id address1 address2 city provinceCode province zip countryCodeV2 }
      }
      lineItems(first: 100) {
        nodes {
          id title variantTitle sku vendor quantity
          product { id }
          variant { id }
          originalUnitPriceSet { shopMoney { amount currencyCode } }
          originalTotalSet { shopMoney { amount currencyCode } }
          discountedTotalSet { shopMoney { amount currencyCode } }
        }
      }
      refunds(first: 50) { id legacyResourceId note createdAt processedAt totalRefundedSet { shopMoney { amount currencyCode } } }
    }
  }
}`;

/** Shopify's own order count and amount spent, a page of customers at a time (the cross-check). */
export const CROSS_CHECK_CUSTOMERS = `#graphql
query CrossCheckCustomers($first: Int!, $after: String) {
  customers(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id numberOfOrders amountSpent { amount currencyCode } }
  }
}`;

/** Which of up to 250 ids still exist (a deleted object is a null node). */
export const NODES_EXIST = `#graphql
query ReconcileNodesExist($ids: [ID!]!) {
  nodes(ids: $ids) { id }
}`;

/** How many customers the shop has (exact: no limit). */
export const CUSTOMERS_COUNT = `#graphql
query ReconcileCustomersCount {
  customersCount(limit: null) { count precision }
}`;

// ---------------------------------------------------------------- history import (decision 045)

/** The shop's totals the Sync page measures the import's progress against (issue 13). */
export const IMPORT_TOTALS = `#graphql
query ImportTotals {
  customersCount(limit: null) { count }
  ordersCount(limit: null) { count }
  productsCount(limit: null) { count }
}`;

/** Starts a bulk query (its JSONL result file is read when the operation completes). */
export const BULK_OPERATION_RUN_QUERY = `#graphql
mutation BulkOperationRunQuery($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}`;

/**
 * The import's customers: identity, consent, tags, addresses (countries), Shopify's own
 * totals for the cross-check. `addresses` is a list, not a connection: one JSONL line per customer.
 */
export const IMPORT_CUSTOMERS_QUERY = `#graphql
query ImportCustomers {
  customers {
    edges {
      node {
        id
        email
        firstName
        lastName
        phone
        state
        note
        verifiedEmail
        tags
        createdAt
        updatedAt
        amountSpent { amount currencyCode }
        numberOfOrders
        emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }
        defaultAddress { id }
        addresses { id countryCodeV2 provinceCode province city zip address1 address2 }
      }
    }
  }
}`;

/**
 * The import's orders with their refunds (a list: one line per order) and line items (a
 * nested connection: one line each, with `__parentId`, after their order). Refund line
 * items are a connection inside a list, which bulk queries do not support (decision 045).
 */
export const IMPORT_ORDERS_QUERY = `#graphql
query ImportOrders {
  orders {
    edges {
      node {
        id
        name
        email
        createdAt
        updatedAt
        processedAt
        closedAt
        cancelledAt
        cancelReason
        test
        displayFinancialStatus
        displayFulfillmentStatus
        sourceName
        tags
        discountCodes
        currencyCode
        presentmentCurrencyCode
        customer { id }
        totalPriceSet { shopMoney { amount currencyCode } }
        subtotalPriceSet { shopMoney { amount currencyCode } }
        totalTaxSet { shopMoney { amount currencyCode } }
        totalDiscountsSet { shopMoney { amount currencyCode } }
        totalShippingPriceSet { shopMoney { amount currencyCode } }
        refunds { id legacyResourceId createdAt processedAt note totalRefundedSet { shopMoney { amount currencyCode } } }
        lineItems {
          edges {
            node {
              id
              title
              variantTitle
              sku
              vendor
              quantity
              isGiftCard
              product { id }
              variant { id }
              originalUnitPriceSet { shopMoney { amount currencyCode } }
              totalDiscountSet { shopMoney { amount currencyCode } }
            }
          }
        }
      }
    }
  }
}`;

/** The import's products: what segments read (type, vendor, tags). */
export const IMPORT_PRODUCTS_QUERY = `#graphql
query ImportProducts {
  products {
    edges {
      node { id title productType vendor status tags createdAt updatedAt }
    }
  }
}`;

/** Starts the workflows of the shop that begin with one of the app's Flow triggers (decision 058). */
export const FLOW_TRIGGER_RECEIVE = `#graphql
  mutation FlowTriggerReceive($handle: String!, $payload: JSON!) {
    flowTriggerReceive(handle: $handle, payload: $payload) {
      userErrors { field message }
    }
  }
`;
