// /app/segments/:id: one segment: definition, members, entries/exits over time, the tag
// sync setting with its dry run, "Recompute now" and delete.
import { useEffect, useState } from "react";
import type { ActionFunctionArgs, LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { isRouteErrorResponse, useActionData, useLoaderData, useNavigation, useRouteError, useSubmit } from "@remix-run/react";
import { Banner, BlockStack, Layout, Modal, Page, Text } from "@shopify/polaris";
import { useAppBridge } from "@shopify/app-bridge-react";
import vizStyles from "@shopify/polaris-viz/build/esm/styles.css";
import { z } from "zod";
import { authenticate } from "../shopify.server";
import { getSegmentForEdit, getSegmentPage, recomputeSegmentNow, removeSegment, saveTagSetting } from "../services/admin-segments.server";
import { ChangesCard, DefinitionCard, MembersCard, TagSyncCard } from "../components/segments/segment-detail";
import { NotFoundPage } from "../components/not-found-page";
import { getShopFormatter } from "../services/shop-format.server";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: vizStyles }];

const Cursor = z.string().max(300).startsWith("gid://");
const SearchSchema = z.object({
  after: Cursor.optional().catch(undefined),
  before: Cursor.optional().catch(undefined),
  tagSync: z.string().max(500).optional().catch(undefined),
  saved: z.enum(["created", "updated"]).optional().catch(undefined),
});

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const { after, before, tagSync, saved } = SearchSchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  const fmt = await getShopFormatter(session.shop, request);
  const page = await getSegmentPage({ shop: session.shop, id: params.id ?? "", after, before, fmt });
  if (!page) throw new Response("Segment not found", { status: 404 });
  return { ...page, tagSyncWarning: tagSync ?? null, saved: saved ?? null };
};

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `${data.segment.name} · Segments` : "Segment not found" }];

const ActionSchema = z.discriminatedUnion("intent", [
  z.object({ intent: z.literal("recompute") }),
  z.object({ intent: z.literal("delete") }),
  z.object({
    intent: z.literal("save-tag"),
    tag: z.string().max(1_000),
    tagSyncEnabled: z.enum(["true", "false"]).transform((v) => v === "true"),
  }),
]);

type ActionResult =
  | { intent: "recompute"; ok: true; entered: number; exited: number; skipped: string | null; tagSyncWarning: string | null }
  | { intent: "save-tag"; ok: true; tagSyncWarning: string | null }
  | { intent: "save-tag" | "form"; ok: false; error: string };

export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session, sessionToken } = await authenticate.admin(request);
  const parsed = ActionSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return json<ActionResult>({ intent: "form", ok: false, error: "Unknown request." }, { status: 400 });
  const actor = sessionToken?.sub ? `shopify-user:${sessionToken.sub}` : "merchant";
  const shop = session.shop;
  const id = params.id ?? "";
  if (!(await getSegmentForEdit({ shop, id }))) throw new Response("Segment not found", { status: 404 });
  switch (parsed.data.intent) {
    case "recompute": {
      const result = await recomputeSegmentNow({ shop, id, actor });
      if (!result.ok) return json<ActionResult>({ intent: "form", ok: false, error: result.error }, { status: 409 });
      return json<ActionResult>({ intent: "recompute", ...result });
    }
    case "delete": {
      const removed = await removeSegment({ shop, id, actor });
      if (!removed) throw new Response("Segment not found", { status: 404 });
      return redirect(`/app/segments?${new URLSearchParams({ deleted: removed.name })}`);
    }
    case "save-tag": {
      const result = await saveTagSetting({ shop, id, tag: parsed.data.tag, enabled: parsed.data.tagSyncEnabled, actor });
      if (!result.ok) return json<ActionResult>({ intent: "save-tag", ok: false, error: result.error }, { status: result.status });
      return json<ActionResult>({ intent: "save-tag", ok: true, tagSyncWarning: result.tagSyncWarning });
    }
  }
};

function recomputeMessage(r: Extract<ActionResult, { intent: "recompute" }>): string {
  if (r.skipped) return "The segment was edited meanwhile; the edit already recomputed it.";
  if (r.entered === 0 && r.exited === 0) return "Recomputed: the members were already up to date.";
  return `Recomputed: ${r.entered} entered, ${r.exited} exited.`;
}

export default function SegmentRoute() {
  const data = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const { segment } = data;
  const shopify = useAppBridge();
  const submit = useSubmit();
  const navigation = useNavigation();
  const deleting = navigation.state !== "idle" && navigation.formData?.get("intent") === "delete";
  const [confirmDelete, setConfirmDelete] = useState(false);
  useEffect(() => {
    if (result?.ok && result.intent === "recompute") shopify.toast.show(recomputeMessage(result));
    if (result?.ok && result.intent === "save-tag" && !result.tagSyncWarning) shopify.toast.show("Tag setting saved");
  }, [result, shopify]);
  // A save on the editor redirects here with ?saved=created|updated: confirm it once.
  useEffect(() => {
    if (data.saved) shopify.toast.show(data.saved === "created" ? "Segment created" : "Segment saved");
  }, [data.saved, shopify]);
  const warning = data.tagSyncWarning ?? (result?.ok ? result.tagSyncWarning : null);
  return (
    <Page
      title={segment.name}
      subtitle={`Created ${segment.createdAt}`}
      backAction={{ content: "Segments", url: "/app/segments" }}
      secondaryActions={[{ content: "Delete segment", destructive: true, onAction: () => setConfirmDelete(true) }]}
    >
      <Layout>
        {segment.broken ? (
          <Layout.Section>
            <Banner tone="critical" title="This segment is broken">
              <p data-segment-broken="">
                Evaluating it failed on {segment.broken.at}: {segment.broken.reason}. Its members are no longer updated. Edit the query and save it to
                repair the segment.
              </p>
            </Banner>
          </Layout.Section>
        ) : null}
        {warning ? (
          <Layout.Section>
            <Banner tone="warning" title="Tag sync not started">
              <p>{warning}</p>
            </Banner>
          </Layout.Section>
        ) : null}
        {result?.ok && result.intent === "recompute" ? (
          <Layout.Section>
            <Banner tone="success" title="Recomputed">
              <p>{recomputeMessage(result)}</p>
            </Banner>
          </Layout.Section>
        ) : null}
        {result && !result.ok && result.intent === "form" ? (
          <Layout.Section>
            <Banner tone="critical" title="Not done">
              <p>{result.error}</p>
            </Banner>
          </Layout.Section>
        ) : null}
        <Layout.Section>
          <BlockStack gap="400">
            <DefinitionCard segment={segment} />
            <ChangesCard data={data} />
            <MembersCard segmentId={segment.id} page={data.members} memberCount={segment.memberCount} />
          </BlockStack>
        </Layout.Section>
        <Layout.Section variant="oneThird">
          <TagSyncCard
            key={`${segment.tag ?? ""}|${segment.tagSyncEnabled}`}
            segment={segment}
            outbox={data.tagOutbox}
            saveError={result && !result.ok && result.intent === "save-tag" ? result.error : null}
          />
        </Layout.Section>
      </Layout>
      <Modal
        open={confirmDelete}
        onClose={() => setConfirmDelete(false)}
        title={`Delete “${segment.name}”?`}
        primaryAction={{
          content: "Delete segment",
          destructive: true,
          loading: deleting,
          onAction: () => submit({ intent: "delete" }, { method: "post" }),
        }}
        secondaryActions={[{ content: "Cancel", onAction: () => setConfirmDelete(false) }]}
      >
        <Modal.Section>
          <Text as="p">
            The segment, its member list and its history of entries and exits are deleted. This cannot be undone.
            {segment.tagSyncEnabled && segment.tag ? ` The tag ${segment.tag} is removed from the customers the app added it to.` : ""}
          </Text>
        </Modal.Section>
      </Modal>
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
