// /app/segments/new: the segment editor for a new segment.
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { useActionData } from "@remix-run/react";
import { Page } from "@shopify/polaris";
import { authenticate } from "../shopify.server";
import { SegmentFormSchema, saveSegment } from "../services/admin-segments.server";
import { SegmentEditor } from "../components/segments/segment-editor";
import type { SegmentFormResult } from "../domain/admin/segment-view-models";

export const meta: MetaFunction = () => [{ title: "New segment · Segments" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  await authenticate.admin(request);
  return null;
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session, sessionToken } = await authenticate.admin(request);
  const form = SegmentFormSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!form.success) return json<SegmentFormResult>({ ok: false, errors: { form: "The form was not understood; reload the page and try again." } }, { status: 400 });
  const actor = sessionToken?.sub ? `shopify-user:${sessionToken.sub}` : "merchant";
  const result = await saveSegment({ shop: session.shop, id: null, values: form.data, actor });
  if (!result.ok) return json<SegmentFormResult>({ ok: false, errors: result.errors }, { status: result.status });
  const search = new URLSearchParams({ saved: "created" });
  if (result.tagSyncWarning) search.set("tagSync", result.tagSyncWarning);
  return redirect(`/app/segments/${result.segment.id}?${search}`);
};

export default function NewSegmentRoute() {
  const result = useActionData<typeof action>();
  return (
    <Page title="New segment" backAction={{ content: "Segments", url: "/app/segments" }}>
      <SegmentEditor initial={{ name: "", query: "", tag: "", tagSyncEnabled: false }} errors={result?.errors} cancelUrl="/app/segments" />
    </Page>
  );
}
