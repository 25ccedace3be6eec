// /app/customers: the store's customers, searchable and sortable, 25 per page in keyset order
// (`?after=` / `?before=` cursors, decision 040).
import type { LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Page } from "@shopify/polaris";
import { z } from "zod";
import { authenticate } from "../shopify.server";
import { listCustomers } from "../services/admin-customers.server";
import { getShopFormatter } from "../services/shop-format.server";
import { CUSTOMER_SORTS } from "../domain/admin/view-models";
import { CustomerList, DEFAULT_CUSTOMER_SORT } from "../components/customer-list";

const SearchSchema = z.object({
  q: z.string().trim().max(200).catch(""),
  sort: z.enum(CUSTOMER_SORTS).catch(DEFAULT_CUSTOMER_SORT),
  // Opaque keyset cursors; one that does not parse is ignored (first page).
  after: z.string().max(200).optional().catch(undefined),
  before: z.string().max(200).optional().catch(undefined),
});

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const { q, sort, after, before } = SearchSchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  return listCustomers({ shop: session.shop, query: q, sort, after, before, fmt: await getShopFormatter(session.shop, request) });
};

export default function CustomersRoute() {
  const data = useLoaderData<typeof loader>();
  return (
    <Page title="Customers" subtitle="Everyone who bought from or signed up to your store">
      <CustomerList data={data} />
    </Page>
  );
}
