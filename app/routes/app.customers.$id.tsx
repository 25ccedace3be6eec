// /app/customers/:id (numeric legacy id): profile, metrics and order timeline.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { isRouteErrorResponse, useLoaderData, useRouteError } from "@remix-run/react";
import { Badge, Page } from "@shopify/polaris";
import { z } from "zod";
import { authenticate } from "../shopify.server";
import { getCustomerDetail } from "../services/admin-customers.server";
import { CustomerPage } from "../components/customer-detail";
import { NotFoundPage } from "../components/not-found-page";

const ParamsSchema = z.object({ id: z.string().regex(/^\d{1,20}$/) });

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const parsed = ParamsSchema.safeParse(params);
  const customer = parsed.success ? await getCustomerDetail({ shop: session.shop, customerId: parsed.data.id }) : null;
  if (!customer) throw new Response("Customer not found", { status: 404 });
  return { customer };
};

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `${data.customer.name} · Customers` : "Customer not found" }];

export default function CustomerRoute() {
  const { customer } = useLoaderData<typeof loader>();
  return (
    <Page
      title={customer.name}
      subtitle={customer.email ?? undefined}
      titleMetadata={customer.redacted ? <Badge>Redacted</Badge> : customer.accountState ? <Badge>{customer.accountState}</Badge> : undefined}
      backAction={{ content: "Customers", url: "/app/customers" }}
    >
      <CustomerPage customer={customer} />
    </Page>
  );
}

export function ErrorBoundary() {
  const error = useRouteError();
  if (isRouteErrorResponse(error) && error.status === 404) {
    return (
      <NotFoundPage
        title="Customer not found"
        message="This store has no customer with that id. It may have been deleted."
        backUrl="/app/customers"
        backLabel="Customers"
      />
    );
  }
  // Anything else (including Shopify's auth responses) goes to the app route's boundary.
  throw error;
}
