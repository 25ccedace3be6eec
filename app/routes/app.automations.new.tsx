// /app/automations/new(?template=<key>): the rule editor for a new rule, blank or from a
// shipped template. Saving goes to the rule's page, where it can be dry-run.
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { useActionData, useLoaderData, useNavigation, useSubmit } from "@remix-run/react";
import { Page } from "@shopify/polaris";
import { authenticate } from "../shopify.server";
import { getNewRuleEditor, saveRuleForm } from "../services/admin-automations.server";
import { RuleEditor } from "../components/automations/rule-editor";
import type { FieldErrors } from "../domain/admin/automation-view-models";

export const meta: MetaFunction = () => [{ title: "New rule · Automations" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return getNewRuleEditor({ shop: session.shop, template: new URL(request.url).searchParams.get("template") });
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const { status, result } = await saveRuleForm({ shop: session.shop, id: null, fields: Object.fromEntries(await request.formData()) });
  if (result.ok) return redirect(`/app/automations/${result.id}?saved=created`);
  return json<{ errors: FieldErrors }>({ errors: result.errors }, { status });
};

export default function NewRuleRoute() {
  const view = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const submit = useSubmit();
  const navigation = useNavigation();
  return (
    <Page title="New rule" backAction={{ content: "Automations", url: "/app/automations" }}>
      <RuleEditor
        key={view.draft.name}
        initial={view.draft}
        segments={view.segments}
        saved={false}
        errors={result?.errors ?? {}}
        saving={navigation.state !== "idle"}
        dryRun={null}
        dryRunning={false}
        onSave={(draft) => submit({ rule: JSON.stringify(draft) }, { method: "post" })}
        onDryRun={() => undefined}
        cancelUrl="/app/automations"
      />
    </Page>
  );
}
