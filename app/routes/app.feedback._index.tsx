// /app/feedback: NPS, response rate, requests sent and answered, NPS per week, average rating
// per product, and the open cases. Thin: one service call.
import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { BlockStack, Layout, Page } from "@shopify/polaris";
import vizStyles from "@shopify/polaris-viz/build/esm/styles.css";
import { authenticate } from "../shopify.server";
import { getFeedbackOverview } from "../services/admin-feedback.server";
import { NpsChart, OverviewFigures, ProductRatings } from "../components/feedback/overview";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: vizStyles }];

export const meta: MetaFunction = () => [{ title: "Feedback" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return getFeedbackOverview({ shop: session.shop });
};

export default function FeedbackOverviewRoute() {
  const overview = useLoaderData<typeof loader>();
  return (
    <Page
      title="Feedback"
      subtitle="What customers say after their orders"
      primaryAction={{ content: "Responses", url: "/app/feedback/responses" }}
      secondaryActions={[
        { content: "Cases", url: "/app/feedback/cases" },
        { content: "Settings", url: "/app/feedback/settings" },
      ]}
    >
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            <OverviewFigures overview={overview} />
            <NpsChart weeks={overview.weeks} />
            <ProductRatings products={overview.products} />
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
