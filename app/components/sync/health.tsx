// Sync health on the Sync page: webhooks received per topic in the last 24 hours, processing
// lag and dead letters (replayed from the Pipeline page).
import { BlockStack, Card, DataTable, InlineGrid, InlineStack, Link, Text } from "@shopify/polaris";
import type { SyncOverview } from "../../domain/admin/sync-view-models";

export function WebhooksCard({ overview }: { overview: SyncOverview }) {
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingMd">
            Webhooks in the last 24 hours
          </Text>
          <span data-sync-figure="webhooks-24h">
            <Text as="span" tone="subdued">
              {overview.webhooksTotal24h} received
            </Text>
          </span>
        </InlineStack>
        {overview.webhooks24h.length > 0 ? (
          <DataTable columnContentTypes={["text", "numeric"]} headings={["Topic", "Received"]} rows={overview.webhooks24h.map((w) => [w.topic, w.count])} />
        ) : (
          <Text as="p" tone="subdued">
            No webhook arrived in the last 24 hours.
          </Text>
        )}
      </BlockStack>
    </Card>
  );
}

export function HealthCard({ overview }: { overview: SyncOverview }) {
  const { lag, deadLetters } = overview;
  return (
    <Card>
      <BlockStack gap="400">
        <Text as="h2" variant="headingMd">
          Processing
        </Text>
        <InlineGrid columns={{ xs: 1, md: 3 }} gap="400">
          <BlockStack gap="100">
            <Text as="span" variant="bodySm" tone="subdued">
              Average lag (last hour)
            </Text>
            <span data-sync-figure="lag">
              <Text as="span" variant="headingLg">
                {lag.average ?? "No events"}
              </Text>
            </span>
            <Text as="span" variant="bodySm" tone="subdued">
              {lag.max ? `Slowest ${lag.max}` : " "}
            </Text>
          </BlockStack>
          <BlockStack gap="100">
            <Text as="span" variant="bodySm" tone="subdued">
              Waiting or retrying
            </Text>
            <Text as="span" variant="headingLg" numeric>
              {lag.pending}
            </Text>
            <Text as="span" variant="bodySm" tone="subdued">
              {lag.oldestPending ? `Oldest ${lag.oldestPending}` : "None pending"}
            </Text>
          </BlockStack>
          <BlockStack gap="100">
            <Text as="span" variant="bodySm" tone="subdued">
              Dead letters
            </Text>
            <span data-sync-figure="dead-letters">
              <Text as="span" variant="headingLg" numeric tone={deadLetters.count > 0 ? "critical" : undefined}>
                {deadLetters.text}
              </Text>
            </span>
            <Link url="/app/pipeline">{deadLetters.count > 0 ? "Replay them in the Pipeline" : "Open the Pipeline"}</Link>
          </BlockStack>
        </InlineGrid>
      </BlockStack>
    </Card>
  );
}
