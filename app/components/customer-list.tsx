import { useState } from "react";
import { Form, useNavigation, useSubmit } from "@remix-run/react";
import {
  Badge,
  BlockStack,
  Box,
  Button,
  Card,
  EmptyState,
  IndexTable,
  InlineStack,
  Link,
  Pagination,
  Select,
  Text,
  TextField,
} from "@shopify/polaris";
import { EMPTY_STATE_IMAGE } from "./empty-state-image";
import { useFormat } from "./format-context";
import type { CustomerListPage, CustomerSort } from "../domain/admin/view-models";

export const DEFAULT_CUSTOMER_SORT: CustomerSort = "last_order_desc";

const SORT_OPTIONS: { label: string; value: CustomerSort }[] = [
  { label: "Last order: newest first", value: "last_order_desc" },
  { label: "Last order: oldest first", value: "last_order_asc" },
  { label: "Amount spent: highest first", value: "spent_desc" },
  { label: "Amount spent: lowest first", value: "spent_asc" },
];

function listUrl({ query, sort, after, before }: { query: string; sort: CustomerSort; after?: string; before?: string }) {
  const params = new URLSearchParams();
  if (query) params.set("q", query);
  if (sort !== DEFAULT_CUSTOMER_SORT) params.set("sort", sort);
  if (after) params.set("after", after);
  if (before) params.set("before", before);
  const search = params.toString();
  return `/app/customers${search ? `?${search}` : ""}`;
}

/** Search box and sort order; remount it (key) when the URL's values change. */
export function CustomerSearch({ query, sort }: { query: string; sort: CustomerSort }) {
  const [text, setText] = useState(query);
  const [order, setOrder] = useState<CustomerSort>(sort);
  const submit = useSubmit();
  const navigation = useNavigation();
  const searching = navigation.state === "loading" && navigation.location.pathname === "/app/customers";
  return (
    <Form method="get" action="/app/customers" role="search">
      <InlineStack gap="300" wrap={false} blockAlign="end">
        <Box width="100%">
          <TextField
            label="Search customers"
            labelHidden
            name="q"
            value={text}
            onChange={setText}
            placeholder="Search by name or email"
            autoComplete="off"
            clearButton
            onClearButtonClick={() => setText("")}
          />
        </Box>
        <Select
          label="Sort by"
          labelInline
          name="sort"
          options={SORT_OPTIONS}
          value={order}
          onChange={(value) => {
            setOrder(value as CustomerSort);
            // Apply the new order at once, keeping the search text.
            submit({ q: text.trim(), sort: value }, { method: "get", action: "/app/customers" });
          }}
        />
        <Button submit loading={searching}>
          Search
        </Button>
      </InlineStack>
    </Form>
  );
}

export function CustomerList({ data }: { data: CustomerListPage }) {
  const { customers, query, sort, total, totalIsLowerBound, nextCursor, previousCursor } = data;
  const fmt = useFormat();
  const countLabel = totalIsLowerBound ? `More than ${fmt.countOf(total, "customer")}` : fmt.countOf(total, "customer");
  const rows = customers.map((c, index) => (
    <IndexTable.Row id={c.id} key={c.id} position={index}>
      <IndexTable.Cell>
        <Link url={`/app/customers/${c.id}`} monochrome removeUnderline dataPrimaryLink>
          <Text as="span" fontWeight="semibold" tone={c.redacted ? "subdued" : undefined}>
            {c.name}
          </Text>
        </Link>
      </IndexTable.Cell>
      <IndexTable.Cell>{c.email ?? <Text as="span" tone="subdued">—</Text>}</IndexTable.Cell>
      <IndexTable.Cell>
        <Text as="span" alignment="end" numeric>
          {fmt.count(c.ordersCount)}
        </Text>
      </IndexTable.Cell>
      <IndexTable.Cell>
        <Text as="span" alignment="end" numeric>
          {c.amountSpent}
        </Text>
      </IndexTable.Cell>
      <IndexTable.Cell>{c.lastOrderAt ?? <Text as="span" tone="subdued">No orders</Text>}</IndexTable.Cell>
    </IndexTable.Row>
  ));
  const empty = (
    <EmptyState heading={query ? `No customers match “${query}”` : "No customers yet"} image={EMPTY_STATE_IMAGE}>
      <p>{query ? "Try another name or email address." : "Customers appear here as your store's webhooks arrive."}</p>
    </EmptyState>
  );
  return (
    <Card padding="0">
      <BlockStack>
        <Box padding="400">
          <CustomerSearch key={`${query}|${sort}`} query={query} sort={sort} />
        </Box>
        <IndexTable
          resourceName={{ singular: "customer", plural: "customers" }}
          itemCount={customers.length}
          selectable={false}
          emptyState={empty}
          headings={[
            { title: "Name" },
            { title: "Email" },
            { title: "Orders", alignment: "end" },
            { title: "Amount spent", alignment: "end" },
            { title: "Last order" },
          ]}
        >
          {rows}
        </IndexTable>
        <Box padding="300" borderBlockStartWidth="025" borderColor="border">
          <InlineStack align="space-between" blockAlign="center">
            <Text as="span" tone="subdued">
              {countLabel}
              {query ? <> matching <Badge>{query}</Badge></> : null}
            </Text>
            <Pagination
              type="page"
              hasPrevious={previousCursor !== null}
              previousURL={previousCursor ? listUrl({ query, sort, before: previousCursor }) : undefined}
              hasNext={nextCursor !== null}
              nextURL={nextCursor ? listUrl({ query, sort, after: nextCursor }) : undefined}
            />
          </InlineStack>
        </Box>
      </BlockStack>
    </Card>
  );
}
