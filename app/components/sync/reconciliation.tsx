// The last reconciliation on the Sync page: when, what it checked and repaired, and why.
import { Form, useNavigation } from "@remix-run/react";
import { BlockStack, Button, Card, DataTable, InlineGrid, InlineStack, Text } from "@shopify/polaris";
import type { SyncReconcileView } from "../../domain/admin/sync-view-models";

function Figure({ label, value, figure, small = false }: { label: string; value: string; figure: string; small?: boolean }) {
  return (
    <BlockStack gap="100">
      <Text as="span" variant="bodySm" tone="subdued">
        {label}
      </Text>
      <span data-sync-figure={figure}>
        <Text as="span" variant={small ? "headingSm" : "headingLg"} numeric={!small}>
          {value}
        </Text>
      </span>
    </BlockStack>
  );
}

export function ReconciliationCard({ run }: { run: SyncReconcileView | null }) {
  const navigation = useNavigation();
  const busy = navigation.state !== "idle" && navigation.formData?.get("intent") === "reconcile";
  return (
    <Card>
      <BlockStack gap="400">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingMd">
            Last reconciliation
          </Text>
          <Form method="post">
            <input type="hidden" name="intent" value="reconcile" />
            <Button submit loading={busy}>
              Reconcile now
            </Button>
          </Form>
        </InlineStack>
        <Text as="p" tone="subdued">
          Every hour the CRM compares the customers and orders Shopify changed with its own and repairs what a missed webhook left behind.
        </Text>
        {run ? (
          <>
            <InlineGrid columns={{ xs: 2, md: 4 }} gap="400">
              <Figure label={run.finishedAt ? `${run.trigger}, finished` : `${run.trigger}, started`} value={run.finishedAt ?? run.startedAt} figure="reconcile-when" small />
              <Figure label="Checked" value={run.checked} figure="reconcile-checked" />
              <Figure label="Repaired" value={run.repaired} figure="reconcile-repaired" />
              <Figure label="State" value={run.state} figure="reconcile-state" />
            </InlineGrid>
            {run.error ? (
              <Text as="p" tone="critical">
                {run.error}
              </Text>
            ) : null}
            {run.repairs.length > 0 ? (
              <DataTable
                columnContentTypes={["text", "text", "text", "text"]}
                headings={["Object", "Id", "Repair", "Reason"]}
                rows={run.repairs.map((r) => [r.objectType, r.gid, r.action, r.reason])}
              />
            ) : (
              <Text as="p" tone="subdued">
                Nothing needed repairing.
              </Text>
            )}
          </>
        ) : (
          <Text as="p" tone="subdued">
            No reconciliation has run yet.
          </Text>
        )}
      </BlockStack>
    </Card>
  );
}
