// /app/feedback/cases: the service-recovery inbox (open / resolved), the staff note, and
// resolve / reopen recording who did it (the session token's user, as the other admin
// actions). Thin: authenticate, read the form, one service call.
import { getShopFormatter } from "../services/shop-format.server";
import { useEffect } from "react";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { useActionData, useLoaderData, useLocation, useNavigate, useNavigation, useSubmit } from "@remix-run/react";
import { BlockStack, Button, Card, InlineStack, Layout, Page, Tabs, Text } from "@shopify/polaris";
import { useAppBridge } from "@shopify/app-bridge-react";
import { authenticate } from "../shopify.server";
import { listFeedbackCases, updateFeedbackCase, type CaseActionResult } from "../services/admin-feedback.server";
import { CaseCard } from "../components/feedback/cases";
import { formatCount } from "../components/feedback/format";

export const meta: MetaFunction = () => [{ title: "Feedback cases" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const search = new URL(request.url).searchParams;
  const status = search.get("status") === "resolved" ? "resolved" : "open";
  return listFeedbackCases({ shop: session.shop, status, before: search.get("before"), fmt: await getShopFormatter(session.shop, request) });
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session, sessionToken } = await authenticate.admin(request);
  const actor = sessionToken?.sub ? `shopify-user:${sessionToken.sub}` : "merchant";
  const { status, result } = await updateFeedbackCase({ shop: session.shop, fields: Object.fromEntries(await request.formData()), actor });
  return json<CaseActionResult>(result, { status });
};

export default function FeedbackCasesRoute() {
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const submit = useSubmit();
  const navigation = useNavigation();
  const navigate = useNavigate();
  const location = useLocation();
  const shopify = useAppBridge();
  useEffect(() => {
    if (result?.ok) shopify.toast.show(result.message);
  }, [result, shopify]);
  const busyCase = navigation.state !== "idle" ? (navigation.formData?.get("caseId") ?? null) : null;
  const tabs = [
    { id: "open", content: `Open (${formatCount(page.counts.open)})` },
    { id: "resolved", content: `Resolved (${formatCount(page.counts.resolved)})` },
  ];
  const olderUrl = page.olderCursor ? `${location.pathname}?${new URLSearchParams({ status: page.status, before: page.olderCursor })}` : null;
  return (
    <Page title="Feedback cases" subtitle="Negative answers to follow up" backAction={{ content: "Feedback", url: "/app/feedback" }}>
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            <Tabs tabs={tabs} selected={page.status === "open" ? 0 : 1} onSelect={(i) => navigate(`${location.pathname}?status=${i === 0 ? "open" : "resolved"}`)} />
            {page.cases.length === 0 ? (
              <Card>
                <Text as="p" tone="subdued">
                  {page.status === "open" ? "No open cases." : "No resolved cases."}
                </Text>
              </Card>
            ) : (
              page.cases.map((c) => (
                <CaseCard
                  key={`${c.id}-${c.status}`}
                  c={c}
                  busy={busyCase === c.id}
                  error={result && !result.ok && result.caseId === c.id ? result.error : null}
                  onSubmit={(fields) => submit(fields, { method: "post" })}
                />
              ))
            )}
            {olderUrl ? (
              <InlineStack align="center">
                <Button url={olderUrl}>Older cases</Button>
              </InlineStack>
            ) : null}
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
