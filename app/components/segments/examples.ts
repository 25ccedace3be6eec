// Example queries the editor offers to start from. Each must pass the checker
// (tests/unit/segments-editor-ui.test.ts checks them) and be written as Shopify writes it
// (MATCHES, upper-case enum values), so that it also works when pasted into Shopify.
export type ExampleQuery = { title: string; description: string; query: string };

export const EXAMPLE_QUERIES: readonly ExampleQuery[] = [
  { title: "Big spenders", description: "Spent 500 or more in total", query: "amount_spent >= 500" },
  { title: "Loyal and recent", description: "3+ orders, the last one in the past 90 days", query: "number_of_orders >= 3 AND last_order_date >= -90d" },
  { title: "Lapsed buyers", description: "Bought before, nothing in the last 6 months", query: "number_of_orders >= 1 AND last_order_date < -6m" },
  {
    title: "Subscribers who never bought",
    description: "Email subscribers without an order",
    query: "email_subscription_status = 'SUBSCRIBED' AND number_of_orders = 0",
  },
  { title: "At risk", description: "RFM group: used to buy often, not lately", query: "rfm_group = 'AT_RISK'" },
  {
    title: "Recent shoe buyers",
    description: "Bought a product tagged Shoes in the last 90 days",
    query: "products_purchased MATCHES (tag = 'Shoes', date >= -90d)",
  },
  { title: "Repeat buyers this year", description: "Two or more orders in the last 12 months", query: "orders_placed MATCHES (count >= 2, date >= -12m)" },
  { title: "Refund-heavy", description: "More than a quarter of spend refunded", query: "refund_rate > 0.25 AND number_of_orders >= 2" },
  { title: "Tagged VIP", description: "Customers with the vip tag", query: "customer_tags CONTAINS 'vip'" },
  {
    title: "Birthdays this month",
    description: "Birthday (Shopify's birth date metafield) in the next 30 days",
    query: "anniversary(date: 'metafields.facts.birth_date') BETWEEN today AND +30d",
  },
  { title: "Abandoned a checkout", description: "Left a checkout without ordering in the last 7 days", query: "abandoned_checkout_date >= -7d" },
];
