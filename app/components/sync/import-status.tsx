// The history import on the Sync page: its state and a progress bar per object type.
import { Form, useNavigation } from "@remix-run/react";
import { Badge, BlockStack, Button, Card, InlineGrid, InlineStack, ProgressBar, Text } from "@shopify/polaris";
import type { ImportProgressRow, SyncImportView } from "../../domain/admin/sync-view-models";

const TONES = { running: "attention", done: "success", failed: "critical" } as const;

function ProgressRow({ row }: { row: ImportProgressRow }) {
  return (
    <div data-import-type={row.objectType}>
      <BlockStack gap="150">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h3" variant="headingSm">
            {row.label}
          </Text>
          <Text as="span" tone="subdued">
            {row.step}
          </Text>
        </InlineStack>
        <ProgressBar progress={row.percent ?? 0} animated={false} size="small" tone={row.percent === 100 ? "success" : "highlight"} ariaLabelledBy={`import-${row.objectType}`} />
        <InlineStack align="space-between" blockAlign="center" gap="200">
          <span id={`import-${row.objectType}`} data-import-done>
            <Text as="span" numeric>
              {row.doneText}
              {row.percent !== null ? ` (${row.percent}%)` : ""}
            </Text>
          </span>
          <Text as="span" variant="bodySm" tone="subdued">
            {[row.rate, row.timeLeft ? `about ${row.timeLeft} left` : null].filter(Boolean).join(" · ") || " "}
          </Text>
        </InlineStack>
      </BlockStack>
    </div>
  );
}

export function ImportStatusCard({ run }: { run: SyncImportView | null }) {
  const navigation = useNavigation();
  const busy = navigation.state !== "idle" && navigation.formData?.get("intent") === "start-import";
  return (
    <Card>
      <BlockStack gap="400">
        <InlineStack align="space-between" blockAlign="center">
          <InlineStack gap="200" blockAlign="center">
            <Text as="h2" variant="headingMd">
              History import
            </Text>
            {run ? (
              <span data-import-state={run.state}>
                <Badge tone={TONES[run.state]}>{run.stateLabel}</Badge>
              </span>
            ) : null}
          </InlineStack>
          <Form method="post">
            <input type="hidden" name="intent" value="start-import" />
            <Button submit loading={busy} disabled={run?.state === "running"}>
              {run ? "Re-import" : "Start import"}
            </Button>
          </Form>
        </InlineStack>
        {run ? (
          <>
            <Text as="p" tone="subdued">
              {run.finishedAt ? `Started ${run.startedAt}, finished ${run.finishedAt}${run.duration ? ` (${run.duration})` : ""}.` : `Started ${run.startedAt}.`}
            </Text>
            {run.error ? (
              <Text as="p" tone="critical">
                {run.error}
              </Text>
            ) : null}
            <InlineGrid columns={{ xs: 1, md: 3 }} gap="400">
              {run.rows.map((row) => (
                <ProgressRow key={row.objectType} row={row} />
              ))}
            </InlineGrid>
          </>
        ) : (
          <Text as="p" tone="subdued">
            The store&apos;s customers, orders and products have not been imported yet. Start the import to bring in the store&apos;s history; webhooks keep it current afterwards.
          </Text>
        )}
      </BlockStack>
    </Card>
  );
}
