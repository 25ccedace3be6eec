import { Form, useNavigation } from "@remix-run/react";
import { Badge, BlockStack, Button, Card, EmptyState, IndexTable, InlineGrid, InlineStack, Text } from "@shopify/polaris";
import { EMPTY_STATE_IMAGE } from "./empty-state-image";
import { useFormat } from "./format-context";
import type { DeadLetterView, PipelineOverview, WebhookStatusName } from "../domain/admin/view-models";

const OUTCOMES: { status: WebhookStatusName; label: string; tone: "success" | "attention" | "warning" | "critical" | undefined; help: string }[] = [
  { status: "processed", label: "Applied", tone: "success", help: "applied to the customer model" },
  { status: "received", label: "Waiting", tone: "attention", help: "stored, waiting for the worker" },
  { status: "failed", label: "Retrying", tone: "warning", help: "an attempt failed; will retry" },
  { status: "dead", label: "Dead-lettered", tone: "critical", help: "every attempt failed" },
  { status: "ignored", label: "Ignored", tone: undefined, help: "authentic but not processable" },
];

export function DeliveryCounts({ overview }: { overview: PipelineOverview }) {
  const fmt = useFormat();
  return (
    <Card>
      <BlockStack gap="400">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingMd">
            Deliveries by outcome
          </Text>
          <Text as="span" tone="subdued">
            {fmt.count(overview.total)} received
          </Text>
        </InlineStack>
        <InlineGrid columns={{ xs: 2, md: 5 }} gap="400">
          {OUTCOMES.map((o) => (
            <BlockStack gap="100" key={o.status}>
              <InlineStack align="start">
                <Badge tone={o.tone}>{o.label}</Badge>
              </InlineStack>
              <Text as="span" variant="headingLg" numeric>
                {fmt.count(overview.counts[o.status])}
              </Text>
              <Text as="span" variant="bodySm" tone="subdued">
                {o.help}
              </Text>
            </BlockStack>
          ))}
        </InlineGrid>
      </BlockStack>
    </Card>
  );
}

export function EventLag({ overview }: { overview: PipelineOverview }) {
  const { pending, applyLag } = overview;
  const fmt = useFormat();
  return (
    <Card>
      <BlockStack gap="400">
        <Text as="h2" variant="headingMd">
          Event lag
        </Text>
        <InlineGrid columns={{ xs: 1, md: 3 }} gap="400">
          <BlockStack gap="100">
            <Text as="span" variant="bodySm" tone="subdued">
              Oldest pending event
            </Text>
            <Text as="span" variant="headingLg">
              {pending.oldestAge ?? "None pending"}
            </Text>
            <Text as="span" variant="bodySm" tone="subdued">
              {fmt.countOf(pending.count, "event")} waiting or retrying
            </Text>
          </BlockStack>
          <BlockStack gap="100">
            <Text as="span" variant="bodySm" tone="subdued">
              Average apply lag (last hour)
            </Text>
            <Text as="span" variant="headingLg">
              {applyLag.average ?? "—"}
            </Text>
            <Text as="span" variant="bodySm" tone="subdued">
              received to applied, {fmt.countOf(applyLag.samples, "event")}
            </Text>
          </BlockStack>
          <BlockStack gap="100">
            <Text as="span" variant="bodySm" tone="subdued">
              Slowest apply (last hour)
            </Text>
            <Text as="span" variant="headingLg">
              {applyLag.max ?? "—"}
            </Text>
          </BlockStack>
        </InlineGrid>
      </BlockStack>
    </Card>
  );
}

function ReplayButton({ event }: { event: DeadLetterView }) {
  const navigation = useNavigation();
  const busy = navigation.state === "submitting" && navigation.formData?.get("id") === event.id;
  return (
    <Form method="post">
      <input type="hidden" name="intent" value="replay" />
      <input type="hidden" name="id" value={event.id} />
      <Button submit size="slim" loading={busy} accessibilityLabel={`Replay event ${event.id}`}>
        Replay
      </Button>
    </Form>
  );
}

export function DeadLetters({ overview }: { overview: PipelineOverview }) {
  const navigation = useNavigation();
  const replayingAll = navigation.state === "submitting" && navigation.formData?.get("intent") === "replay-all";
  const { deadLetters, deadTotal, replayAllLimit } = overview;
  const fmt = useFormat();
  // One request replays at most replayAllLimit (in batches); past it the button says so and replays the next ones.
  const replayLabel = deadTotal > replayAllLimit ? `Replay the next ${fmt.count(replayAllLimit)}` : "Replay all dead";
  return (
    <Card padding="0">
      <BlockStack>
        <div style={{ padding: "var(--p-space-400)" }}>
          <InlineStack align="space-between" blockAlign="center">
            <BlockStack gap="100">
              <Text as="h2" variant="headingMd">
                Dead letters
              </Text>
              <Text as="span" variant="bodySm" tone="subdued">
                {deadTotal > deadLetters.length
                  ? `Showing the newest ${fmt.count(deadLetters.length)} of ${fmt.count(deadTotal)}`
                  : "Events whose every attempt failed. Replay sends them to the worker again."}
              </Text>
            </BlockStack>
            <Form method="post">
              <input type="hidden" name="intent" value="replay-all" />
              <Button submit variant="primary" disabled={deadTotal === 0} loading={replayingAll}>
                {replayLabel}
              </Button>
            </Form>
          </InlineStack>
        </div>
        <IndexTable
          resourceName={{ singular: "dead letter", plural: "dead letters" }}
          itemCount={deadLetters.length}
          selectable={false}
          emptyState={
            <EmptyState heading="No dead letters" image={EMPTY_STATE_IMAGE}>
              <p>Every delivery for this store was applied or is on its way.</p>
            </EmptyState>
          }
          headings={[{ title: "Event" }, { title: "Topic" }, { title: "Received" }, { title: "Attempts", alignment: "end" }, { title: "Last error" }, { title: "" }]}
        >
          {deadLetters.map((event, index) => (
            <IndexTable.Row id={event.id} key={event.id} position={index}>
              <IndexTable.Cell>
                <Text as="span" numeric>
                  {event.id}
                </Text>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <Text as="span" fontWeight="semibold">
                  {event.topic}
                </Text>
              </IndexTable.Cell>
              <IndexTable.Cell>{event.receivedAt}</IndexTable.Cell>
              <IndexTable.Cell>
                <Text as="span" alignment="end" numeric>
                  {fmt.count(event.attempts)}
                  {event.replays > 0 ? ` (${fmt.count(event.replays)} replayed)` : ""}
                </Text>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <div style={{ maxWidth: 360, whiteSpace: "normal" }}>
                  <Text as="span" tone="critical" breakWord>
                    {event.lastError ?? "—"}
                  </Text>
                </div>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <ReplayButton event={event} />
              </IndexTable.Cell>
            </IndexTable.Row>
          ))}
        </IndexTable>
      </BlockStack>
    </Card>
  );
}
