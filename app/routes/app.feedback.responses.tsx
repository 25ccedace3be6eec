// /app/feedback/responses: every answer, newest first, filtered by query-string params
// (group, npsMin, npsMax, rating, sentiment, product, language, from, to) with keyset
// pagination (`before`). Thin: one service call.
import { getShopFormatter } from "../services/shop-format.server";
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData, useLocation, useNavigate } from "@remix-run/react";
import { BlockStack, Button, InlineStack, Layout, Page } from "@shopify/polaris";
import { authenticate } from "../shopify.server";
import { listFeedbackResponses, parseResponseFilters } from "../services/admin-feedback.server";
import { ResponseFilters, ResponsesTable, type ResponsesFilterValues } from "../components/feedback/responses";

export const meta: MetaFunction = () => [{ title: "Feedback responses" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return listFeedbackResponses({ shop: session.shop, filters: parseResponseFilters(new URL(request.url).searchParams), fmt: await getShopFormatter(session.shop, request) });
};

const FILTER_KEYS = ["group", "npsMin", "npsMax", "rating", "sentiment", "product", "language", "from", "to"] as const;

export default function FeedbackResponsesRoute() {
  const page = useLoaderData<typeof loader>();
  const navigate = useNavigate();
  const location = useLocation();
  const initial = Object.fromEntries(FILTER_KEYS.map((k) => [k, page.filters[k] === undefined ? "" : String(page.filters[k])])) as ResponsesFilterValues;
  const query = (values: Partial<Record<string, string>>) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(values)) if (v) params.set(k, v);
    return `${location.pathname}?${params}`;
  };
  return (
    <Page title="Feedback responses" backAction={{ content: "Feedback", url: "/app/feedback" }}>
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            <ResponseFilters key={location.search} initial={initial} products={page.products} languages={page.languages} onApply={(values) => navigate(query(values))} />
            <ResponsesTable responses={page.responses} />
            {page.olderCursor ? (
              <InlineStack align="center">
                <Button url={query({ ...initial, before: page.olderCursor })}>Older responses</Button>
              </InlineStack>
            ) : null}
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
