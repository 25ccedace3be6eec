// /app/pipeline: this store's webhook deliveries by outcome, event lag, dead letters
// and their replay.
import { useEffect } from "react";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { useActionData, useLoaderData } from "@remix-run/react";
import { Banner, BlockStack, Layout, Page, Text } from "@shopify/polaris";
import { useAppBridge } from "@shopify/app-bridge-react";
import { z } from "zod";
import { createFormatter } from "../domain/format";
import { authenticate } from "../shopify.server";
import { getPipelineOverview, replayDeadLetters } from "../services/admin-pipeline.server";
import { getShopFormatter } from "../services/shop-format.server";
import { DeadLetters, DeliveryCounts, EventLag } from "../components/pipeline-overview";
import type { ReplayResult } from "../domain/admin/view-models";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return getPipelineOverview({ shop: session.shop, fmt: await getShopFormatter(session.shop, request) });
};

const ReplaySchema = z.discriminatedUnion("intent", [
  z.object({ intent: z.literal("replay"), id: z.string().regex(/^\d{1,19}$/) }),
  z.object({ intent: z.literal("replay-all") }),
]);

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session, sessionToken } = await authenticate.admin(request);
  const parsed = ReplaySchema.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return json({ ok: false as const, error: "Unknown replay request." }, { status: 400 });
  const actor = sessionToken?.sub ? `shopify-user:${sessionToken.sub}` : "merchant";
  const result = await replayDeadLetters({
    shop: session.shop,
    ids: parsed.data.intent === "replay" ? [parsed.data.id] : undefined,
    actor,
  });
  return json({ ok: true as const, result });
};

function replayMessage(result: ReplayResult): string {
  if (result.replayed === 0) return "Nothing to replay: the event is no longer dead-lettered.";
  const fmt = createFormatter();
  const what = fmt.countOf(result.replayed, "event");
  const done = result.enqueued ? `Replayed ${what}. The worker is applying it now.` : `Replayed ${what}. It will be queued as soon as Redis answers.`;
  if (!result.remaining) return done;
  return `${done} ${fmt.countOf(result.remaining, "dead letter")} ${result.remaining === 1 ? "remains" : "remain"}.`;
}

export default function PipelineRoute() {
  const overview = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const shopify = useAppBridge();
  useEffect(() => {
    if (actionData?.ok && actionData.result.replayed > 0) shopify.toast.show(replayMessage(actionData.result));
  }, [actionData, shopify]);
  return (
    <Page title="Pipeline" subtitle="Webhook deliveries for this store and how far behind the worker is" backAction={{ content: "Settings", url: "/app/settings" }}>
      <Layout>
        {actionData ? (
          <Layout.Section>
            {actionData.ok ? (
              <Banner tone={actionData.result.replayed > 0 ? "success" : "warning"} title={actionData.result.replayed > 0 ? "Replay started" : "Nothing replayed"}>
                <p>{replayMessage(actionData.result)}</p>
              </Banner>
            ) : (
              <Banner tone="critical" title="Replay failed">
                <p>{actionData.error}</p>
              </Banner>
            )}
          </Layout.Section>
        ) : null}
        {overview.autovacuum === false ? (
          <Layout.Section>
            <Banner tone="warning" title="PostgreSQL's autovacuum is off">
              <p>
                The worker keeps the CRM tables' statistics current itself (it analyses a table once it has changed enough), so event processing stays fast. Dead rows
                are still only removed by VACUUM: turn autovacuum on, or schedule VACUUM for this database.
              </p>
            </Banner>
          </Layout.Section>
        ) : null}
        <Layout.Section>
          <BlockStack gap="400">
            <DeliveryCounts overview={overview} />
            <EventLag overview={overview} />
            <DeadLetters overview={overview} />
            <Text as="p" variant="bodySm" tone="subdued" alignment="end">
              As of {overview.generatedAt}
            </Text>
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
