// /app/settings: where the app is configured and operated, apart from the merchant's daily
// pages: the webhook pipeline (an operator's status page), email and loyalty settings.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { BlockStack, Card, Layout, Link, Page, Text } from "@shopify/polaris";
import { authenticate } from "../shopify.server";
import { getShopFormatSettings } from "../services/shop-format.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const { timeZone, timeZoneKnown, locale } = await getShopFormatSettings(session.shop, request);
  return { timeZone, timeZoneKnown, locale };
};

export const meta: MetaFunction = () => [{ title: "Settings" }];

const SECTIONS = [
  { url: "/app/pipeline", title: "Pipeline", description: "How Shopify's webhook deliveries fared, how far behind the worker is, and the deliveries that failed every retry (replay them here)." },
  { url: "/app/settings/email", title: "Email settings", description: "The sender address and the mail server the app sends feedback requests through; send a test email." },
  { url: "/app/loyalty/settings", title: "Loyalty settings", description: "How customers earn and redeem points, tiers, expiry and the program's time zone." },
];

export default function SettingsRoute() {
  const { timeZone, timeZoneKnown, locale } = useLoaderData<typeof loader>();
  return (
    <Page title="Settings">
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            {SECTIONS.map((s) => (
              <Card key={s.url}>
                <BlockStack gap="200">
                  <Text as="h2" variant="headingMd">
                    <Link url={s.url}>{s.title}</Link>
                  </Text>
                  <Text as="p" tone="subdued">
                    {s.description}
                  </Text>
                </BlockStack>
              </Card>
            ))}
          </BlockStack>
        </Layout.Section>
        <Layout.Section variant="oneThird">
          <Card>
            <BlockStack gap="200">
              <Text as="h2" variant="headingMd">
                Display
              </Text>
              <Text as="p">
                Dates and times are shown in your store's time zone, <Text as="span" fontWeight="semibold">{timeZone}</Text>
                {timeZoneKnown ? " (from your Shopify settings)" : " (your store's own zone could not be read from Shopify yet)"}; numbers in the admin's language ({locale}).
              </Text>
            </BlockStack>
          </Card>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
