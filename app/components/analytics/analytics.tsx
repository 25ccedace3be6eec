// /app/analytics: the range picker, the overview cards, the cohort retention heat map (a real
// table; "Show counts" swaps shares for customer counts) and the cumulative revenue per
// customer (Polaris Viz, drawn in the browser only as on the feedback page, with its data
// table). Each table has a "Download CSV" button: the export route fetched with the session
// token (App Bridge adds it to same-origin fetches), saved under the route's file name.
import { useState, type CSSProperties } from "react";
import { LineChart, PolarisVizProvider } from "@shopify/polaris-viz";
import { BlockStack, Button, Card, DataTable, InlineGrid, InlineStack, Select, Text, TextField } from "@shopify/polaris";
import { useHydrated } from "../segments/membership-chart";
import { heatShade, rangeQuery, type AnalyticsRange, type OverviewCard, type RangeKind } from "../../domain/admin/analytics-view-models";

type Cohort = {
  cohort: string;
  size: number;
  customers: number[];
  retention: number[];
  retentionText: string[];
  revenuePerCustomerText: string[];
  revenuePerCustomer: number[];
};

const RANGE_OPTIONS: { label: string; value: RangeKind }[] = [
  { label: "Last 30 days", value: "30" },
  { label: "Last 90 days", value: "90" },
  { label: "Last 365 days", value: "365" },
  { label: "Custom", value: "custom" },
];

export function RangePicker({ range, onApply }: { range: AnalyticsRange; onApply: (query: string) => void }) {
  const [kind, setKind] = useState<RangeKind>(range.range);
  const [from, setFrom] = useState(range.from);
  const [to, setTo] = useState(range.to);
  return (
    <Card>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          onApply(rangeQuery({ range: kind, from, to }).toString());
        }}
      >
        <InlineStack gap="300" blockAlign="end" wrap>
          <div style={{ minWidth: 180 }}>
            <Select label="Date range" options={RANGE_OPTIONS} value={kind} onChange={(value) => setKind(value as RangeKind)} />
          </div>
          {kind === "custom" ? (
            <>
              <TextField label="From" type="date" autoComplete="off" value={from} onChange={setFrom} />
              <TextField label="To" type="date" autoComplete="off" value={to} onChange={setTo} />
            </>
          ) : null}
          <Button submit variant="primary">
            Apply
          </Button>
        </InlineStack>
      </form>
    </Card>
  );
}

function CsvButton({ report, range, label }: { report: "overview" | "cohorts"; range: AnalyticsRange; label: string }) {
  const [state, setState] = useState<"idle" | "busy" | "failed">("idle");
  const download = async () => {
    setState("busy");
    try {
      const params = rangeQuery(range);
      params.set("report", report);
      const response = await fetch(`/app/analytics/export.csv?${params}`);
      if (!response.ok) throw new Error(`export answered ${response.status}`);
      const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "")?.[1] ?? `analytics-${report}.csv`;
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = name;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setState("idle");
    } catch {
      setState("failed");
    }
  };
  return (
    <InlineStack gap="200" blockAlign="center">
      {state === "failed" ? (
        <Text as="span" tone="critical">
          The download failed; try again.
        </Text>
      ) : null}
      <Button onClick={download} loading={state === "busy"} accessibilityLabel={label}>
        Download CSV
      </Button>
    </InlineStack>
  );
}

const TONE: Record<OverviewCard["direction"], "success" | "critical" | "subdued" | undefined> = { up: "success", down: "critical", flat: "subdued", none: "subdued" };

export function OverviewCards({ cards, range, comparisonLabel }: { cards: OverviewCard[]; range: AnalyticsRange; comparisonLabel: string }) {
  return (
    <BlockStack gap="300">
      <InlineStack align="space-between" blockAlign="center">
        <Text as="h2" variant="headingMd">
          Overview
        </Text>
        <CsvButton report="overview" range={range} label="Download CSV of the overview" />
      </InlineStack>
      <InlineGrid columns={{ xs: 1, sm: 2, md: 4 }} gap="400">
        {cards.map((card) => (
          <Card key={card.key}>
            <BlockStack gap="100">
              <Text as="h3" variant="headingSm" tone="subdued">
                {card.label}
              </Text>
              <Text as="p" variant="headingXl">
                <span data-analytics-figure={card.key}>{card.value}</span>
              </Text>
              <Text as="p" variant="bodySm" tone="subdued">
                {card.direction === "none" ? null : (
                  <Text as="span" variant="bodySm" tone={TONE[card.direction]}>
                    <span data-analytics-change={card.key}>{card.change}</span>{" "}
                  </Text>
                )}
                <span title={comparisonLabel}>{card.direction === "none" ? `Previous period: ${card.previous}` : `vs ${card.previous}`}</span>
              </Text>
            </BlockStack>
          </Card>
        ))}
      </InlineGrid>
    </BlockStack>
  );
}

const cellStyle: CSSProperties = { padding: "6px 10px", textAlign: "right", whiteSpace: "nowrap", borderBottom: "1px solid #e1e3e5" };
const headStyle: CSSProperties = { ...cellStyle, fontWeight: 600, background: "#f6f6f7" };

export function CohortGrid({ cohorts, months, range }: { cohorts: Cohort[]; months: number; range: AnalyticsRange }) {
  const [showCounts, setShowCounts] = useState(false);
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center" gap="200">
          <BlockStack gap="100">
            <Text as="h2" variant="headingMd">
              Cohort retention
            </Text>
            <Text as="p" variant="bodySm" tone="subdued">
              Customers by the month of their first order; month k = share of the cohort ordering again k months later.
            </Text>
          </BlockStack>
          <InlineStack gap="200">
            <Button pressed={showCounts} onClick={() => setShowCounts((v) => !v)}>
              Show counts
            </Button>
            <CsvButton report="cohorts" range={range} label="Download CSV of the cohorts" />
          </InlineStack>
        </InlineStack>
        {cohorts.length === 0 ? (
          <Text as="p" tone="subdued">
            No customer placed a first order in this range.
          </Text>
        ) : (
          <div style={{ overflowX: "auto" }}>
            <table data-analytics-cohorts={showCounts ? "counts" : "shares"} style={{ borderCollapse: "collapse", width: "100%", fontSize: 13 }}>
              <caption style={{ textAlign: "left", paddingBottom: 8, color: "#616161" }}>
                {showCounts ? "Customers ordering in each month after their first order" : "Share of each cohort ordering in each month after its first order"}
              </caption>
              <thead>
                <tr>
                  <th scope="col" style={{ ...headStyle, textAlign: "left" }}>
                    Cohort
                  </th>
                  <th scope="col" style={headStyle}>
                    Customers
                  </th>
                  {Array.from({ length: months }, (_, k) => (
                    <th key={k} scope="col" style={headStyle}>
                      Month {k}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {cohorts.map((c) => (
                  <tr key={c.cohort} data-cohort={c.cohort}>
                    <th scope="row" style={{ ...cellStyle, textAlign: "left" }}>
                      {c.cohort}
                    </th>
                    <td style={cellStyle}>{c.size}</td>
                    {Array.from({ length: months }, (_, k) =>
                      k < c.customers.length ? (
                        <td key={k} style={{ ...cellStyle, ...heatShade(c.retention[k] ?? 0) }} title={`${c.customers[k]} of ${c.size} (${c.retentionText[k]})`}>
                          {showCounts ? c.customers[k] : c.retentionText[k]}
                        </td>
                      ) : (
                        <td key={k} style={cellStyle} aria-label="not yet" />
                      ),
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </BlockStack>
    </Card>
  );
}

const CHART_HEIGHT = 260;
const CHART_COHORTS = 6;
const COLORS = ["#2c6ecb", "#e0790b", "#1f9d55", "#b4236a", "#6b4fbb", "#5c6ac4"];

export function CohortRevenue({ cohorts, months }: { cohorts: Cohort[]; months: number }) {
  const hydrated = useHydrated();
  // The chart draws the newest cohorts (readable lines); the table below holds every cohort.
  const drawn = cohorts.slice(-CHART_COHORTS);
  const data = drawn.map((c, i) => ({ name: c.cohort, color: COLORS[i % COLORS.length], data: c.revenuePerCustomer.map((value, k) => ({ key: `Month ${k}`, value })) }));
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Cumulative revenue per customer
        </Text>
        <Text as="p" variant="bodySm" tone="subdued">
          Net of refunds, from the first order&apos;s month through each month after it{cohorts.length > CHART_COHORTS ? ` (chart: the ${CHART_COHORTS} newest cohorts)` : ""}.
        </Text>
        {cohorts.length === 0 ? null : (
          <>
            <div data-analytics-chart={hydrated ? "drawn" : "pending"} style={{ height: CHART_HEIGHT }} aria-hidden="true">
              {hydrated ? (
                <PolarisVizProvider defaultTheme="Light">
                  <LineChart data={data} theme="Light" isAnimated={false} xAxisOptions={{ allowLineWrap: false }} emptyStateText="No orders in this range" />
                </PolarisVizProvider>
              ) : null}
            </div>
            <DataTable
              columnContentTypes={["text", ...Array.from({ length: months }, () => "numeric" as const)]}
              headings={["Cohort", ...Array.from({ length: months }, (_, k) => `Month ${k}`)]}
              rows={cohorts.map((c) => [c.cohort, ...Array.from({ length: months }, (_, k) => c.revenuePerCustomerText[k] ?? "")])}
            />
          </>
        )}
      </BlockStack>
    </Card>
  );
}
