// The Segments list: name, members, the change over the last 7 days and the synced tag.
import { Badge, Card, EmptyState, IndexTable, InlineStack, Link, Text } from "@shopify/polaris";
import { useFormat } from "../format-context";
import { EMPTY_STATE_IMAGE } from "../empty-state-image";
import { signed } from "./format";
import type { SegmentListRow } from "../../domain/admin/segment-view-models";

export const NEW_SEGMENT_URL = "/app/segments/new";

function Change({ change }: { change: SegmentListRow["change7d"] }) {
  const fmt = useFormat();
  if (change.entered === 0 && change.exited === 0) {
    return (
      <Text as="span" tone="subdued">
        No change
      </Text>
    );
  }
  return (
    <InlineStack gap="100" blockAlign="center" wrap={false}>
      <Badge tone={change.net > 0 ? "success" : change.net < 0 ? "critical" : undefined}>{signed(change.net)}</Badge>
      <Text as="span" variant="bodySm" tone="subdued">
        {fmt.count(change.entered)} in, {fmt.count(change.exited)} out
      </Text>
    </InlineStack>
  );
}

export function SegmentList({ segments }: { segments: SegmentListRow[] }) {
  const fmt = useFormat();
  if (segments.length === 0) {
    return (
      <Card>
        <EmptyState heading="Group your customers into segments" action={{ content: "Create segment", url: NEW_SEGMENT_URL }} image={EMPTY_STATE_IMAGE}>
          <p>
            Describe who belongs with a query, in the language of Shopify's segment editor: what they bought, how much they spent and when.
            Members stay current as orders arrive, and can carry a tag in Shopify.
          </p>
        </EmptyState>
      </Card>
    );
  }
  return (
    <Card padding="0">
      <IndexTable
        resourceName={{ singular: "segment", plural: "segments" }}
        itemCount={segments.length}
        selectable={false}
        headings={[{ title: "Name" }, { title: "Members", alignment: "end" }, { title: "Last 7 days" }, { title: "Synced tag" }, { title: "Updated" }]}
      >
        {segments.map((s, index) => (
          <IndexTable.Row id={s.id} key={s.id} position={index}>
            <IndexTable.Cell>
              <Link url={`/app/segments/${s.id}`} monochrome removeUnderline dataPrimaryLink>
                <Text as="span" fontWeight="semibold">
                  {s.name}
                </Text>
              </Link>
              {s.brokenReason ? (
                <span title={s.brokenReason} data-segment-broken="">
                  {" "}
                  <Badge tone="critical">Broken</Badge>
                </span>
              ) : null}
            </IndexTable.Cell>
            <IndexTable.Cell>
              <Text as="span" alignment="end" numeric>
                {fmt.count(s.members)}
              </Text>
            </IndexTable.Cell>
            <IndexTable.Cell>
              <Change change={s.change7d} />
            </IndexTable.Cell>
            <IndexTable.Cell>{s.syncedTag ? <Badge tone="info">{s.syncedTag}</Badge> : <Text as="span" tone="subdued">—</Text>}</IndexTable.Cell>
            <IndexTable.Cell>{s.updatedAt}</IndexTable.Cell>
          </IndexTable.Row>
        ))}
      </IndexTable>
    </Card>
  );
}
