// /app/automations/:id: the rule editor for a saved rule, its dry run over the last 30 days,
// and a link to its firings. Thin: authenticate, read the form, one service call.
import { useEffect } from "react";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { isRouteErrorResponse, useActionData, useLoaderData, useNavigation, useRouteError, useSearchParams, useSubmit } from "@remix-run/react";
import { Page } from "@shopify/polaris";
import { useAppBridge } from "@shopify/app-bridge-react";
import { authenticate } from "../shopify.server";
import { dryRunForAdmin, getRuleEditor, saveRuleForm } from "../services/admin-automations.server";
import { RuleEditor } from "../components/automations/rule-editor";
import { NotFoundPage } from "../components/not-found-page";
import type { DryRunView, FieldErrors } from "../domain/admin/automation-view-models";

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const view = await getRuleEditor({ shop: session.shop, id: params.id ?? "" });
  if (!view) throw new Response("Rule not found", { status: 404 });
  return view;
};

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `${data.draft.name} · Automations` : "Rule not found" }];

type ActionResult = { intent: "save"; ok: true; message: string } | { intent: "save"; ok: false; errors: FieldErrors } | { intent: "dry-run"; dryRun: DryRunView };

export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const fields = Object.fromEntries(await request.formData());
  const id = params.id ?? "";
  if (fields.intent === "dry-run") {
    const dryRun = await dryRunForAdmin({ shop: session.shop, id });
    if (!dryRun) throw new Response("Rule not found", { status: 404 });
    return json<ActionResult>({ intent: "dry-run", dryRun });
  }
  const { status, result } = await saveRuleForm({ shop: session.shop, id, fields });
  if (result.ok) return json<ActionResult>({ intent: "save", ok: true, message: result.message });
  return json<ActionResult>({ intent: "save", ok: false, errors: result.errors }, { status });
};

export default function RuleRoute() {
  const view = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const submit = useSubmit();
  const navigation = useNavigation();
  const shopify = useAppBridge();
  const [search] = useSearchParams();
  const created = search.get("saved") === "created";
  useEffect(() => {
    if (result?.intent === "save" && result.ok) shopify.toast.show(result.message);
  }, [result, shopify]);
  useEffect(() => {
    if (created) shopify.toast.show("Rule created");
  }, [created, shopify]);
  const intent = navigation.formData?.get("intent");
  const busy = navigation.state !== "idle";
  return (
    <Page
      title={view.draft.name}
      titleMetadata={undefined}
      backAction={{ content: "Automations", url: "/app/automations" }}
      secondaryActions={[{ content: "Firing log", url: `/app/automations/log?rule=${view.id}` }]}
    >
      <RuleEditor
        key={`${view.id}:${view.version}`}
        initial={view.draft}
        segments={view.segments}
        saved
        errors={result?.intent === "save" && !result.ok ? result.errors : {}}
        saving={busy && intent === "save"}
        dryRun={result?.intent === "dry-run" ? result.dryRun : null}
        dryRunning={busy && intent === "dry-run"}
        onSave={(draft) => submit({ intent: "save", rule: JSON.stringify(draft) }, { method: "post" })}
        onDryRun={() => submit({ intent: "dry-run" }, { method: "post" })}
        cancelUrl="/app/automations"
      />
    </Page>
  );
}

export function ErrorBoundary() {
  const error = useRouteError();
  if (isRouteErrorResponse(error) && error.status === 404) {
    return <NotFoundPage title="Rule not found" message="This store has no automation rule with that id." backUrl="/app/automations" backLabel="Automations" />;
  }
  throw error;
}
