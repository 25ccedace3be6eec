// Points issued, redeemed, reversed and expired per week as a line chart (Polaris Viz, as the
// segment page: docs/decisions/017). Drawn in the browser only (the chart measures its
// container); the server's HTML holds a box of the same height plus the totals as text.
import { LineChart, PolarisVizProvider } from "@shopify/polaris-viz";
import { BlockStack, InlineStack, Text } from "@shopify/polaris";
import { useHydrated } from "../segments/membership-chart";
import { useFormat } from "../format-context";
import type { LoyaltyDashboardView } from "../../domain/admin/loyalty-view-models";

const CHART_HEIGHT = 260;

export const ACTIVITY_SERIES = [
  { key: "issued", name: "Issued", color: "#29845a" },
  { key: "redeemed", name: "Redeemed", color: "#2c6ecb" },
  { key: "reversed", name: "Reversed", color: "#e22c38" },
  { key: "expired", name: "Expired", color: "#8a8a8a" },
] as const;

export function ActivityChart({ weeks, totals }: { weeks: LoyaltyDashboardView["weeks"]; totals: LoyaltyDashboardView["totals"] }) {
  const hydrated = useHydrated();
  const fmt = useFormat();
  const axisLabel = (value: string | number | null) => (value === null ? "" : fmt.count(Number(value)));
  const data = ACTIVITY_SERIES.map((s) => ({ name: s.name, color: s.color, data: weeks.map((w) => ({ key: w.label, value: w[s.key] })) }));
  return (
    <BlockStack gap="300">
      <InlineStack gap="400">
        {ACTIVITY_SERIES.map((s) => (
          <Text as="span" variant="bodySm" key={s.key}>
            <span data-loyalty-total={s.key} style={{ color: s.color, fontWeight: 600 }}>
              {fmt.count(totals[s.key])} {s.name.toLowerCase()}
            </span>
          </Text>
        ))}
        <Text as="span" variant="bodySm" tone="subdued">
          in the last {weeks.length} weeks
        </Text>
      </InlineStack>
      <div data-loyalty-chart={hydrated ? "drawn" : "pending"} style={{ height: CHART_HEIGHT }}>
        {hydrated ? (
          <PolarisVizProvider defaultTheme="Light">
            <LineChart data={data} theme="Light" isAnimated={false} xAxisOptions={{ allowLineWrap: false }} yAxisOptions={{ integersOnly: true, labelFormatter: axisLabel }} tooltipOptions={{ valueFormatter: axisLabel }} emptyStateText="No points activity in this period" />
          </PolarisVizProvider>
        ) : null}
      </div>
    </BlockStack>
  );
}
