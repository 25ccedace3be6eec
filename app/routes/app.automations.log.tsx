// /app/automations/log?rule=&status=&customer=&before=: the firing log, filtered, newest first, paged.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData, useLocation, useNavigate } from "@remix-run/react";
import { BlockStack, Layout, Page } from "@shopify/polaris";
import { authenticate } from "../shopify.server";
import { getShopFormatter } from "../services/shop-format.server";
import { getFiringLog, parseFiringLogFilters } from "../services/admin-automations.server";
import { FiringLogFilters, FiringLogTable } from "../components/automations/firing-log";

export const meta: MetaFunction = () => [{ title: "Firing log · Automations" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const filters = parseFiringLogFilters(new URL(request.url).searchParams);
  return getFiringLog({ shop: session.shop, filters, fmt: await getShopFormatter(session.shop, request) });
};

export default function FiringLogRoute() {
  const view = useLoaderData<typeof loader>();
  const location = useLocation();
  const navigate = useNavigate();
  // Only the filters travel in links (the admin's own parameters are added by App Bridge).
  const query = (values: Partial<Record<string, string | null>>) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(values)) if (v) params.set(k, v);
    return `${location.pathname}?${params}`;
  };
  const { rule, status, customer } = view.filters;
  const olderUrl = view.olderCursor ? query({ rule, status, customer, before: view.olderCursor }) : null;
  return (
    <Page title="Firing log" backAction={{ content: "Automations", url: "/app/automations" }}>
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            <FiringLogFilters key={location.search} view={view} onApply={(values) => navigate(query(values))} />
            <FiringLogTable view={view} olderUrl={olderUrl} />
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
