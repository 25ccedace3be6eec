// Entries and exits per day as a line chart (Shopify's Polaris Viz; docs/decisions/017).
// The chart measures its container, so it is drawn in the browser only: the server's HTML
// (and the first render while hydrating) holds a box of the same size with the totals.
import { useSyncExternalStore } from "react";
import { LineChart, PolarisVizProvider } from "@shopify/polaris-viz";
import { BlockStack, InlineStack, Text } from "@shopify/polaris";
import { useFormat } from "../format-context";
import type { SegmentChangeDayView } from "../../domain/admin/segment-view-models";

const subscribeNothing = () => () => undefined;

/** False on the server and while hydrating, true once the page runs in the browser. */
export function useHydrated(): boolean {
  return useSyncExternalStore(
    subscribeNothing,
    () => true,
    () => false,
  );
}

const CHART_HEIGHT = 240;
const ENTERED_COLOUR = "#29845a";
const EXITED_COLOUR = "#e22c38";

export function MembershipChart({ days }: { days: SegmentChangeDayView[] }) {
  const hydrated = useHydrated();
  const fmt = useFormat();
  const axisLabel = (value: string | number | null) => (value === null ? "" : fmt.count(Number(value)));
  const entered = days.reduce((n, d) => n + d.entered, 0);
  const exited = days.reduce((n, d) => n + d.exited, 0);
  const data = [
    { name: "Entered", color: ENTERED_COLOUR, data: days.map((d) => ({ key: d.label, value: d.entered })) },
    { name: "Exited", color: EXITED_COLOUR, data: days.map((d) => ({ key: d.label, value: d.exited })) },
  ];
  return (
    <BlockStack gap="300">
      <InlineStack gap="400">
        <Text as="span" variant="bodySm">
          <span style={{ color: ENTERED_COLOUR, fontWeight: 600 }}>{fmt.count(entered)} entered</span>
        </Text>
        <Text as="span" variant="bodySm">
          <span style={{ color: EXITED_COLOUR, fontWeight: 600 }}>{fmt.count(exited)} exited</span>
        </Text>
        <Text as="span" variant="bodySm" tone="subdued">
          in the last {days.length} days (UTC)
        </Text>
      </InlineStack>
      <div data-segment-chart={hydrated ? "drawn" : "pending"} style={{ height: CHART_HEIGHT }}>
        {hydrated ? (
          <PolarisVizProvider defaultTheme="Light">
            <LineChart
              data={data}
              theme="Light"
              isAnimated={false}
              xAxisOptions={{ allowLineWrap: false }}
              yAxisOptions={{ integersOnly: true, labelFormatter: axisLabel }}
              tooltipOptions={{ valueFormatter: axisLabel }}
              emptyStateText="No entries or exits in this period"
            />
          </PolarisVizProvider>
        ) : null}
      </div>
    </BlockStack>
  );
}
