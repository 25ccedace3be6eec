// The app's Shopify Flow extensions (extensions/crm-flow-*/shopify.extension.toml) against what
// Shopify documents for flow_trigger / flow_action extensions (one [[extensions]] entry with
// type, handle, name, description; runtime_url for actions; [settings] fields with a documented
// type, a key for every non-reference field, customer_reference keyed by Shopify), and against
// app/domain/flow/definitions.ts (the handles and fields the app sends and parses). The payloads
// the app builds are checked with the twin's flowTriggerReceive validator as the oracle.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { buildFlowTriggerPayload, FLOW_ACTIONS, FLOW_FIELD_TYPES, FLOW_TRIGGERS, payloadKey } from "../../app/domain/flow/definitions";
import { EXTENSIONS_DIR } from "../twin/app-proxy";
import { APP_TOML_PATH } from "../twin/webhook-sender";
import { declaredFlowTriggers, flowPayloadProblems } from "../twin/resolvers/flow";

type TomlField = { type: string; key?: string; name?: string; description?: string; required?: boolean };
type Toml = { extensions: Record<string, unknown>[]; settings?: { fields?: TomlField[] } };

const read = (dir: string) => parseToml(readFileSync(join(EXTENSIONS_DIR, dir, "shopify.extension.toml"), "utf8")) as unknown as Toml;
const flowDirs = readdirSync(EXTENSIONS_DIR).filter((d) => existsSync(join(EXTENSIONS_DIR, d, "shopify.extension.toml")) && /type\s*=\s*"flow_(trigger|action)"/.test(readFileSync(join(EXTENSIONS_DIR, d, "shopify.extension.toml"), "utf8")));
const appUrl = new URL((parseToml(readFileSync(APP_TOML_PATH, "utf8")) as { application_url: string }).application_url);
const REFERENCE_TYPES = new Set(["customer_reference", "order_reference", "product_reference"]);

describe("Flow extensions", () => {
  it("one directory per definition, and no flow extension the app does not know", () => {
    const expected = [...Object.values(FLOW_TRIGGERS), ...Object.values(FLOW_ACTIONS)].map((d) => d.directory).sort();
    expect(flowDirs.sort()).toEqual(expected);
    expect(Object.values(FLOW_TRIGGERS).map((t) => t.name)).toEqual(expect.arrayContaining(["Customer entered CRM segment", "Customer left CRM segment", "Loyalty tier changed", "Feedback received"]));
    expect(Object.values(FLOW_ACTIONS).map((t) => t.name)).toEqual(expect.arrayContaining(["Award loyalty points", "Add customer tag via CRM"]));
  });

  const all = [...Object.values(FLOW_TRIGGERS).map((d) => ({ ...d, type: "flow_trigger" as const })), ...Object.values(FLOW_ACTIONS).map((d) => ({ ...d, type: "flow_action" as const }))];
  it.each(all.map((d) => [d.directory, d] as const))("%s: shape Shopify documents, same handle and fields as the app", (_dir, def) => {
    const toml = read(def.directory);
    expect(toml.extensions).toHaveLength(1);
    const ext = toml.extensions[0]!;
    const allowed = def.type === "flow_action" ? ["name", "type", "handle", "description", "runtime_url", "validation_url", "config_page_url", "config_page_preview_url", "schema", "return_type_ref"] : ["name", "type", "handle", "description", "schema"];
    expect(Object.keys(ext).filter((k) => !allowed.includes(k))).toEqual([]);
    expect(ext).toMatchObject({ type: def.type, handle: def.handle, name: def.name, description: def.description });
    // Handles: lowercase letters, digits and hyphens, at most 30 characters (unique in the app).
    expect(def.handle).toMatch(/^[a-z0-9][a-z0-9-]{0,29}$/);
    // Names: sentence case, no ending punctuation, short enough for Flow's picker.
    expect(def.name.length).toBeLessThanOrEqual(50);
    expect(def.name).toMatch(/^[A-Z][^.!?]*[A-Za-z0-9]$/);
    expect(def.description.length).toBeGreaterThan(0);
    const fields = toml.settings?.fields ?? [];
    expect(fields.map((f) => ({ type: f.type, key: f.key }))).toEqual(def.fields.map((f) => ({ type: f.type, key: "key" in f ? f.key : undefined })));
    for (const f of fields) {
      expect(FLOW_FIELD_TYPES).toContain(f.type);
      if (REFERENCE_TYPES.has(f.type)) expect(f.key).toBeUndefined();
      else expect(f.key, `${def.directory}: a ${f.type} field needs a key`).toMatch(/\S/);
      if (def.type === "flow_action") {
        expect(typeof f.required).toBe("boolean");
        if (!REFERENCE_TYPES.has(f.type)) expect(f.name).toMatch(/\S/);
      }
    }
    const keys = def.fields.map(payloadKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(fields.filter((f) => f.type === "customer_reference")).toHaveLength(1);
    if (def.type === "flow_action") {
      const url = new URL(ext.runtime_url as string);
      expect(url.protocol).toBe("https:");
      expect(url.host).toBe(appUrl.host);
      expect(url.pathname).toBe((def as { runtimePath: string }).runtimePath);
      // A Remix route serves it.
      const route = `app/routes/${url.pathname.slice(1).replaceAll("/", ".")}.tsx`;
      expect(existsSync(route), route).toBe(true);
    }
  });

  it("handles are unique across the app's extensions", () => {
    const handles = readdirSync(EXTENSIONS_DIR)
      .filter((d) => existsSync(join(EXTENSIONS_DIR, d, "shopify.extension.toml")))
      .flatMap((d) => (read(d).extensions ?? []).map((e) => e.handle ?? d));
    expect(new Set(handles).size).toBe(handles.length);
  });

  it("the payload the app builds for every trigger is what its extension declares (the twin's check as oracle)", () => {
    const declared = declaredFlowTriggers();
    const gid = "gid://shopify/Customer/7001";
    const moments: Record<string, Record<string, unknown>> = {
      [FLOW_TRIGGERS.segmentEntered.handle]: { kind: "segment_entered", segment: "VIP" },
      [FLOW_TRIGGERS.segmentLeft.handle]: { kind: "segment_left", segment: "VIP" },
      [FLOW_TRIGGERS.tierChanged.handle]: { kind: "tier_changed", from: null, to: "Gold", changeId: "4" },
      [FLOW_TRIGGERS.feedbackReceived.handle]: { kind: "feedback_answered", score: 3, responseId: "9" },
      [FLOW_TRIGGERS.automationFired.handle]: { kind: "order_placed", nth: 1 },
    };
    expect(Object.keys(moments).sort()).toEqual([...declared.keys()].sort());
    for (const [handle, moment] of Object.entries(moments)) {
      const payload = buildFlowTriggerPayload({ handle, customerGid: gid, moment, ruleName: "r" });
      expect(payload.customer_id).toBe(7001);
      expect(flowPayloadProblems(declared.get(handle)!, payload), handle).toEqual([]);
      // Dropping any field is caught by the same check (the oracle can fail).
      for (const key of Object.keys(payload)) {
        const { [key]: _dropped, ...rest } = payload;
        expect(flowPayloadProblems(declared.get(handle)!, rest)).toEqual([`Missing property '${key}'`]);
      }
    }
    expect(() => buildFlowTriggerPayload({ handle: FLOW_TRIGGERS.tierChanged.handle, customerGid: gid, moment: { kind: "order_placed" }, ruleName: "r" })).toThrow(/needs a tier_changed moment/);
    expect(() => buildFlowTriggerPayload({ handle: "nope", customerGid: gid, moment: {}, ruleName: "r" })).toThrow(/unknown Flow trigger handle/);
  });
});
