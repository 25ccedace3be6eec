// The bulk queries a history import sends, as checked against the twin by
// history-import.test.ts (and valid against the real 2026-07 schema: the contract test
// validates them). The app keeps its own copies in its Shopify adapter; these are the
// reference the twin guarantees.
//
// Shopify refuses a connection inside a list field in a bulk query ("Queries that contain
// a connection field within a list field are not currently supported."; conformance
// 2026-04/bulk-operations/bulk-operation-run-query-validators `connectionWithinList`).
// Order.refunds is a list, so Refund.refundLineItems (a connection) cannot be in the
// orders bulk query: the refunds come with their ids, times and amounts, and the refund
// line items of the orders that have refunds are read afterwards with REFUND_LINES_QUERY
// (nodes by Refund id, 50 at a time), paced on the cost bucket.

export const BULK_CUSTOMERS_QUERY = `{
  customers {
    edges {
      node {
        id
        email
        firstName
        lastName
        phone
        state
        locale
        note
        verifiedEmail
        taxExempt
        tags
        createdAt
        updatedAt
        numberOfOrders
        amountSpent { amount currencyCode }
        emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }
        defaultAddress { countryCodeV2 country provinceCode city zip }
        addresses { id countryCodeV2 country provinceCode }
      }
    }
  }
}`;

export const BULK_ORDERS_QUERY = `{
  orders {
    edges {
      node {
        id
        name
        email
        createdAt
        updatedAt
        processedAt
        cancelledAt
        cancelReason
        closedAt
        test
        tags
        sourceName
        currencyCode
        displayFinancialStatus
        displayFulfillmentStatus
        discountCodes
        customer { id }
        subtotalPriceSet { shopMoney { amount currencyCode } }
        totalDiscountsSet { shopMoney { amount currencyCode } }
        totalShippingPriceSet { shopMoney { amount currencyCode } }
        totalTaxSet { shopMoney { amount currencyCode } }
        totalPriceSet { shopMoney { amount currencyCode } }
        totalRefundedSet { shopMoney { amount currencyCode } }
        currentSubtotalPriceSet { shopMoney { amount currencyCode } }
        currentTotalPriceSet { shopMoney { amount currencyCode } }
        refunds { id createdAt totalRefundedSet { shopMoney { amount currencyCode } } }
        lineItems {
          edges {
            node {
              id
              title
              sku
              vendor
              quantity
              currentQuantity
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

export const BULK_PRODUCTS_QUERY = `{
  products {
    edges {
      node {
        id
        title
        handle
        productType
        vendor
        tags
        status
        createdAt
        updatedAt
      }
    }
  }
}`;

export const REFUND_LINES_QUERY = `query RefundLines($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on Refund {
      id
      createdAt
      refundLineItems(first: 50) {
        edges {
          node {
            quantity
            restockType
            lineItem { id }
            subtotalSet { shopMoney { amount currencyCode } }
          }
        }
      }
    }
  }
}`;

export const RUN_BULK_QUERY_MUTATION = `mutation RunBulk($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: false) {
    bulkOperation { id status type createdAt }
    userErrors { field message code }
  }
}`;

export const BULK_OPERATION_POLL_QUERY = `query PollBulk($id: ID!) {
  node(id: $id) {
    ... on BulkOperation { id status errorCode url partialDataUrl objectCount rootObjectCount fileSize createdAt completedAt }
  }
}`;
