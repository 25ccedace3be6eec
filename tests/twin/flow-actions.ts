// The twin's side of Shopify Flow actions: reads the app's flow_action extensions
// (extensions/*/shopify.extension.toml) and POSTs an action run to the extension's
// runtime_url the way Flow does (decision 058): JSON body { shop_id, shopify_domain,
// action_run_id, action_definition_id, handle, properties }, signed with the app's secret in
// x-shopify-hmac-sha256 (base64 HMAC-SHA256 of the raw body). The runtime_url's origin (the
// deployed app's) is replaced by the app under test's URL.
import { createHmac, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { EXTENSIONS_DIR } from "./app-proxy";

export type DeclaredFlowAction = { handle: string; name: string; runtimeUrl: string; fields: { type: string; key?: string; required?: boolean }[]; directory: string };

export function declaredFlowActions(dir = EXTENSIONS_DIR): Map<string, DeclaredFlowAction> {
  const out = new Map<string, DeclaredFlowAction>();
  for (const entry of readdirSync(dir)) {
    const file = join(dir, entry, "shopify.extension.toml");
    if (!existsSync(file)) continue;
    const toml = parseToml(readFileSync(file, "utf8")) as { extensions?: { type?: string; handle?: string; name?: string; runtime_url?: string }[]; settings?: { fields?: DeclaredFlowAction["fields"] } };
    for (const ext of toml.extensions ?? [])
      if (ext.type === "flow_action" && ext.handle && ext.runtime_url)
        out.set(ext.handle, { handle: ext.handle, name: ext.name ?? ext.handle, runtimeUrl: ext.runtime_url, fields: toml.settings?.fields ?? [], directory: entry });
  }
  return out;
}

/** Flow's signature of an action request body. */
export function flowActionSignature(body: string, secret: string): string {
  return createHmac("sha256", secret).update(body, "utf8").digest("base64");
}

export type FlowActionRun = {
  shop: string;
  /** The twin shop's numeric id (ShopState.shopId). */
  shopId: string;
  handle: string;
  properties: Record<string, unknown>;
  /** Flow keeps one id per run and sends it again on a retry. Default: a fresh UUID. */
  actionRunId?: string;
  /** Sign with this secret instead of the app's (a forged request). */
  signWith?: string;
};

export class TwinFlowActions {
  readonly sent: { handle: string; actionRunId: string; status: number }[] = [];

  constructor(private readonly app: { apiSecret: string; appUrl: string }) {}

  /** Invokes one action run as Flow does; answers the app's status and JSON body. */
  async invoke(run: FlowActionRun): Promise<{ status: number; body: Record<string, unknown>; actionRunId: string }> {
    const action = declaredFlowActions().get(run.handle);
    if (!action) throw new Error(`the app declares no flow_action with handle ${run.handle}`);
    const url = new URL(action.runtimeUrl);
    const target = new URL(url.pathname + url.search, this.app.appUrl);
    const actionRunId = run.actionRunId ?? randomUUID();
    const body = JSON.stringify({
      shop_id: Number(run.shopId),
      shopify_domain: run.shop,
      action_run_id: actionRunId,
      action_definition_id: `${action.directory}-definition`,
      handle: action.handle,
      properties: run.properties,
    });
    const response = await fetch(target, {
      method: "POST",
      headers: { "content-type": "application/json", "x-shopify-hmac-sha256": flowActionSignature(body, run.signWith ?? this.app.apiSecret), "user-agent": "Shopify-Flow-Twin" },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    this.sent.push({ handle: run.handle, actionRunId, status: response.status });
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, actionRunId };
  }
}
