// The Automations list: each rule's trigger, on/off switch, firings in the last 7 days and
// failures; and the shipped templates to start a new rule from.
import { Badge, BlockStack, Box, Button, Card, EmptyState, IndexTable, InlineGrid, InlineStack, Link, Text } from "@shopify/polaris";
import { useFormat } from "../format-context";
import { EMPTY_STATE_IMAGE } from "../empty-state-image";
import type { AutomationListRow, TemplateOption } from "../../domain/admin/automation-view-models";

export const NEW_RULE_URL = "/app/automations/new";

export function RuleList({ rules, busyId, onToggle }: { rules: AutomationListRow[]; busyId: string | null; onToggle: (id: string, enabled: boolean) => void }) {
  const fmt = useFormat();
  if (rules.length === 0) {
    return (
      <Card>
        <EmptyState heading="Act on your customers' moments" action={{ content: "New rule", url: NEW_RULE_URL }} image={EMPTY_STATE_IMAGE}>
          <p>When an order is placed, a customer enters a segment or has not ordered for a while, tag them, send a discount code, award points or call a webhook. Start from a template below.</p>
        </EmptyState>
      </Card>
    );
  }
  return (
    <Card padding="0">
      <IndexTable
        resourceName={{ singular: "rule", plural: "rules" }}
        itemCount={rules.length}
        selectable={false}
        headings={[{ title: "Name" }, { title: "Trigger" }, { title: "Status" }, { title: "Fired, last 7 days", alignment: "end" }, { title: "Failures", alignment: "end" }, { title: "Updated" }]}
      >
        {rules.map((r, index) => (
          <IndexTable.Row id={r.id} key={r.id} position={index}>
            <IndexTable.Cell>
              <div data-automation-rule={r.name}>
                <Link url={`/app/automations/${r.id}`} monochrome removeUnderline>
                  <Text as="span" fontWeight="semibold">
                    {r.name}
                  </Text>
                </Link>
              </div>
            </IndexTable.Cell>
            <IndexTable.Cell>{r.trigger}</IndexTable.Cell>
            <IndexTable.Cell>
              <InlineStack gap="200" blockAlign="center" wrap={false}>
                <Badge tone={r.enabled ? "success" : undefined}>{r.enabled ? "On" : "Off"}</Badge>
                <Button size="slim" loading={busyId === r.id} onClick={() => onToggle(r.id, !r.enabled)} accessibilityLabel={`${r.enabled ? "Switch off" : "Switch on"} ${r.name}`}>
                  {r.enabled ? "Switch off" : "Switch on"}
                </Button>
              </InlineStack>
            </IndexTable.Cell>
            <IndexTable.Cell>
              <Text as="span" alignment="end" numeric>
                {fmt.count(r.fired7d)}
              </Text>
            </IndexTable.Cell>
            <IndexTable.Cell>
              <Text as="span" alignment="end" numeric tone={r.failed > 0 ? "critical" : undefined}>
                {r.failed > 0 ? <Link url={`/app/automations/log?rule=${r.id}&status=failed`}>{fmt.count(r.failed)}</Link> : "0"}
              </Text>
            </IndexTable.Cell>
            <IndexTable.Cell>{r.updatedAt}</IndexTable.Cell>
          </IndexTable.Row>
        ))}
      </IndexTable>
    </Card>
  );
}

export function TemplatePicker({ templates }: { templates: TemplateOption[] }) {
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Start from a template
        </Text>
        <InlineGrid columns={{ xs: 1, md: 2 }} gap="200">
          {templates.map((t) => (
            <Box key={t.key} padding="300" borderWidth="025" borderColor="border" borderRadius="200">
              <InlineStack align="space-between" blockAlign="center" wrap={false} gap="200">
                <BlockStack gap="100">
                  <Text as="span" fontWeight="semibold">
                    {t.name}
                  </Text>
                  <Text as="span" variant="bodySm" tone="subdued">
                    {t.trigger}
                  </Text>
                </BlockStack>
                <Button size="slim" url={`${NEW_RULE_URL}?template=${encodeURIComponent(t.key)}`} accessibilityLabel={`Use the template ${t.name}`}>
                  Use
                </Button>
              </InlineStack>
            </Box>
          ))}
        </InlineGrid>
      </BlockStack>
    </Card>
  );
}
