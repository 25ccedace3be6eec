// /app/feedback/settings: the rules editor (saved through the same service as `crm feedback
// rules set`), the negative-answer switches, the email preview and "Send a test to me".
// Thin: authenticate, read the form, one service call.
import { useEffect, useState } from "react";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { useActionData, useLoaderData, useNavigation, useSubmit } from "@remix-run/react";
import { BlockStack, Layout, Page } from "@shopify/polaris";
import { useAppBridge } from "@shopify/app-bridge-react";
import { authenticate } from "../shopify.server";
import { getFeedbackSettingsPage, saveFeedbackSettingsForm, sendFeedbackTestEmail, type RuleFormResult, type TestEmailResult } from "../services/admin-feedback.server";
import { EmailPreview, FeedbackSwitches, NEW_RULE, RuleEditor, RulesList, type RuleForm } from "../components/feedback/settings";

export const meta: MetaFunction = () => [{ title: "Feedback settings" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return getFeedbackSettingsPage(session.shop);
};

type ActionResult = ({ intent: "test" } & TestEmailResult) | ({ intent: "rules" } & RuleFormResult);

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const fields: Record<string, string> = {};
  for (const [name, value] of await request.formData()) if (typeof value === "string") fields[name] = value;
  if (fields.intent === "test") {
    const result = await sendFeedbackTestEmail(session.shop, fields.testAddress ?? "");
    return json<ActionResult>({ intent: "test", ...result }, { status: result.ok ? 200 : 422 });
  }
  const { status, result } = await saveFeedbackSettingsForm(session.shop, fields);
  return json<ActionResult>({ intent: "rules", ...result }, { status });
};

export default function FeedbackSettingsRoute() {
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const submit = useSubmit();
  const navigation = useNavigation();
  const shopify = useAppBridge();
  // null: no editor open; "": a new rule; otherwise the name of the rule being edited.
  const [editing, setEditing] = useState<string | null>(null);
  const [editorKey, setEditorKey] = useState(0);
  // The action result current when the editor was opened: a later successful rules save closes it.
  const [openedWith, setOpenedWith] = useState<typeof result>(undefined);
  useEffect(() => {
    if (result?.ok) shopify.toast.show(result.message);
  }, [result, shopify]);
  const editorOpen = editing !== null && !(result !== openedWith && result?.ok && result.intent === "rules");
  const busy = navigation.state !== "idle";
  const intent = navigation.formData?.get("intent");
  const ruleErrors = result && result.intent === "rules" && !result.ok ? result.errors : {};
  const testError = result && result.intent === "test" && !result.ok ? result.errors.testAddress : undefined;
  const edited = editing ? page.rules.find((r) => r.name === editing)?.form : undefined;
  const open = (name: string) => {
    setEditing(name);
    setOpenedWith(result);
    setEditorKey((k) => k + 1);
  };
  const submitRule = (values: RuleForm) =>
    submit({ intent: "save-rule", originalName: editing ?? "", ...values, enabled: values.enabled ? "true" : "false" }, { method: "post" });
  return (
    <Page title="Feedback settings" backAction={{ content: "Feedback", url: "/app/feedback" }}>
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            <RulesList
              rules={page.rules}
              busy={busy}
              onAdd={() => open("")}
              onEdit={open}
              onDelete={(name) => {
                if (window.confirm(`Delete the rule "${name}"? Its requests not yet sent are skipped.`)) submit({ intent: "delete-rule", originalName: name }, { method: "post" });
              }}
            />
            {editorOpen ? (
              <RuleEditor
                key={editorKey}
                initial={edited ?? NEW_RULE}
                originalName={editing === "" ? null : editing}
                errors={result !== openedWith ? ruleErrors : {}}
                busy={busy && intent === "save-rule"}
                onSave={submitRule}
                onCancel={() => setEditing(null)}
              />
            ) : null}
            <FeedbackSwitches
              initial={page.settings}
              staffAlertAddress={page.staffAlertAddress}
              busy={busy && intent === "settings"}
              onSave={(v) => submit({ intent: "settings", tagNegative: String(v.tagNegative), staffAlert: String(v.staffAlert) }, { method: "post" })}
            />
          </BlockStack>
        </Layout.Section>
        <Layout.Section variant="oneThird">
          <EmailPreview
            subject={page.previewSubject}
            html={page.previewHtml}
            busy={busy && intent === "test"}
            error={testError}
            onSendTest={(to) => submit({ intent: "test", testAddress: to }, { method: "post" })}
          />
        </Layout.Section>
      </Layout>
    </Page>
  );
}
