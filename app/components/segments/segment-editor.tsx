// The segment editor (new and edit): name, query with highlighting and inline errors, a
// live member count and sample while typing, example queries, and the tag sync setting.
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
  Divider,
  InlineGrid,
  InlineStack,
  Layout,
  Link,
  Spinner,
  Text,
  TextField,
} from "@shopify/polaris";
import { useFormat } from "../format-context";
import { checkSyncTag } from "../../shopify/customer-tags";
import { EXAMPLE_QUERIES } from "./examples";
import { QueryEditor } from "./query-editor";
import type { PreviewResponse, SegmentError, SegmentFormErrors, SegmentFormValues } from "../../domain/admin/segment-view-models";

/** Wait this long after the last keystroke before asking the server for a preview. */
export const PREVIEW_DEBOUNCE_MS = 300;
/** The preview travels in the URL (a GET, so it never revalidates the page); longer text is checked on save. */
export const MAX_PREVIEW_URL_QUERY = 8_000;
export const MAX_QUERY_CHARS = 10_000;

export const PREVIEW_ROUTE = "/app/segments/preview";

const NO_ERRORS: readonly SegmentError[] = [];

/**
 * Asks the preview route for `query` once typing pauses. One fetcher: Remix aborts a load
 * that a newer one replaces, so a slow answer for older text never lands; and the answer
 * carries the text it was computed for, so the page shows it as current only while the
 * editor still holds exactly that text (otherwise dimmed, as "updating").
 */
export function useLivePreview(query: string) {
  const fetcher = useFetcher<PreviewResponse>();
  const { load } = fetcher;
  const tooLong = encodeURIComponent(query).length > MAX_PREVIEW_URL_QUERY;
  const blank = query.trim() === "";
  useEffect(() => {
    if (blank || tooLong) return;
    const timer = setTimeout(() => load(`${PREVIEW_ROUTE}?${new URLSearchParams({ q: query })}`), PREVIEW_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [query, blank, tooLong, load]);
  const data = fetcher.data ?? null;
  const current = data && data.query === query ? data : null;
  return { current, previous: current ? null : data, loading: fetcher.state === "loading" || (!blank && !tooLong && !current), blank, tooLong };
}

export function PreviewCard({ preview, blankText = "Type a query, or start from an example, to see who matches." }: { preview: ReturnType<typeof useLivePreview>; blankText?: string }) {
  const fmt = useFormat();
  const shown = preview.current ?? preview.previous;
  const stale = !preview.current;
  let body;
  if (preview.blank) {
    body = (
      <Text as="p" tone="subdued">
        {blankText}
      </Text>
    );
  } else if (preview.tooLong) {
    body = (
      <Text as="p" tone="subdued">
        This query is too long for a live preview. Save it to check it and count its members.
      </Text>
    );
  } else if (!shown) {
    body = (
      <InlineStack gap="200" blockAlign="center">
        <Spinner size="small" accessibilityLabel="Counting" />
        <Text as="span" tone="subdued">
          Counting…
        </Text>
      </InlineStack>
    );
  } else if (!shown.ok && shown.message && !stale) {
    body = (
      <Text as="p" tone="critical" data-segment-preview-error="">
        {shown.message}
      </Text>
    );
  } else if (!shown.ok) {
    body = (
      <Text as="p" tone="subdued">
        {stale ? "Checking…" : "Fix the query to see who matches."}
      </Text>
    );
  } else {
    body = (
      <BlockStack gap="300">
        <div data-segment-live-count={stale ? "stale" : "current"} style={{ opacity: stale ? 0.5 : 1, transition: "opacity 120ms" }}>
          <Text as="p" variant="heading2xl" numeric>
            {fmt.countOf(shown.count, "customer")}
          </Text>
        </div>
        {shown.sample.length > 0 ? (
          <BlockStack gap="200">
            <Text as="h3" variant="headingSm" tone="subdued">
              {shown.count > shown.sample.length ? `A sample of ${shown.sample.length}` : "Everyone who matches"}
            </Text>
            <ul data-segment-sample="" style={{ margin: 0, paddingLeft: 0, listStyle: "none", opacity: stale ? 0.5 : 1 }}>
              {shown.sample.map((c) => (
                <li key={c.id} style={{ padding: "4px 0" }}>
                  <Link url={`/app/customers/${c.id}`} removeUnderline>
                    {c.name}
                  </Link>
                  {c.email && c.email !== c.name ? (
                    <Text as="span" tone="subdued" variant="bodySm">
                      {" "}
                      · {c.email}
                    </Text>
                  ) : null}
                </li>
              ))}
            </ul>
          </BlockStack>
        ) : null}
      </BlockStack>
    );
  }
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingMd">
            Who matches now
          </Text>
          {!preview.blank && !preview.tooLong && preview.loading ? <Badge tone="info">Updating</Badge> : null}
        </InlineStack>
        {body}
      </BlockStack>
    </Card>
  );
}

function Examples({ onPick }: { onPick: (query: string) => void }) {
  return (
    <BlockStack gap="200">
      <Text as="h3" variant="headingSm">
        Start from an example
      </Text>
      <InlineGrid columns={{ xs: 1, md: 2 }} gap="200">
        {EXAMPLE_QUERIES.map((example) => (
          <Box key={example.title} padding="200" borderWidth="025" borderColor="border" borderRadius="200">
            <BlockStack gap="100">
              <InlineStack align="space-between" blockAlign="center" wrap={false} gap="200">
                <Text as="span" fontWeight="semibold">
                  {example.title}
                </Text>
                <Button size="slim" onClick={() => onPick(example.query)} accessibilityLabel={`Use the example ${example.title}`}>
                  Use
                </Button>
              </InlineStack>
              <Text as="span" variant="bodySm" tone="subdued">
                {example.description}
              </Text>
              <code style={{ fontSize: 12, color: "#1f5199", overflowWrap: "anywhere" }}>{example.query}</code>
            </BlockStack>
          </Box>
        ))}
      </InlineGrid>
    </BlockStack>
  );
}

/** The query errors to mark: the live preview's for the current text, else the last save's if it was for this text. */
function queryErrorsFor(query: string, preview: PreviewResponse | null, saved: SegmentFormErrors | undefined): readonly SegmentError[] {
  if (preview && preview.query === query) return preview.ok ? NO_ERRORS : preview.errors;
  if (saved?.query && saved.queryText === query) return saved.query;
  return NO_ERRORS;
}

export function SegmentEditor({ initial, errors, cancelUrl }: { initial: SegmentFormValues; errors?: SegmentFormErrors; cancelUrl: string }) {
  const [name, setName] = useState(initial.name);
  const [query, setQuery] = useState(initial.query);
  const [tag, setTag] = useState(initial.tag);
  const [sync, setSync] = useState(initial.tagSyncEnabled);
  const navigation = useNavigation();
  const saving = navigation.state === "submitting";
  const preview = useLivePreview(query);
  const queryErrors = queryErrorsFor(query, preview.current, errors);
  const tagCheck = tag === "" ? null : checkSyncTag(tag);
  const tagError = tagCheck && !tagCheck.ok ? tagCheck.message : tag === "" && sync ? "Enter the tag to sync, for example crm:vip" : errors?.tag;
  return (
    <Form method="post" data-segment-editor="">
      <Layout>
        {errors?.form ? (
          <Layout.Section>
            <Banner tone="critical" title="The segment was not saved">
              <p>{errors.form}</p>
            </Banner>
          </Layout.Section>
        ) : null}
        <Layout.Section>
          <BlockStack gap="400">
            <Card>
              <BlockStack gap="400">
                <TextField
                  label="Name"
                  name="name"
                  value={name}
                  onChange={setName}
                  autoComplete="off"
                  maxLength={100}
                  placeholder="Big spenders"
                  error={errors?.name}
                />
                <QueryEditor
                  id="segment-query"
                  name="query"
                  label="Query"
                  value={query}
                  onChange={setQuery}
                  errors={queryErrors}
                  maxLength={MAX_QUERY_CHARS}
                  placeholder="amount_spent >= 500 AND last_order_date >= -90d"
                />
                <Text as="p" variant="bodySm" tone="subdued">
                  The language of Shopify's customer segment editor: attributes such as amount_spent, number_of_orders, last_order_date,
                  customer_tags or rfm_group, compared with = != &gt; &lt; &gt;= &lt;=, BETWEEN, CONTAINS, IS NULL; functions such as
                  products_purchased MATCHES (tag = 'Shoes', date &gt;= -90d); joined with AND, OR, NOT.
                </Text>
                <Divider />
                <Examples onPick={setQuery} />
              </BlockStack>
            </Card>
            <Card>
              <BlockStack gap="300">
                <Text as="h2" variant="headingMd">
                  Tag in Shopify
                </Text>
                <TextField
                  label="Customer tag"
                  name="tag"
                  value={tag}
                  onChange={setTag}
                  autoComplete="off"
                  placeholder="crm:vip"
                  helpText="Namespaced, for example crm:vip. The app adds it to members in Shopify and removes it when they leave; it never removes tags it did not add."
                  error={tagError}
                />
                <Checkbox label="Keep this tag in sync in Shopify" checked={sync} onChange={setSync} />
                <input type="hidden" name="tagSyncEnabled" value={sync ? "true" : "false"} />
              </BlockStack>
            </Card>
            <InlineStack align="end" gap="200">
              <Button url={cancelUrl}>Cancel</Button>
              <Button submit variant="primary" loading={saving}>
                Save segment
              </Button>
            </InlineStack>
          </BlockStack>
        </Layout.Section>
        <Layout.Section variant="oneThird">
          <PreviewCard preview={preview} />
        </Layout.Section>
      </Layout>
    </Form>
  );
}
