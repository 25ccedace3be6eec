// Cross-check mismatches on the Sync page: customers whose order count or net spent in the CRM
// differs from Shopify's own figures, both values side by side, with the explanation when a
// documented choice of the CRM accounts for it.
import { BlockStack, Card, DataTable, InlineStack, Link, Pagination, Text } from "@shopify/polaris";
import type { SyncOverview } from "../../domain/admin/sync-view-models";
import { useFormat } from "../format-context";

export function CrossCheckCard({ crossCheck }: { crossCheck: SyncOverview["crossCheck"] }) {
  const { rows, total, page, pages, readAt } = crossCheck;
  const fmt = useFormat();
  const pageUrl = (n: number) => `/app/sync?crossCheckPage=${n}`;
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingMd">
            Cross-check with Shopify
          </Text>
          <span data-sync-figure="cross-check-total">
            <Text as="span" tone="subdued">
              {`${fmt.countOf(total, "customer")} ${total === 1 ? "differs" : "differ"}`}
            </Text>
          </span>
        </InlineStack>
        <Text as="p" tone="subdued">
          {readAt
            ? `Order counts and amounts spent compared with Shopify's own figures as read by the import (${readAt}). The CRM does not count test or cancelled orders and subtracts refunds; such differences are explained, not hidden.`
            : "Shopify's own order counts and amounts spent are read by the history import; run it to compare them with the CRM."}
        </Text>
        {rows.length > 0 ? (
          <DataTable
            columnContentTypes={["text", "numeric", "numeric", "numeric", "numeric", "text"]}
            headings={["Customer", "Orders (CRM)", "Orders (Shopify)", "Spent (CRM)", "Spent (Shopify)", "Explanation"]}
            rows={rows.map((r) => [
              r.customerId ? (
                <Link key={r.customerGid} url={`/app/customers/${r.customerId}`}>
                  {r.customerName}
                </Link>
              ) : (
                r.customerName
              ),
              r.localOrders,
              r.shopifyOrders,
              r.localSpent,
              r.shopifySpent,
              r.explanation ?? "Unexplained: run Reconcile now, or look at the customer's orders",
            ])}
          />
        ) : readAt ? (
          <Text as="p">Every customer matches Shopify.</Text>
        ) : null}
        {pages > 1 ? (
          <InlineStack align="center">
            <Pagination
              hasPrevious={page > 1}
              previousURL={page > 1 ? pageUrl(page - 1) : undefined}
              hasNext={page < pages}
              nextURL={page < pages ? pageUrl(page + 1) : undefined}
              label={`Page ${page} of ${pages}`}
            />
          </InlineStack>
        ) : null}
      </BlockStack>
    </Card>
  );
}
