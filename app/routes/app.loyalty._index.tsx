// /app/loyalty: the loyalty program dashboard (members, points per week, liability, tiers),
// or how to set the program up when the shop has none.
import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Page } from "@shopify/polaris";
import vizStyles from "@shopify/polaris-viz/build/esm/styles.css";
import { authenticate } from "../shopify.server";
import { getLoyaltyDashboard } from "../services/admin-loyalty.server";
import { getShopFormatter } from "../services/shop-format.server";
import { LoyaltyDashboard, NoProgram, SETTINGS_URL } from "../components/loyalty/dashboard";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: vizStyles }];

export const meta: MetaFunction = () => [{ title: "Loyalty" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return { dashboard: await getLoyaltyDashboard({ shop: session.shop, fmt: await getShopFormatter(session.shop, request) }) };
};

export default function LoyaltyRoute() {
  const { dashboard } = useLoaderData<typeof loader>();
  return (
    <Page
      title="Loyalty"
      subtitle="Points customers earn on orders, and what they are worth"
      primaryAction={dashboard ? { content: "Program settings", url: SETTINGS_URL } : undefined}
    >
      {dashboard ? <LoyaltyDashboard data={dashboard} /> : <NoProgram />}
    </Page>
  );
}
