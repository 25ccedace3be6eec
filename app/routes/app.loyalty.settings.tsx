// /app/loyalty/settings: the loyalty program settings form. The action validates with the
// domain's schema (errors at their field) and saves a new version; a save based on an older
// version is refused as a conflict.
import { useEffect } from "react";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { useActionData, useLoaderData, useRevalidator, type ShouldRevalidateFunction } from "@remix-run/react";
import { Page } from "@shopify/polaris";
import { useAppBridge } from "@shopify/app-bridge-react";
import { authenticate } from "../shopify.server";
import { getProgramSettingsPage, saveProgramSettings } from "../services/admin-loyalty.server";
import { getShopFormatter } from "../services/shop-format.server";
import { ProgramSettingsForm } from "../components/loyalty/program-settings-form";
import type { ProgramSaveResult } from "../domain/admin/loyalty-view-models";

export const meta: MetaFunction = () => [{ title: "Program settings · Loyalty" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const fmt = await getShopFormatter(session.shop, request);
  return getProgramSettingsPage({ shop: session.shop, fmt, defaultTimeZone: fmt.timeZone });
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session, sessionToken } = await authenticate.admin(request);
  const actor = sessionToken?.sub ? `shopify-user:${sessionToken.sub}` : "merchant";
  const fields: Record<string, string> = {};
  for (const [name, value] of await request.formData()) if (typeof value === "string") fields[name] = value;
  const { status, result } = await saveProgramSettings({ shop: session.shop, fields, actor });
  return json<ProgramSaveResult>(result, { status });
};

// A refused save keeps the page on the version it was based on, with everything typed, until the
// merchant reloads (a conflict) or fixes the fields; a successful save loads the new version.
export const shouldRevalidate: ShouldRevalidateFunction = ({ actionResult, defaultShouldRevalidate }) => {
  const result = actionResult as ProgramSaveResult | undefined;
  if (result && !result.ok) return false;
  return defaultShouldRevalidate;
};

export default function LoyaltySettingsRoute() {
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const revalidator = useRevalidator();
  const shopify = useAppBridge();
  useEffect(() => {
    if (result?.ok) shopify.toast.show(`Program saved (version ${result.version})`);
  }, [result, shopify]);
  // After a save, or a reload after a conflict, the loader brings another version: the form
  // starts again from what is stored, and the failure of the older form no longer applies.
  const failed = result && !result.ok && result.basedOn === page.version ? result : null;
  return (
    <Page title="Program settings" subtitle={page.version ? `Version ${page.version}, saved ${page.updatedAt}` : "No program yet"} backAction={{ content: "Loyalty", url: "/app/loyalty" }}>
      <ProgramSettingsForm
        key={page.version ?? "new"}
        initial={page.values}
        version={page.version}
        currency={page.currency}
        segments={page.segments}
        timeZones={page.timeZones}
        shopTimeZone={page.shopTimeZone}
        errors={failed && failed.kind === "invalid" ? failed.errors : []}
        conflict={failed && failed.kind === "conflict" ? failed.message : null}
        onReload={() => revalidator.revalidate()}
      />
    </Page>
  );
}
