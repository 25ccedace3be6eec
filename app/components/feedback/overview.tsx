// /app/feedback: the headline figures, NPS per week (Polaris Viz, decision 017: drawn in the
// browser only, the server's HTML holds a box of the same height), average rating per product.
import { LineChart, PolarisVizProvider } from "@shopify/polaris-viz";
import { BlockStack, Button, Card, DataTable, InlineGrid, InlineStack, Text } from "@shopify/polaris";
import { useHydrated } from "../segments/membership-chart";
import { formatCount, formatNps, formatPercent, formatRating } from "./format";

type Overview = {
  stats: { requested: number; sent: number; answered: number; nps: number | null; promoters: number; passives: number; detractors: number; averageRating: number | null; openCases: number };
  responseRate: number | null;
  weeks: { label: string; nps: number | null; responses: number }[];
  products: { productGid: string; title: string; ratings: number; average: number }[];
};

function Figure({ label, value, detail, name }: { label: string; value: string; detail?: string; name: string }) {
  return (
    <Card>
      <BlockStack gap="100">
        <Text as="h3" variant="headingSm" tone="subdued">
          {label}
        </Text>
        <Text as="p" variant="heading2xl">
          <span data-feedback-figure={name}>{value}</span>
        </Text>
        {detail ? (
          <Text as="p" variant="bodySm" tone="subdued">
            {detail}
          </Text>
        ) : null}
      </BlockStack>
    </Card>
  );
}

export function OverviewFigures({ overview }: { overview: Overview }) {
  const s = overview.stats;
  return (
    <InlineGrid columns={{ xs: 1, sm: 2, md: 4 }} gap="400">
      <Figure name="nps" label="Net Promoter Score" value={formatNps(s.nps)} detail={`${formatCount(s.promoters)} promoters · ${formatCount(s.passives)} passives · ${formatCount(s.detractors)} detractors`} />
      <Figure name="response-rate" label="Response rate" value={formatPercent(overview.responseRate)} detail={`${formatCount(s.answered)} answered of ${formatCount(s.sent)} sent (${formatCount(s.requested)} requests)`} />
      <Figure name="average-rating" label="Average product rating" value={formatRating(s.averageRating)} detail="out of 5" />
      <Card>
        <BlockStack gap="100">
          <Text as="h3" variant="headingSm" tone="subdued">
            Open cases
          </Text>
          <Text as="p" variant="heading2xl">
            <span data-feedback-figure="open-cases">{formatCount(s.openCases)}</span>
          </Text>
          <InlineStack>
            <Button url="/app/feedback/cases" variant="plain">
              Open the cases inbox
            </Button>
          </InlineStack>
        </BlockStack>
      </Card>
    </InlineGrid>
  );
}

const CHART_HEIGHT = 260;

export function NpsChart({ weeks }: { weeks: Overview["weeks"] }) {
  const hydrated = useHydrated();
  // Weeks without answers have no NPS: left out of the line rather than drawn as 0.
  const data = [{ name: "NPS", color: "#2c6ecb", data: weeks.filter((w) => w.nps !== null).map((w) => ({ key: w.label, value: w.nps })) }];
  const responses = weeks.reduce((n, w) => n + w.responses, 0);
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          NPS over time
        </Text>
        <Text as="p" variant="bodySm" tone="subdued">
          Per week (UTC), last {weeks.length} weeks: {formatCount(responses)} responses
        </Text>
        <div data-feedback-chart={hydrated ? "drawn" : "pending"} style={{ height: CHART_HEIGHT }}>
          {hydrated ? (
            <PolarisVizProvider defaultTheme="Light">
              <LineChart data={data} theme="Light" isAnimated={false} xAxisOptions={{ allowLineWrap: false }} emptyStateText="No answers in this period" />
            </PolarisVizProvider>
          ) : null}
        </div>
      </BlockStack>
    </Card>
  );
}

export function ProductRatings({ products }: { products: Overview["products"] }) {
  return (
    <Card padding="0">
      <BlockStack gap="200">
        <div style={{ padding: "16px 16px 0" }}>
          <Text as="h2" variant="headingMd">
            Average rating per product
          </Text>
        </div>
        {products.length === 0 ? (
          <div style={{ padding: "0 16px 16px" }}>
            <Text as="p" tone="subdued">
              No product ratings yet.
            </Text>
          </div>
        ) : (
          <DataTable
            columnContentTypes={["text", "numeric", "numeric"]}
            headings={["Product", "Ratings", "Average"]}
            rows={products.map((p) => [p.title, formatCount(p.ratings), formatRating(p.average)])}
          />
        )}
      </BlockStack>
    </Card>
  );
}
