// /app/segments/:id/edit: the segment editor for an existing segment.
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { isRouteErrorResponse, useActionData, useLoaderData, useRouteError } from "@remix-run/react";
import { Page } from "@shopify/polaris";
import { authenticate } from "../shopify.server";
import { SegmentFormSchema, getSegmentForEdit, saveSegment } from "../services/admin-segments.server";
import { SegmentEditor } from "../components/segments/segment-editor";
import { NotFoundPage } from "../components/not-found-page";
import type { SegmentFormResult } from "../domain/admin/segment-view-models";

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const segment = await getSegmentForEdit({ shop: session.shop, id: params.id ?? "" });
  if (!segment) throw new Response("Segment not found", { status: 404 });
  return { segment };
};

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `Edit ${data.segment.name} · Segments` : "Segment not found" }];

export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session, sessionToken } = await authenticate.admin(request);
  const form = SegmentFormSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!form.success) return json<SegmentFormResult>({ ok: false, errors: { form: "The form was not understood; reload the page and try again." } }, { status: 400 });
  const actor = sessionToken?.sub ? `shopify-user:${sessionToken.sub}` : "merchant";
  const id = params.id ?? "";
  const current = await getSegmentForEdit({ shop: session.shop, id });
  if (!current) throw new Response("Segment not found", { status: 404 });
  const result = await saveSegment({ shop: session.shop, id, values: form.data, actor });
  if (!result.ok) return json<SegmentFormResult>({ ok: false, errors: result.errors }, { status: result.status });
  const search = new URLSearchParams({ saved: "updated" });
  if (result.tagSyncWarning) search.set("tagSync", result.tagSyncWarning);
  return redirect(`/app/segments/${id}?${search}`);
};

export default function EditSegmentRoute() {
  const { segment } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <Page title={`Edit ${segment.name}`} backAction={{ content: segment.name, url: `/app/segments/${segment.id}` }}>
      <SegmentEditor key={segment.id} initial={segment} errors={result?.errors} cancelUrl={`/app/segments/${segment.id}`} />
    </Page>
  );
}

export function ErrorBoundary() {
  const error = useRouteError();
  if (isRouteErrorResponse(error) && error.status === 404) {
    return <NotFoundPage title="Segment not found" message="This store has no segment with that id. It may have been deleted." backUrl="/app/segments" backLabel="Segments" />;
  }
  throw error;
}
