// /app/automations: the rules (trigger, on/off, fired in the last 7 days, failures) and the
// shipped templates to start a new rule from. Thin: authenticate, one service call.
import { useEffect } from "react";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { useActionData, useLoaderData, useNavigation, useSubmit } from "@remix-run/react";
import { BlockStack, Layout, Page } from "@shopify/polaris";
import { useAppBridge } from "@shopify/app-bridge-react";
import { z } from "zod";
import { authenticate } from "../shopify.server";
import { getShopFormatter } from "../services/shop-format.server";
import { getAutomationsList, setRuleEnabled } from "../services/admin-automations.server";
import { NEW_RULE_URL, RuleList, TemplatePicker } from "../components/automations/rule-list";

export const meta: MetaFunction = () => [{ title: "Automations" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return getAutomationsList({ shop: session.shop, fmt: await getShopFormatter(session.shop, request) });
};

const ToggleSchema = z.object({ intent: z.literal("toggle"), id: z.string().min(1), enabled: z.enum(["true", "false"]) });

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const form = ToggleSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!form.success) return json({ ok: false as const, message: "The form was not understood; reload the page and try again." }, { status: 400 });
  const enabled = form.data.enabled === "true";
  const rule = await setRuleEnabled({ shop: session.shop, id: form.data.id, enabled });
  if (!rule) return json({ ok: false as const, message: "This rule does not exist." }, { status: 404 });
  return json({ ok: true as const, message: `${rule.name} switched ${enabled ? "on" : "off"}` });
};

export default function AutomationsRoute() {
  const { rules, templates } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const submit = useSubmit();
  const navigation = useNavigation();
  const shopify = useAppBridge();
  useEffect(() => {
    if (result) shopify.toast.show(result.message, { isError: !result.ok });
  }, [result, shopify]);
  const busyId = navigation.state !== "idle" ? ((navigation.formData?.get("id") as string | null) ?? null) : null;
  return (
    <Page
      title="Automations"
      primaryAction={{ content: "New rule", url: NEW_RULE_URL }}
      secondaryActions={[{ content: "Firing log", url: "/app/automations/log" }]}
    >
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            <RuleList rules={rules} busyId={busyId} onToggle={(id, enabled) => submit({ intent: "toggle", id, enabled: String(enabled) }, { method: "post" })} />
            <TemplatePicker templates={templates} />
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
