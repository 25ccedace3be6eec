// The customer page's loyalty card: balance, pending points, tier, points about to expire, the
// ledger (newest first, 50 a page) and the staff adjustment form (points and a required
// reason; audited). The form posts to the customer page's action (intent adjust-points).
import { useState } from "react";
import { Form, useNavigation } from "@remix-run/react";
import { Badge, Banner, BlockStack, Box, Button, Card, DataTable, Divider, InlineGrid, InlineStack, Link, Text, TextField } from "@shopify/polaris";
import { useFormat } from "../format-context";
import { ledgerKindTone } from "../../domain/loyalty/format";
import type { AdjustmentFormResult, CustomerLoyaltyView } from "../../domain/admin/loyalty-view-models";

function Figure({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <BlockStack gap="100">
      <Text as="span" variant="bodySm" tone="subdued">
        {label}
      </Text>
      <span data-loyalty-figure={testId}>
        <Text as="span" variant="headingLg" numeric>
          {value}
        </Text>
      </span>
    </BlockStack>
  );
}

function AdjustmentForm({ adjustmentKey, result }: { adjustmentKey: string; result: AdjustmentFormResult | null | undefined }) {
  const navigation = useNavigation();
  const submitting = navigation.state === "submitting" && navigation.formData?.get("intent") === "adjust-points";
  const [points, setPoints] = useState("");
  const [reason, setReason] = useState("");
  const errors = result && !result.ok ? result.errors : {};
  return (
    <Form method="post" data-loyalty-adjust="">
      <input type="hidden" name="intent" value="adjust-points" />
      <input type="hidden" name="adjustmentKey" value={adjustmentKey} />
      <BlockStack gap="300">
        <Text as="h3" variant="headingSm">
          Adjust points
        </Text>
        {errors.form ? (
          <Banner tone="critical" title="Not adjusted">
            <p>{errors.form}</p>
          </Banner>
        ) : null}
        <InlineGrid columns={["oneThird", "twoThirds"]} gap="300">
          <TextField
            label="Points"
            name="points"
            value={points}
            onChange={setPoints}
            autoComplete="off"
            inputMode="numeric"
            placeholder="50 or -20"
            error={errors.points}
          />
          <TextField
            label="Reason"
            name="reason"
            value={reason}
            onChange={setReason}
            autoComplete="off"
            maxLength={500}
            placeholder="Goodwill for a late delivery"
            helpText="Required. Kept in the ledger and the audit log."
            error={errors.reason}
          />
        </InlineGrid>
        <InlineStack align="end">
          <Button submit loading={submitting}>
            Adjust points
          </Button>
        </InlineStack>
      </BlockStack>
    </Form>
  );
}

export function CustomerLoyaltyCard({ loyalty, result, olderUrl, newestUrl }: { loyalty: CustomerLoyaltyView; result: AdjustmentFormResult | null | undefined; olderUrl: string | null; newestUrl: string }) {
  const fmt = useFormat();
  const { ledger } = loyalty;
  const rows = ledger.rows.map((r) => [
    <Text as="span" key="date" variant="bodySm">
      {r.date}
    </Text>,
    <Badge key="kind" tone={ledgerKindTone(r.kind)}>
      {r.kindLabel}
    </Badge>,
    <BlockStack key="reason" gap="050">
      <Text as="span">{r.orderName && !r.reason.includes(r.orderName) ? `${r.reason} (${r.orderName})` : r.reason}</Text>
      {r.staff ? (
        <Text as="span" variant="bodySm" tone="subdued">
          By {r.staff}
        </Text>
      ) : null}
      {r.pendingUntil ? (
        <Text as="span" variant="bodySm" tone="caution">
          Pending until {r.pendingUntil}
        </Text>
      ) : null}
    </BlockStack>,
    <span key="points" data-ledger-points={r.points}>
      <Text as="span" numeric fontWeight="semibold" tone={r.points < 0 ? "critical" : "success"}>
        {r.pointsText}
      </Text>
    </span>,
  ]);
  return (
    <Card>
      <BlockStack gap="400">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingMd">
            Loyalty
          </Text>
          {!loyalty.programEnabled ? <Badge tone="warning">Program paused</Badge> : null}
        </InlineStack>
        <InlineGrid columns={{ xs: 2, md: 3 }} gap="400">
          <Figure label="Balance" value={fmt.points(loyalty.balance)} testId="balance" />
          <Figure label="Pending" value={fmt.points(loyalty.pending)} testId="pending" />
          <Figure label="Tier" value={loyalty.tier ?? "None"} testId="tier" />
        </InlineGrid>
        {loyalty.expiring ? (
          <Banner tone="warning">
            <p>
              {fmt.points(loyalty.expiring.points)} expire on {loyalty.expiring.on} unless the customer orders, redeems or earns a bonus before then.
            </p>
          </Banner>
        ) : null}
        <Divider />
        <BlockStack gap="200">
          <InlineStack align="space-between" blockAlign="center">
            <Text as="h3" variant="headingSm">
              Ledger
            </Text>
            <Text as="span" variant="bodySm" tone="subdued">
              {ledger.total === 0 ? "No entries" : `${fmt.count(ledger.total)} ${ledger.total === 1 ? "entry" : "entries"}, newest first`}
            </Text>
          </InlineStack>
          {ledger.rows.length === 0 ? (
            <Text as="p" tone="subdued">
              No points yet. Orders placed while the program is active earn points.
            </Text>
          ) : (
            <Box data-loyalty-ledger="">
              <DataTable columnContentTypes={["text", "text", "text", "numeric"]} headings={["Date", "Entry", "Details", "Points"]} rows={rows} verticalAlign="top" increasedTableDensity />
            </Box>
          )}
          {olderUrl || !ledger.isFirstPage ? (
            <InlineStack gap="300">
              {!ledger.isFirstPage ? <Link url={newestUrl}>Newest entries</Link> : null}
              {olderUrl ? <Link url={olderUrl}>Older entries</Link> : null}
            </InlineStack>
          ) : null}
        </BlockStack>
        <Divider />
        <AdjustmentForm key={loyalty.adjustmentKey} adjustmentKey={loyalty.adjustmentKey} result={result} />
      </BlockStack>
    </Card>
  );
}
