import { Fragment, type ReactNode } from "react";
import { Badge, BlockStack, Box, Card, Divider, InlineGrid, InlineStack, Pagination, Text, Tooltip } from "@shopify/polaris";
import { useFormat } from "./format-context";
import type { CustomerDetail, OrderView } from "../domain/admin/view-models";

type Tone = "success" | "info" | "attention" | "warning" | "critical" | undefined;

function financialTone(status: string | null): Tone {
  switch (status?.toLowerCase()) {
    case "paid":
      return "success";
    case "partially refunded":
    case "refunded":
      return "info";
    case "pending":
    case "authorized":
    case "partially paid":
      return "attention";
    case "voided":
      return "critical";
    default:
      return undefined;
  }
}

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <BlockStack gap="100">
      <Text as="h3" variant="headingXs" tone="subdued">
        {label}
      </Text>
      <Box>{children}</Box>
    </BlockStack>
  );
}

const orNone = (value: string | null | undefined, none = "—") =>
  value ? <Text as="span">{value}</Text> : <Text as="span" tone="subdued">{none}</Text>;

function Metric({ label, value }: { label: string; value: string | number }) {
  return (
    <BlockStack gap="100">
      <Text as="span" variant="bodySm" tone="subdued">
        {label}
      </Text>
      <Text as="span" variant="headingLg" numeric>
        {value}
      </Text>
    </BlockStack>
  );
}

/** The order's page in the Shopify admin (App Bridge navigates the admin, not the app's frame, to a shopify://admin address). */
export const adminOrderUrl = (orderId: string) => `shopify://admin/orders/${orderId}`;

/**
 * Shopify's customer account states in the merchant's words. "Disabled" is Shopify's name for
 * a customer who never created an account in the online store (most guest buyers), not a
 * blocked customer, so the badge says so.
 */
const ACCOUNT_STATES: Record<string, { label: string; help: string; tone?: "success" | "attention" | "warning" }> = {
  Disabled: { label: "No account", help: "This customer has not created an account in your online store (Shopify calls this state Disabled). They can still buy as a guest." },
  Invited: { label: "Account invited", help: "An account invitation was sent; the customer has not accepted it yet.", tone: "attention" },
  Enabled: { label: "Has an account", help: "This customer created an account in your online store.", tone: "success" },
  Declined: { label: "Invitation declined", help: "The customer declined the invitation to create an account.", tone: "warning" },
};

/** The account state as an explained badge (hover or focus shows what it means). */
export function AccountStateBadge({ state }: { state: string }) {
  const known = ACCOUNT_STATES[state];
  if (!known) return <Badge>{state}</Badge>;
  return (
    <Tooltip content={known.help}>
      <span data-account-state={state} title={known.help}>
        <Badge tone={known.tone}>{known.label}</Badge>
      </span>
    </Tooltip>
  );
}

function OrderEntry({ order }: { order: OrderView }) {
  const fmt = useFormat();
  return (
    <BlockStack gap="200">
      <InlineStack align="space-between" blockAlign="start" wrap={false}>
        <BlockStack gap="100">
          <InlineStack gap="200" align="start" blockAlign="center">
            <Text as="h3" variant="headingSm">
              <a href={adminOrderUrl(order.id)} target="_top" className="Polaris-Link" data-order-link={order.id}>
                {order.name}
              </a>
            </Text>
            {order.financialStatus ? <Badge tone={financialTone(order.financialStatus)}>{order.financialStatus}</Badge> : null}
            {order.fulfillmentStatus ? <Badge>{order.fulfillmentStatus}</Badge> : null}
            {order.cancellation ? <Badge tone="critical">Cancelled</Badge> : null}
            {order.test ? <Badge tone="warning">Test order</Badge> : null}
          </InlineStack>
          <Text as="p" variant="bodySm" tone="subdued">
            {order.createdAt} · {fmt.countOf(order.itemCount, "item")}
          </Text>
        </BlockStack>
        <Text as="span" variant="headingSm" numeric>
          {order.total}
        </Text>
      </InlineStack>
      {order.refunds.map((refund) => (
        <Box key={refund.id} paddingInlineStart="400" borderInlineStartWidth="050" borderColor="border-info">
          <InlineStack align="space-between" blockAlign="center">
            <Text as="p" variant="bodySm">
              <Text as="span" fontWeight="semibold">
                Refund
              </Text>{" "}
              on {refund.refundedAt}
              {refund.note ? ` · ${refund.note}` : ""}
            </Text>
            <Text as="span" variant="bodySm" numeric>
              −{refund.amount}
            </Text>
          </InlineStack>
        </Box>
      ))}
      {order.cancellation ? (
        <Box paddingInlineStart="400" borderInlineStartWidth="050" borderColor="border-critical">
          <Text as="p" variant="bodySm">
            <Text as="span" fontWeight="semibold">
              Cancelled
            </Text>{" "}
            on {order.cancellation.cancelledAt}
            {order.cancellation.reason ? ` · Reason: ${order.cancellation.reason}` : ""}
          </Text>
        </Box>
      ) : null}
    </BlockStack>
  );
}

export function CustomerMetrics({ customer }: { customer: CustomerDetail }) {
  const m = customer.metrics;
  const fmt = useFormat();
  return (
    <Card>
      <BlockStack gap="400">
        <InlineGrid columns={{ xs: 2, md: 4 }} gap="400">
          <Metric label="Orders" value={fmt.count(m.ordersCount)} />
          <Metric label="Total spent" value={m.totalSpent} />
          <Metric label="Refunded" value={m.refunded} />
          <Metric label="Average order value" value={m.averageOrderValue} />
        </InlineGrid>
        <Divider />
        <InlineStack gap="800" align="start">
          <Field label="First order">{orNone(m.firstOrderAt, "No orders")}</Field>
          <Field label="Last order">{orNone(m.lastOrderAt, "No orders")}</Field>
        </InlineStack>
      </BlockStack>
    </Card>
  );
}

/** One page of orders; `olderUrl` / `newerUrl` lead to the neighbouring pages (null at either end). */
export function OrderTimeline({ orders, olderUrl = null, newerUrl = null }: { orders: OrderView[]; olderUrl?: string | null; newerUrl?: string | null }) {
  return (
    <Card>
      <BlockStack gap="400">
        <Text as="h2" variant="headingMd">
          Order timeline
        </Text>
        {orders.length === 0 ? (
          <Text as="p" tone="subdued">
            No orders yet.
          </Text>
        ) : (
          <BlockStack gap="400">
            {orders.map((order, index) => (
              <Fragment key={order.id}>
                {index > 0 ? <Divider /> : null}
                <OrderEntry order={order} />
              </Fragment>
            ))}
          </BlockStack>
        )}
        {olderUrl || newerUrl ? (
          <InlineStack align="center">
            <Pagination
              hasPrevious={newerUrl !== null}
              previousURL={newerUrl ?? undefined}
              previousTooltip="Newer orders"
              hasNext={olderUrl !== null}
              nextURL={olderUrl ?? undefined}
              nextTooltip="Older orders"
              accessibilityLabels={{ previous: "Newer orders", next: "Older orders" }}
            />
          </InlineStack>
        ) : null}
      </BlockStack>
    </Card>
  );
}

export function CustomerProfile({ customer }: { customer: CustomerDetail }) {
  return (
    <Card>
      <BlockStack gap="400">
        <Text as="h2" variant="headingMd">
          Profile
        </Text>
        {customer.redacted ? (
          <Text as="p" tone="subdued">
            This customer's personal data was erased at the store's request.
          </Text>
        ) : null}
        <Field label="Email">{orNone(customer.email)}</Field>
        <Field label="Phone">{orNone(customer.phone)}</Field>
        <Field label="Location">{orNone(customer.location)}</Field>
        <Field label="Email marketing">
          {customer.emailMarketingState ? (
            <Badge tone={customer.emailMarketingState === "Subscribed" ? "success" : undefined}>{customer.emailMarketingState}</Badge>
          ) : (
            orNone(null, "Unknown")
          )}
        </Field>
        <Field label="Tags">
          {customer.tags.length > 0 ? (
            <InlineStack gap="100" align="start">
              {customer.tags.map((tag) => (
                <Badge key={tag}>{tag}</Badge>
              ))}
            </InlineStack>
          ) : (
            orNone(null, "No tags")
          )}
        </Field>
        <Field label="Customer since">{orNone(customer.customerSince)}</Field>
      </BlockStack>
    </Card>
  );
}
