// The firing log: filters (rule, status, customer) sent as a GET form, newest first, paged
// with an "Older" link; each firing with its customer, status, condition result and every
// action's outcome.
import { Badge, BlockStack, Button, Card, IndexTable, InlineGrid, InlineStack, Link, Select, Text, TextField } from "@shopify/polaris";
import { useState } from "react";
import { FIRING_STATUSES, STEP_LABELS, type FiringLogView } from "../../domain/admin/automation-view-models";

const STATUS_TONE: Record<string, "success" | "critical" | "attention" | "info" | undefined> = { done: "success", failed: "critical", waiting: "attention", running: "info", pending: "info" };

export type FiringLogFilterValues = { rule: string; status: string; customer: string };

export function FiringLogFilters({ view, onApply }: { view: FiringLogView; onApply: (values: FiringLogFilterValues) => void }) {
  const [rule, setRule] = useState(view.filters.rule ?? "");
  const [status, setStatus] = useState(view.filters.status ?? "");
  const [customer, setCustomer] = useState(view.filters.customer ?? "");
  return (
    <Card>
      <InlineGrid columns={{ xs: 1, md: 4 }} gap="300" alignItems="end">
        <Select label="Rule" options={[{ label: "All rules", value: "" }, ...view.rules.map((r) => ({ label: r.name, value: r.id }))]} value={rule} onChange={setRule} />
        <Select label="Status" options={[{ label: "Any status", value: "" }, ...FIRING_STATUSES.map((s) => ({ label: s, value: s }))]} value={status} onChange={setStatus} />
        <TextField label="Customer" value={customer} onChange={setCustomer} autoComplete="off" placeholder="Customer id or gid" />
        <Button onClick={() => onApply({ rule, status, customer: customer.trim() })}>Apply filters</Button>
      </InlineGrid>
    </Card>
  );
}

export function FiringLogTable({ view, olderUrl }: { view: FiringLogView; olderUrl: string | null }) {
  return (
    <BlockStack gap="300">
      <Card padding="0">
        <IndexTable
          resourceName={{ singular: "firing", plural: "firings" }}
          itemCount={view.rows.length}
          selectable={false}
          emptyState={
            <Text as="p" tone="subdued" alignment="center">
              No firings match.
            </Text>
          }
          headings={[{ title: "Fired" }, { title: "Rule" }, { title: "Customer" }, { title: "Status" }, { title: "Condition" }, { title: "Actions" }]}
        >
          {view.rows.map((r, index) => (
            <IndexTable.Row id={r.id} key={r.id} position={index}>
              <IndexTable.Cell>
                <span title={r.eventKey}>{r.firedAt}</span>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <Link url={`/app/automations/${r.ruleId}`} removeUnderline>
                  {r.ruleName}
                </Link>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <Link url={`/app/customers/${r.customerId}`} removeUnderline>
                  {r.customerName}
                </Link>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <BlockStack gap="100">
                  <Badge tone={STATUS_TONE[r.status]}>{r.status}</Badge>
                  {r.skipReason ? (
                    <Text as="span" variant="bodySm" tone="subdued">
                      {r.skipReason}
                    </Text>
                  ) : null}
                </BlockStack>
              </IndexTable.Cell>
              <IndexTable.Cell>{r.conditionResult === null ? "—" : r.conditionResult ? "Matched" : "Not matched"}</IndexTable.Cell>
              <IndexTable.Cell>
                <BlockStack gap="100">
                  {r.actions.map((a) => (
                    <Text as="span" key={a.step} variant="bodySm" tone={a.status === "failed" ? "critical" : undefined}>
                      {`${a.step + 1}. ${STEP_LABELS[a.kind as keyof typeof STEP_LABELS] ?? a.kind}: ${a.status}${a.error ? ` (${a.error})` : ""}`}
                    </Text>
                  ))}
                  {r.lastError ? (
                    <Text as="span" variant="bodySm" tone="critical">
                      {r.lastError}
                    </Text>
                  ) : null}
                </BlockStack>
              </IndexTable.Cell>
            </IndexTable.Row>
          ))}
        </IndexTable>
      </Card>
      {olderUrl ? (
        <InlineStack align="end">
          <Button url={olderUrl}>Older</Button>
        </InlineStack>
      ) : null}
    </BlockStack>
  );
}
