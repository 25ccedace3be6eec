// The segment page: definition, members (keyset pages, each linking to the customer),
// entries and exits over time, and the tag sync setting with its dry run.
import { useEffect, useState } from "react";
import { Form, useFetcher, useNavigation } from "@remix-run/react";
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  Checkbox,
  EmptyState,
  IndexTable,
  InlineGrid,
  InlineStack,
  Link,
  Pagination,
  Spinner,
  Text,
  TextField,
} from "@shopify/polaris";
import { useFormat } from "../format-context";
import { checkSyncTag } from "../../shopify/customer-tags";
import { EMPTY_STATE_IMAGE } from "../empty-state-image";
import { dryRunSentences } from "./format";
import { MembershipChart } from "./membership-chart";
import { QueryText } from "./query-editor";
import type { SegmentDetailView, SegmentMembersPage, SegmentPageData, TagDryRunResponse, TagOutboxView } from "../../domain/admin/segment-view-models";

export const TAG_PREVIEW_DEBOUNCE_MS = 300;

export const segmentUrl = (id: string, cursor?: { after?: string | null; before?: string | null }) => {
  const params = new URLSearchParams();
  if (cursor?.after) params.set("after", cursor.after);
  else if (cursor?.before) params.set("before", cursor.before);
  const search = params.toString();
  return `/app/segments/${id}${search ? `?${search}` : ""}`;
};

function Metric({ label, value, help, size = "headingLg" }: { label: string; value: string; help?: string; size?: "headingLg" | "headingMd" }) {
  return (
    <BlockStack gap="100">
      <Text as="span" variant="bodySm" tone="subdued">
        {label}
      </Text>
      <Text as="span" variant={size} numeric>
        {value}
      </Text>
      {help ? (
        <Text as="span" variant="bodySm" tone="subdued">
          {help}
        </Text>
      ) : null}
    </BlockStack>
  );
}

export function DefinitionCard({ segment }: { segment: SegmentDetailView }) {
  const fmt = useFormat();
  const navigation = useNavigation();
  const recomputing = navigation.state === "submitting" && navigation.formData?.get("intent") === "recompute";
  return (
    <Card>
      <BlockStack gap="400">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingMd">
            Definition
          </Text>
          <InlineStack gap="200">
            <Button url={`/app/segments/${segment.id}/edit`}>Edit</Button>
            <Form method="post">
              <input type="hidden" name="intent" value="recompute" />
              <Button submit loading={recomputing}>
                Recompute now
              </Button>
            </Form>
          </InlineStack>
        </InlineStack>
        <Box padding="300" background="bg-surface-secondary" borderRadius="200">
          <QueryText query={segment.query} />
        </Box>
        <InlineGrid columns={{ xs: 1, md: 3 }} gap="400">
          <Metric label="Members" value={fmt.count(segment.memberCount)} />
          <Metric label="Last recomputed" value={segment.lastRefreshedAt ?? "Never"} size="headingMd" />
          <Metric
            label="Kept current"
            size="headingMd"
            value={segment.relativeTime ? "On events and on a schedule" : "On every event"}
            help={segment.relativeTime ? "Uses relative dates: also re-evaluated on a schedule as time passes." : undefined}
          />
        </InlineGrid>
      </BlockStack>
    </Card>
  );
}

export function MembersCard({ segmentId, page, memberCount }: { segmentId: string; page: SegmentMembersPage; memberCount: number }) {
  const fmt = useFormat();
  return (
    <Card padding="0">
      <BlockStack>
        <Box padding="400">
          <InlineStack align="space-between" blockAlign="center">
            <Text as="h2" variant="headingMd">
              Members
            </Text>
            <Text as="span" tone="subdued">
              {fmt.countOf(memberCount, "customer")}
            </Text>
          </InlineStack>
        </Box>
        <IndexTable
          resourceName={{ singular: "member", plural: "members" }}
          itemCount={page.members.length}
          selectable={false}
          emptyState={
            <EmptyState heading="No members yet" image={EMPTY_STATE_IMAGE}>
              <p>Nobody matches this segment's query right now. Customers join as soon as their orders or profile make them match.</p>
            </EmptyState>
          }
          headings={[{ title: "Customer" }, { title: "Email" }, { title: "Orders", alignment: "end" }, { title: "Amount spent", alignment: "end" }, { title: "Member since" }]}
        >
          {page.members.map((m, index) => (
            <IndexTable.Row id={m.id} key={m.id} position={index}>
              <IndexTable.Cell>
                <Link url={`/app/customers/${m.id}`} monochrome removeUnderline dataPrimaryLink>
                  <Text as="span" fontWeight="semibold" tone={m.redacted ? "subdued" : undefined}>
                    {m.name}
                  </Text>
                </Link>
              </IndexTable.Cell>
              <IndexTable.Cell>{m.email ?? <Text as="span" tone="subdued">—</Text>}</IndexTable.Cell>
              <IndexTable.Cell>
                <Text as="span" alignment="end" numeric>
                  {fmt.count(m.ordersCount)}
                </Text>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <Text as="span" alignment="end" numeric>
                  {m.amountSpent}
                </Text>
              </IndexTable.Cell>
              <IndexTable.Cell>{m.memberSince}</IndexTable.Cell>
            </IndexTable.Row>
          ))}
        </IndexTable>
        {page.after || page.before ? (
          <Box padding="300" borderBlockStartWidth="025" borderColor="border">
            <InlineStack align="end">
              <Pagination
                hasPrevious={Boolean(page.before)}
                previousURL={page.before ? segmentUrl(segmentId, { before: page.before }) : undefined}
                hasNext={Boolean(page.after)}
                nextURL={page.after ? segmentUrl(segmentId, { after: page.after }) : undefined}
              />
            </InlineStack>
          </Box>
        ) : null}
      </BlockStack>
    </Card>
  );
}

export function ChangesCard({ data }: { data: SegmentPageData }) {
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Entries and exits
        </Text>
        <MembershipChart days={data.changes} />
      </BlockStack>
    </Card>
  );
}

/** Debounced dry run of the tag setting being edited; answers carry the setting they were computed for. */
function useTagDryRun(segmentId: string, tag: string, enabled: boolean) {
  const fetcher = useFetcher<TagDryRunResponse>();
  const { load } = fetcher;
  useEffect(() => {
    const timer = setTimeout(
      () => load(`/app/segments/${segmentId}/tag-preview?${new URLSearchParams({ tag, enabled: enabled ? "true" : "false" })}`),
      TAG_PREVIEW_DEBOUNCE_MS,
    );
    return () => clearTimeout(timer);
  }, [segmentId, tag, enabled, load]);
  const data = fetcher.data ?? null;
  return data && data.tag === tag && data.enabled === enabled ? data : null;
}

function OutboxLine({ outbox }: { outbox: TagOutboxView }) {
  const fmt = useFormat();
  const total = outbox.waiting + outbox.written + outbox.failed + outbox.skipped;
  if (total === 0) return null;
  return (
    <InlineStack gap="200" blockAlign="center">
      <Text as="span" variant="bodySm" tone="subdued">
        Tag writes to Shopify:
      </Text>
      <Badge tone={outbox.waiting > 0 ? "attention" : undefined}>{`${fmt.count(outbox.waiting)} waiting`}</Badge>
      <Badge tone="success">{`${fmt.count(outbox.written)} written`}</Badge>
      {outbox.failed > 0 ? <Badge tone="critical">{`${fmt.count(outbox.failed)} failed`}</Badge> : null}
      {outbox.skipped > 0 ? <Badge>{`${fmt.count(outbox.skipped)} skipped`}</Badge> : null}
    </InlineStack>
  );
}

export function TagSyncCard({ segment, outbox, saveError }: { segment: SegmentDetailView; outbox: TagOutboxView; saveError?: string | null }) {
  const [tag, setTag] = useState(segment.tag ?? "");
  const [enabled, setEnabled] = useState(segment.tagSyncEnabled);
  const navigation = useNavigation();
  const saving = navigation.state === "submitting" && navigation.formData?.get("intent") === "save-tag";
  const dryRun = useTagDryRun(segment.id, tag, enabled);
  const localCheck = tag === "" ? null : checkSyncTag(tag);
  const localError = localCheck && !localCheck.ok ? localCheck.message : enabled && tag === "" ? "Enter the tag to sync, for example crm:vip" : null;
  const changed = tag !== (segment.tag ?? "") || enabled !== segment.tagSyncEnabled;
  return (
    <Card>
      <Form method="post">
        <input type="hidden" name="intent" value="save-tag" />
        <input type="hidden" name="tagSyncEnabled" value={enabled ? "true" : "false"} />
        <BlockStack gap="300">
          <InlineStack align="space-between" blockAlign="center">
            <Text as="h2" variant="headingMd">
              Tag in Shopify
            </Text>
            {segment.tagSyncEnabled && segment.tag ? <Badge tone="success">{`Syncing ${segment.tag}`}</Badge> : <Badge>Not synced</Badge>}
          </InlineStack>
          <TextField
            label="Customer tag"
            name="tag"
            value={tag}
            onChange={setTag}
            autoComplete="off"
            placeholder="crm:vip"
            helpText="Namespaced, for example crm:vip, at most 255 characters."
            error={localError ?? (saveError || undefined)}
          />
          <Checkbox label="Keep this tag in sync in Shopify" checked={enabled} onChange={setEnabled} />
          <div data-segment-tag-dry-run="" aria-live="polite">
            {localError ? null : dryRun === null ? (
              <InlineStack gap="200" blockAlign="center">
                <Spinner size="small" accessibilityLabel="Working out the changes" />
                <Text as="span" tone="subdued">
                  Working out what would change…
                </Text>
              </InlineStack>
            ) : dryRun.ok ? (
              <Banner tone={dryRun.add + dryRun.remove > 0 ? "info" : undefined} title={changed ? "If you save this setting" : enabled ? "Still to do in Shopify" : "Right now"}>
                <BlockStack gap="100">
                  {dryRunSentences(dryRun).map((line) => (
                    <p key={line}>{line}</p>
                  ))}
                </BlockStack>
              </Banner>
            ) : (
              <Banner tone="warning" title="This setting cannot be saved">
                <p>{dryRun.error}</p>
              </Banner>
            )}
          </div>
          <OutboxLine outbox={outbox} />
          <InlineStack align="end">
            <Button submit variant="primary" disabled={!changed || Boolean(localError)} loading={saving}>
              Save tag setting
            </Button>
          </InlineStack>
        </BlockStack>
      </Form>
    </Card>
  );
}
