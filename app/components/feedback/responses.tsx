// The responses list: filters (query-string params, applied with one button) and one row per
// response linking to the customer, with the order name, score, comment and ratings.
import { useState } from "react";
import { Badge, BlockStack, Button, Card, FormLayout, IndexTable, InlineStack, Link, Select, Text, TextField } from "@shopify/polaris";
import { AnswerDetails, NpsBadge } from "./ratings";

export type ResponsesFilterValues = Record<"group" | "npsMin" | "npsMax" | "rating" | "sentiment" | "product" | "language" | "from" | "to", string>;

export type ResponseRow = {
  id: string;
  submittedAt: string;
  customerId: string | null;
  customerName: string;
  orderName: string | null;
  nps: number;
  comment: string | null;
  language: string | null;
  sentiment: string | null;
  ratings: { title: string; rating: number; review: string | null }[];
  caseStatus: "open" | "resolved" | null;
};

const any = { label: "Any", value: "" };

export function ResponseFilters({
  initial,
  products,
  languages,
  onApply,
}: {
  initial: ResponsesFilterValues;
  products: { id: string; title: string }[];
  languages: string[];
  onApply: (values: ResponsesFilterValues) => void;
}) {
  const [v, setV] = useState(initial);
  const set = (key: keyof ResponsesFilterValues) => (value: string) => setV((old) => ({ ...old, [key]: value }));
  const range = Array.from({ length: 11 }, (_, i) => ({ label: String(i), value: String(i) }));
  return (
    <Card>
      <BlockStack gap="300">
        <FormLayout>
          <FormLayout.Group condensed>
            <Select
              label="NPS group"
              options={[any, { label: "Promoters (9-10)", value: "promoter" }, { label: "Passives (7-8)", value: "passive" }, { label: "Detractors (0-6)", value: "detractor" }]}
              value={v.group}
              onChange={set("group")}
            />
            <Select label="Score from" options={[any, ...range]} value={v.npsMin} onChange={set("npsMin")} />
            <Select label="Score to" options={[any, ...range]} value={v.npsMax} onChange={set("npsMax")} />
            <Select label="Product rating" options={[any, ...[1, 2, 3, 4, 5].map((n) => ({ label: `${n} ${n === 1 ? "star" : "stars"}`, value: String(n) }))]} value={v.rating} onChange={set("rating")} />
          </FormLayout.Group>
          <FormLayout.Group condensed>
            <Select label="Sentiment" options={[any, { label: "Positive", value: "positive" }, { label: "Neutral", value: "neutral" }, { label: "Negative", value: "negative" }]} value={v.sentiment} onChange={set("sentiment")} />
            <Select label="Product" options={[any, ...products.map((p) => ({ label: p.title, value: p.id }))]} value={v.product} onChange={set("product")} />
            <Select label="Language" options={[any, ...languages.map((l) => ({ label: l, value: l }))]} value={v.language} onChange={set("language")} />
            <TextField label="From" type="date" value={v.from} onChange={set("from")} autoComplete="off" />
            <TextField label="To" type="date" value={v.to} onChange={set("to")} autoComplete="off" />
          </FormLayout.Group>
        </FormLayout>
        <InlineStack gap="200" align="end">
          <Button
            onClick={() => {
              const empty = { group: "", npsMin: "", npsMax: "", rating: "", sentiment: "", product: "", language: "", from: "", to: "" };
              setV(empty);
              onApply(empty);
            }}
          >
            Clear
          </Button>
          <Button variant="primary" onClick={() => onApply(v)}>
            Apply filters
          </Button>
        </InlineStack>
      </BlockStack>
    </Card>
  );
}

export function ResponsesTable({ responses }: { responses: ResponseRow[] }) {
  return (
    <Card padding="0">
      <IndexTable
        resourceName={{ singular: "response", plural: "responses" }}
        itemCount={responses.length}
        selectable={false}
        headings={[{ title: "Customer" }, { title: "Order" }, { title: "Score" }, { title: "What they said" }, { title: "Sentiment" }, { title: "Language" }, { title: "Answered" }]}
        emptyState={
          <div style={{ padding: 16 }}>
            <Text as="p" tone="subdued">
              No responses match these filters.
            </Text>
          </div>
        }
      >
        {responses.map((r, i) => (
          <IndexTable.Row id={r.id} key={r.id} position={i}>
            <IndexTable.Cell>
              {r.customerId ? (
                <Link url={`/app/customers/${r.customerId}`} removeUnderline>
                  {r.customerName}
                </Link>
              ) : (
                r.customerName
              )}
            </IndexTable.Cell>
            <IndexTable.Cell>{r.orderName ?? "—"}</IndexTable.Cell>
            <IndexTable.Cell>
              <InlineStack gap="100">
                <NpsBadge nps={r.nps} />
                {r.caseStatus ? <Badge tone={r.caseStatus === "open" ? "warning" : undefined}>{r.caseStatus === "open" ? "Open case" : "Case resolved"}</Badge> : null}
              </InlineStack>
            </IndexTable.Cell>
            <IndexTable.Cell>
              <div style={{ maxWidth: 420, whiteSpace: "normal" }}>
                <AnswerDetails comment={r.comment} ratings={r.ratings} />
              </div>
            </IndexTable.Cell>
            <IndexTable.Cell>{r.sentiment ?? "—"}</IndexTable.Cell>
            <IndexTable.Cell>{r.language ?? "—"}</IndexTable.Cell>
            <IndexTable.Cell>{r.submittedAt}</IndexTable.Cell>
          </IndexTable.Row>
        ))}
      </IndexTable>
    </Card>
  );
}
