// /app: the home page. What the CRM knows today (customers, segments, loyalty at a glance)
// and what needs attention (dead letters, broken segments, open feedback cases, failed emails).
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Badge, Banner, BlockStack, Card, InlineGrid, InlineStack, Layout, Link, Page, Text } from "@shopify/polaris";
import { authenticate } from "../shopify.server";
import { getHomeOverview } from "../services/admin-home.server";
import { getShopFormatter } from "../services/shop-format.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const fmt = await getShopFormatter(session.shop, request);
  return getHomeOverview({ shop: session.shop, fmt });
};

export const meta: MetaFunction = () => [{ title: "Home" }];

function Figure({ label, value, figure }: { label: string; value: string; figure: string }) {
  return (
    <BlockStack gap="100">
      <Text as="span" variant="bodySm" tone="subdued">
        {label}
      </Text>
      <span data-home-figure={figure}>
        <Text as="span" variant="headingLg" numeric>
          {value}
        </Text>
      </span>
    </BlockStack>
  );
}

function Section({ title, url, linkLabel, children }: { title: string; url: string; linkLabel: string; children: React.ReactNode }) {
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingMd">
            {title}
          </Text>
          <Link url={url}>{linkLabel}</Link>
        </InlineStack>
        {children}
      </BlockStack>
    </Card>
  );
}

export default function HomeRoute() {
  const home = useLoaderData<typeof loader>();
  return (
    <Page title="Home" subtitle="What the CRM knows about your store today">
      <Layout>
        {home.importWarning ? (
          <Layout.Section>
            <div data-import-warning>
              <Banner tone="warning" title="Older orders were not imported" action={{ content: "Open Sync", url: "/app/sync" }}>
                <p>{home.importWarning}</p>
              </Banner>
            </div>
          </Layout.Section>
        ) : null}
        <Layout.Section>
          <BlockStack gap="400">
            <Card>
              <BlockStack gap="300">
                <Text as="h2" variant="headingMd">
                  Needs attention
                </Text>
                {home.attention.length === 0 ? (
                  <Text as="p" tone="subdued">
                    Nothing needs your attention: every delivery was applied, every segment evaluates, no feedback case is open and no email failed.
                  </Text>
                ) : (
                  <BlockStack gap="300">
                    {home.attention.map((item) => (
                      <div key={item.key} data-attention={item.key}>
                        <BlockStack gap="100">
                          <InlineStack gap="200" blockAlign="center">
                            <Badge tone="critical">Action needed</Badge>
                            <Link url={item.url}>{item.title}</Link>
                          </InlineStack>
                          <Text as="p" variant="bodySm" tone="subdued">
                            {item.detail}
                          </Text>
                        </BlockStack>
                      </div>
                    ))}
                  </BlockStack>
                )}
              </BlockStack>
            </Card>
            <InlineGrid columns={{ xs: 1, md: 3 }} gap="400">
              <Section title="Customers" url="/app/customers" linkLabel="View customers">
                <Figure label="Customers" value={home.customers.total} figure="customers" />
                <Figure label="With orders" value={home.customers.withOrders} figure="customers-with-orders" />
                <Figure label="New in the last 30 days" value={home.customers.newThisMonth} figure="customers-new" />
              </Section>
              <Section title="Segments" url="/app/segments" linkLabel="View segments">
                <Figure label="Segments" value={home.segments.total} figure="segments" />
                {home.segments.broken > 0 ? <Badge tone="critical">{`${home.segments.broken} cannot be evaluated`}</Badge> : null}
              </Section>
              <Section title="Loyalty" url="/app/loyalty" linkLabel="View loyalty">
                {home.loyalty.configured ? (
                  <>
                    <div>{home.loyalty.enabled ? <Badge tone="success">Active</Badge> : <Badge tone="warning">Paused</Badge>}</div>
                    <Figure label="Members" value={home.loyalty.members} figure="loyalty-members" />
                    <Figure label="Points members can spend" value={home.loyalty.spendablePoints} figure="loyalty-points" />
                  </>
                ) : (
                  <Text as="p" tone="subdued">
                    No loyalty program yet. Set one up to reward your customers.
                  </Text>
                )}
              </Section>
            </InlineGrid>
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
