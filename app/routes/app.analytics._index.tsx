// /app/analytics: the overview of a date range (presets or custom from/to in the address) with
// the change against the previous period, and the cohort retention grid of the range's
// first-order months with the cumulative revenue per customer. Thin: one service call.
import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData, useLocation, useNavigate } from "@remix-run/react";
import { BlockStack, Layout, Page } from "@shopify/polaris";
import vizStyles from "@shopify/polaris-viz/build/esm/styles.css";
import { authenticate } from "../shopify.server";
import { getShopFormatter } from "../services/shop-format.server";
import { getAnalyticsPage } from "../services/admin-analytics.server";
import { CohortGrid, CohortRevenue, OverviewCards, RangePicker } from "../components/analytics/analytics";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: vizStyles }];

export const meta: MetaFunction = () => [{ title: "Analytics" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return getAnalyticsPage({ shop: session.shop, params: new URL(request.url).searchParams, fmt: await getShopFormatter(session.shop, request) });
};

export default function AnalyticsRoute() {
  const page = useLoaderData<typeof loader>();
  const navigate = useNavigate();
  const location = useLocation();
  return (
    <Page title="Analytics" subtitle={`${page.periodLabel}, compared with ${page.comparisonLabel} (${page.timeZone})`}>
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            <RangePicker key={location.search} range={page.range} onApply={(query) => navigate(`${location.pathname}?${query}`)} />
            <OverviewCards cards={page.cards} range={page.range} comparisonLabel={page.comparisonLabel} />
            <CohortGrid cohorts={page.cohorts} months={page.months} range={page.range} />
            <CohortRevenue cohorts={page.cohorts} months={page.months} />
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
