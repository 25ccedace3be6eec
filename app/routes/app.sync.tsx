// /app/sync: the history import's progress, the last reconciliation and what it repaired,
// webhooks per topic in the last 24 hours, processing lag, dead letters and the cross-check
// (issue 13). The loader reads PostgreSQL only; the actions start an import and queue a
// reconciliation.
import { useEffect } from "react";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { useActionData, useLoaderData, useRevalidator } from "@remix-run/react";
import { Banner, BlockStack, Layout, Page, Text } from "@shopify/polaris";
import { z } from "zod";
import { authenticate } from "../shopify.server";
import { getShopFormatter } from "../services/shop-format.server";
import { getSyncOverview, reconcileNowFromAdmin, startImportFromAdmin } from "../services/admin-sync.server";
import { ImportStatusCard } from "../components/sync/import-status";
import { ReconciliationCard } from "../components/sync/reconciliation";
import { HealthCard, WebhooksCard } from "../components/sync/health";
import { CrossCheckCard } from "../components/sync/cross-check";

const SearchSchema = z.object({ crossCheckPage: z.coerce.number().int().min(1).max(1_000_000).catch(1).default(1) });

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const { crossCheckPage } = SearchSchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  return getSyncOverview({ shop: session.shop, fmt: await getShopFormatter(session.shop, request), crossCheckPage });
};

export const meta: MetaFunction = () => [{ title: "Sync" }];

const ActionSchema = z.object({ intent: z.enum(["start-import", "reconcile"]) });

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session, sessionToken } = await authenticate.admin(request);
  const parsed = ActionSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return json({ ok: false as const, message: "Unknown request." }, { status: 400 });
  const actor = sessionToken?.sub ? `shopify-user:${sessionToken.sub}` : "merchant";
  if (parsed.data.intent === "start-import") {
    const { created } = await startImportFromAdmin({ shop: session.shop, actor });
    return json({ ok: true as const, message: created ? "Import started. Progress shows here as the worker reads the store." : "An import is already running." });
  }
  try {
    await reconcileNowFromAdmin({ shop: session.shop, actor });
    return json({ ok: true as const, message: "Reconciliation queued. Its result shows here when the worker has run it." });
  } catch {
    return json({ ok: false as const, message: "The reconciliation could not be queued (the job queue is unavailable). Try again in a moment." }, { status: 503 });
  }
};

export default function SyncRoute() {
  const overview = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const revalidator = useRevalidator();
  const running = overview.import?.state === "running";
  // While an import runs, refresh the figures every few seconds.
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => {
      if (revalidator.state === "idle") revalidator.revalidate();
    }, 5_000);
    return () => clearInterval(timer);
  }, [running, revalidator]);
  return (
    <Page title="Sync" subtitle="How the CRM keeps up with your store: the history import, reconciliation and webhooks">
      <Layout>
        {overview.importWarning ? (
          <Layout.Section>
            <Banner tone="warning" title="Older orders were not imported">
              <p>{overview.importWarning}</p>
            </Banner>
          </Layout.Section>
        ) : null}
        {actionData ? (
          <Layout.Section>
            <Banner tone={actionData.ok ? "success" : "critical"}>
              <p>{actionData.message}</p>
            </Banner>
          </Layout.Section>
        ) : null}
        <Layout.Section>
          <BlockStack gap="400">
            <ImportStatusCard run={overview.import} />
            <ReconciliationCard run={overview.reconcile} />
            <HealthCard overview={overview} />
            <WebhooksCard overview={overview} />
            <CrossCheckCard crossCheck={overview.crossCheck} />
            <Text as="p" variant="bodySm" tone="subdued" alignment="end">
              As of {overview.generatedAt}
            </Text>
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
