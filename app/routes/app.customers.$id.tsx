// /app/customers/:id (numeric legacy id): profile, metrics, the loyalty card (balance,
// pending, tier, ledger, staff adjustments) and the order timeline.
import { useEffect } from "react";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { isRouteErrorResponse, useActionData, useLoaderData, useLocation, useRouteError, type ShouldRevalidateFunction } from "@remix-run/react";
import { Badge, BlockStack, Layout, Page } from "@shopify/polaris";
import { useAppBridge } from "@shopify/app-bridge-react";
import { z } from "zod";
import { authenticate } from "../shopify.server";
import { getCustomerDetail } from "../services/admin-customers.server";
import { adjustCustomerPoints, getCustomerLoyalty } from "../services/admin-loyalty.server";
import { AccountStateBadge, CustomerMetrics, CustomerProfile, OrderTimeline } from "../components/customer-detail";
import { getShopFormatter } from "../services/shop-format.server";
import { CustomerLoyaltyCard } from "../components/loyalty/customer-loyalty-card";
import { pointsLabel } from "../domain/loyalty/format";
import type { AdjustmentFormResult } from "../domain/admin/loyalty-view-models";
import { NotFoundPage } from "../components/not-found-page";
import { getCustomerFeedback } from "../services/admin-feedback.server";
import { CustomerFeedbackCard } from "../components/feedback/customer-feedback-card";

const ParamsSchema = z.object({ id: z.string().regex(/^\d{1,20}$/) });
const SearchSchema = z.object({
  ledgerBefore: z.string().regex(/^\d{1,19}$/).optional().catch(undefined),
  // Opaque keyset cursors of the order timeline (decision 040); one that does not parse is ignored.
  ordersAfter: z.string().max(200).optional().catch(undefined),
  ordersBefore: z.string().max(200).optional().catch(undefined),
});

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const parsed = ParamsSchema.safeParse(params);
  const fmt = await getShopFormatter(session.shop, request);
  const { ledgerBefore, ordersAfter, ordersBefore } = SearchSchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  const customer = parsed.success ? await getCustomerDetail({ shop: session.shop, customerId: parsed.data.id, ordersAfter, ordersBefore, fmt }) : null;
  if (!customer) throw new Response("Customer not found", { status: 404 });
  const loyalty = await getCustomerLoyalty({ shop: session.shop, customerGid: customer.gid, before: ledgerBefore, fmt });
  const feedback = await getCustomerFeedback({ shop: session.shop, customerGid: customer.gid, fmt });
  return { customer, loyalty, feedback };
};

export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session, sessionToken } = await authenticate.admin(request);
  const parsed = ParamsSchema.safeParse(params);
  const customer = parsed.success ? await getCustomerDetail({ shop: session.shop, customerId: parsed.data.id }) : null;
  if (!customer) throw new Response("Customer not found", { status: 404 });
  const form = Object.fromEntries(await request.formData());
  if (form.intent !== "adjust-points") {
    return json<AdjustmentFormResult>({ intent: "adjust-points", ok: false, errors: { form: "Unknown request." } }, { status: 400 });
  }
  const actor = sessionToken?.sub ? `shopify-user:${sessionToken.sub}` : "merchant";
  const { status, result } = await adjustCustomerPoints({ shop: session.shop, customerGid: customer.gid, fields: form, actor });
  return json<AdjustmentFormResult>(result, { status });
};

// A refused adjustment keeps the page as it is (the typed points and reason, the form's key); anything else reloads it.
export const shouldRevalidate: ShouldRevalidateFunction = ({ actionResult, defaultShouldRevalidate }) => {
  const result = actionResult as AdjustmentFormResult | undefined;
  if (result && result.intent === "adjust-points" && !result.ok) return false;
  return defaultShouldRevalidate;
};

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `${data.customer.name} · Customers` : "Customer not found" }];

export default function CustomerRoute() {
  const { customer, loyalty, feedback } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const location = useLocation();
  const shopify = useAppBridge();
  useEffect(() => {
    if (result?.ok) shopify.toast.show(`Points adjusted: ${result.points > 0 ? "+" : ""}${result.points}. Balance ${pointsLabel(result.balance)}.`);
  }, [result, shopify]);
  const olderUrl = loyalty?.ledger.olderCursor ? `${location.pathname}?${new URLSearchParams({ ledgerBefore: loyalty.ledger.olderCursor })}` : null;
  return (
    <Page
      title={customer.name}
      subtitle={customer.email ?? undefined}
      titleMetadata={customer.redacted ? <Badge>Redacted</Badge> : customer.accountState ? <AccountStateBadge state={customer.accountState} /> : undefined}
      backAction={{ content: "Customers", url: "/app/customers" }}
    >
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            <CustomerMetrics customer={customer} />
            {loyalty ? <CustomerLoyaltyCard loyalty={loyalty} result={result} olderUrl={olderUrl} newestUrl={location.pathname} /> : null}
            <CustomerFeedbackCard feedback={feedback} />
            <OrderTimeline
              orders={customer.orders}
              olderUrl={customer.olderOrdersCursor ? `${location.pathname}?${new URLSearchParams({ ordersAfter: customer.olderOrdersCursor })}` : null}
              newerUrl={customer.newerOrdersCursor ? `${location.pathname}?${new URLSearchParams({ ordersBefore: customer.newerOrdersCursor })}` : null}
            />
          </BlockStack>
        </Layout.Section>
        <Layout.Section variant="oneThird">
          <CustomerProfile customer={customer} />
        </Layout.Section>
      </Layout>
    </Page>
  );
}

export function ErrorBoundary() {
  const error = useRouteError();
  if (isRouteErrorResponse(error) && error.status === 404) {
    return (
      <NotFoundPage
        title="Customer not found"
        message="This store has no customer with that id. It may have been deleted."
        backUrl="/app/customers"
        backLabel="Customers"
      />
    );
  }
  // Anything else (including Shopify's auth responses) goes to the app route's boundary.
  throw error;
}
