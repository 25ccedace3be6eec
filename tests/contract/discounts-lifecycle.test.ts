// Discount codes as the loyalty rewards use them, checked against captured Shopify exchanges
// (../shared/shopify/conformance/2026-04/discounts):
//
// 1. The lifecycle captures (a `requests` map and one answer per step, a layout the generic
//    replay in conformance-replay.test.ts does not read) are replayed against the twin in
//    capture order: creates, and the reads that come before the first step the twin does
//    not implement (an update or a delete changes what later reads see).
// 2. The discount input the app builds for each reward kind (app/domain/loyalty/rewards.ts)
//    is accepted by the twin and reads back as Shopify showed the captured discount of the
//    same shape (summary, value, minimum, context, usage limit), and the app's own documents
//    (app/shopify/admin-documents.ts) answer on the twin as their types say.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Kind, TypeInfo, getNamedType, isObjectType, isInterfaceType, parse, print, visit, visitWithTypeInfo, type GraphQLSchema, type OperationDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import { buildDiscountInput } from "../../app/domain/loyalty/rewards";
import { RewardSchema } from "../../app/domain/loyalty/program";
import { CODE_DISCOUNT_NODE_BY_CODE, DISCOUNT_CODE_BASIC_CREATE, DISCOUNT_CODE_FREE_SHIPPING_CREATE } from "../../app/shopify/admin-documents";
import { twinSchema } from "../twin/admin-graphql";
import { parseGid } from "../twin/resolvers";
import { CONFORMANCE_DIR, DEFAULT_IGNORE, SHARED_PRESENT, SKIP_REASON, diff, loadCapture, type Json } from "./conformance";
import { REPLAY_SHOP, invalidIdsIn, projectDocument, replayTwin, seedCustomer, seedReferences } from "./replay";

const DISCOUNTS = join(CONFORMANCE_DIR, "2026-04/discounts");

type Step = { path: string; request: { query: string; variables?: Json } | null; response: Json };

/** The answer inside a step ({status, payload} or {response: {status, body|payload}}). */
function answerOf(value: unknown): Json | null {
  if (!value || typeof value !== "object") return null;
  const v = value as Json;
  const inner = v.response && typeof v.response === "object" ? (v.response as Json) : v;
  const body = inner.payload ?? inner.body;
  return body && typeof body === "object" && ("data" in body || "errors" in body) ? (body as Json) : null;
}

/** The request of a step: `requests.<key>`, `requests.<parentKey>` (setup.create -> setupCreate), or the capture's read. */
function requestOf(capture: Json, path: string[]): Step["request"] {
  const requests = capture.requests as Json;
  const last = path[path.length - 1]!;
  const joined = path.map((p, i) => (i === 0 ? p : p[0]!.toUpperCase() + p.slice(1))).join("");
  const readPrefix = /^(\w*?)(?:R|r)eadAfter\w+$/.exec(last)?.[1];
  const candidates = [joined, last, ...(readPrefix !== undefined ? [readPrefix ? `${readPrefix}Read` : "read"] : [])];
  for (const c of candidates) if (requests[c]?.query) return requests[c] as Step["request"];
  return null;
}

/** The steps of a lifecycle capture, in capture order (upstreamCalls, probes and setup of other resources included as steps). */
function lifecycleSteps(capture: Json): Step[] {
  const steps: Step[] = [];
  const walk = (value: unknown, path: string[]) => {
    const answer = answerOf(value);
    if (answer) {
      steps.push({ path: path.join("."), request: requestOf(capture, path), response: answer });
      return;
    }
    if (value && typeof value === "object" && !Array.isArray(value) && path.length < 3)
      for (const [k, v] of Object.entries(value as Json)) if (k !== "requests" && k !== "upstreamCalls" && k !== "scopeProbe") walk(v, [...path, k]);
  };
  walk(capture, []);
  return steps;
}

/**
 * Removes what the twin's schema does not have: inline fragments on types it lacks
 * (DiscountCustomerSegments, automatic discounts: nothing the twin returns can match them)
 * and fields it lacks (metafields on DiscountCodeNode). Returns the document and the
 * response keys of the removed fields (left out of the comparison).
 */
function projectToTwinSchema(schema: GraphQLSchema, query: string): { query: string; removedKeys: Set<string> } {
  const removedKeys = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  const doc = visit(
    parse(query),
    visitWithTypeInfo(typeInfo, {
      InlineFragment: (node) => (node.typeCondition && !schema.getType(node.typeCondition.name.value) ? null : undefined),
      Field: (node) => {
        const parent = typeInfo.getParentType();
        // Root fields are projectDocument's business (it also drops the variables they used).
        if (!parent || node.name.value === "__typename" || parent === schema.getQueryType() || parent === schema.getMutationType()) return undefined;
        const named = getNamedType(parent);
        if ((isObjectType(named) || isInterfaceType(named)) && !named.getFields()[node.name.value]) {
          removedKeys.add(node.alias?.value ?? node.name.value);
          return null;
        }
        return undefined;
      },
    }),
  );
  return { query: print(doc), removedKeys };
}

/** Captured gids -> the twin's gids for the same records (learned from each answer), so later steps address what the twin created. */
function learnIds(expected: unknown, actual: unknown, ids: Map<string, string>) {
  if (typeof expected === "string" && typeof actual === "string") {
    if (/^gid:\/\/shopify\//.test(expected) && /^gid:\/\/shopify\//.test(actual)) ids.set(expected, actual);
  } else if (Array.isArray(expected) && Array.isArray(actual)) expected.forEach((e, i) => learnIds(e, actual[i], ids));
  else if (expected && actual && typeof expected === "object" && typeof actual === "object")
    for (const [k, v] of Object.entries(expected as Json)) learnIds(v, (actual as Json)[k], ids);
}

function mapIds(value: unknown, ids: Map<string, string>): unknown {
  if (typeof value === "string") return ids.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => mapIds(v, ids));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, mapIds(v, ids)]));
  return value;
}

function missingVariables(query: string, variables: Json): string[] {
  const op = parse(query).definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  return (op.variableDefinitions ?? []).filter((v) => v.type.kind === Kind.NON_NULL_TYPE && variables[v.variable.name.value] === undefined).map((v) => v.variable.name.value);
}

/** When the capture was made: its capturedAt, else the latest createdAt Shopify reported in it (statuses depend on it). */
function captureTime(capture: Json): string {
  if (typeof capture.capturedAt === "string") return capture.capturedAt;
  const times = [...JSON.stringify(capture).matchAll(/"(?:createdAt|updatedAt)":\s*"(\d{4}-\d\d-\d\dT[\d:.]+Z)"/g)].map((m) => m[1]!).sort();
  return times[times.length - 1] ?? "2026-07-01T00:00:00Z";
}

/** Customers a capture created (setup.customerCreate) exist in the twin with the same names. */
function seedCapturedCustomers(shop: ReturnType<ReturnType<typeof replayTwin>["shop"]>, capture: Json) {
  const created = answerOf(capture.setup?.customerCreate)?.data?.customerCreate?.customer as Json | undefined;
  if (created) seedCustomer(shop, parseGid(created.id)!.id, { firstName: created.firstName, lastName: created.lastName, email: created.email, tags: created.tags ?? [] });
}

describe.skipIf(!SHARED_PRESENT)(`discount lifecycle captures and the loyalty reward input${SHARED_PRESENT ? "" : ` (skipped: ${SKIP_REASON})`}`, () => {
  it("replays the lifecycle captures' creates and reads in capture order, up to the first step the twin does not implement", async () => {
    const schema = twinSchema();
    const failures: string[] = [];
    const replayed: string[] = [];
    for (const f of readdirSync(DISCOUNTS).sort()) {
      const capture = loadCapture(join(DISCOUNTS, f));
      if (!capture.requests || Array.isArray(capture.requests)) continue;
      const twin = replayTwin(captureTime(capture));
      const shop = twin.shop(REPLAY_SHOP);
      shop.currency = "CAD"; // the capture store's currency
      seedCapturedCustomers(shop, capture);
      const ids = new Map<string, string>();
      for (const step of lifecycleSteps(capture)) {
        if (!step.request) continue;
        const variables = mapIds(step.request.variables ?? {}, ids) as Json;
        const { query, removedKeys } = projectToTwinSchema(schema, step.request.query);
        const projected = projectDocument(twin, query);
        const isMutation = /^mutation\b/.test(step.request.query.replace(/^\s*#graphql\s*/, "").trimStart());
        // A mutation the twin does not implement changes what later steps see: stop this capture.
        if (!projected || (isMutation && projected.projected)) {
          if (isMutation && /customerCreate|productCreate|segmentCreate|collectionCreate/.test(step.request.query)) continue; // setup of other resources (seeded)
          if (isMutation) break;
          continue;
        }
        if (missingVariables(projected.query, variables).length) continue; // the capture kept the document but not its variables
        seedReferences(shop, variables, invalidIdsIn(step.response));
        const actual = twin.executeRequest(REPLAY_SHOP, { query: projected.query, variables }, { chargeCost: false }) as Json;
        const ignore = new Set([...DEFAULT_IGNORE, ...removedKeys]);
        const shape = (errors: Json[] | undefined) => (errors ?? []).map((e) => ({ message: e.message, path: e.path, extensions: e.extensions }));
        const differences = diff(shape(step.response.errors), shape(actual.errors), "$.errors");
        for (const root of projected.roots) {
          if (!step.response.data || !(root in step.response.data)) continue;
          differences.push(...diff(step.response.data[root], actual.data?.[root], `$.data.${root}`, ignore));
          learnIds(step.response.data[root], actual.data?.[root], ids);
        }
        if (differences.length) failures.push(`${f} ${step.path}: ${differences.slice(0, 3).join("; ")}`);
        replayed.push(`${f} ${step.path}`);
      }
      await twin.close();
    }
    expect(failures).toEqual([]);
    // The steps that matter for loyalty codes are among them.
    expect(replayed).toEqual(
      expect.arrayContaining([
        "discount-code-basic-lifecycle.json create",
        "discount-free-shipping-lifecycle.json codeCreate",
        "discount-buyer-context-lifecycle.json codeCreate",
        "discount-upstream-fixed-amount-activate.json setup.create",
        "discount-status-time-window-derivation.json read",
      ]),
    );
    expect(replayed.length).toBeGreaterThanOrEqual(20);
  });

  // The captured discount each reward kind's input resembles, and what Shopify showed for it.
  const REWARD_CASES = [
    {
      reward: { id: "five-off", name: "$5 off", kind: "fixed_amount", value: "5.00", pointsCost: 500, minimumOrder: "50.00" },
      capture: "discount-upstream-fixed-amount-activate.json setup.create",
      summary: "$5.00 off one-time purchase products • Minimum purchase of $50.00 • One use per customer",
      value: { __typename: "DiscountAmount", amount: { amount: "5.0", currencyCode: "CAD" }, appliesOnEachItem: false },
      minimum: { __typename: "DiscountMinimumSubtotal", greaterThanOrEqualToSubtotal: { amount: "50.0", currencyCode: "CAD" } },
    },
    {
      reward: { id: "ten-pct", name: "10% off", kind: "percentage", value: 10, pointsCost: 900, minimumOrder: "1.00" },
      capture: "discount-code-basic-lifecycle.json create",
      summary: "10% off one-time purchase products • Minimum purchase of $1.00 • One use per customer",
      value: { __typename: "DiscountPercentage", percentage: 0.1 },
      minimum: { __typename: "DiscountMinimumSubtotal", greaterThanOrEqualToSubtotal: { amount: "1.0", currencyCode: "CAD" } },
    },
    {
      reward: { id: "ship", name: "Free shipping", kind: "free_shipping", pointsCost: 300, minimumOrder: "10.00" },
      capture: "discount-free-shipping-lifecycle.json codeCreate",
      summary: "Free shipping on one-time purchase products • Minimum purchase of $10.00 • For all countries • One use per customer",
      value: null,
      minimum: { __typename: "DiscountMinimumSubtotal", greaterThanOrEqualToSubtotal: { amount: "10.0", currencyCode: "CAD" } },
    },
  ] as const;

  it.each(REWARD_CASES)("$reward.kind: the app's input is accepted and reads back like $capture", async ({ reward, summary, value, minimum }) => {
    const twin = replayTwin("2026-07-14T15:49:32Z");
    const shop = twin.shop(REPLAY_SHOP);
    shop.currency = "CAD";
    seedCustomer(shop, "10960324657458", { firstName: "HAR390", lastName: "Buyer Context", email: "buyer@example.com" });
    const customerGid = "gid://shopify/Customer/10960324657458";
    const startsAt = new Date("2026-07-14T15:49:32Z");
    const endsAt = new Date(startsAt.getTime() + 30 * 86_400_000);
    const { mutation, input } = buildDiscountInput({ reward: RewardSchema.parse(reward), customerGid, code: "PTS-7Q2K-9XMB-4HRT", title: "Loyalty reward: x [redemption 1]", startsAt, endsAt });
    const root = mutation;
    const document = mutation === "discountCodeBasicCreate" ? DISCOUNT_CODE_BASIC_CREATE : DISCOUNT_CODE_FREE_SHIPPING_CREATE;
    const variables = mutation === "discountCodeBasicCreate" ? { basicCodeDiscount: input } : { freeShippingCodeDiscount: input };
    const created = twin.executeRequest(REPLAY_SHOP, { query: document, variables }, { chargeCost: false }) as Json;
    expect(created.errors).toBeUndefined();
    expect(created.data[root].userErrors).toEqual([]);
    expect(created.data[root].codeDiscountNode).toEqual({
      id: expect.stringMatching(/^gid:\/\/shopify\/DiscountCodeNode\/\d+$/),
      codeDiscount: { title: "Loyalty reward: x [redemption 1]", startsAt: "2026-07-14T15:49:32Z", endsAt: "2026-08-13T15:49:32Z" },
    });

    // The app's lookup (codes match case-insensitively, as Shopify's do).
    const found = twin.executeRequest(REPLAY_SHOP, { query: CODE_DISCOUNT_NODE_BY_CODE, variables: { code: "pts-7q2k-9xmb-4hrt" } }) as Json;
    expect(found.data.codeDiscountNodeByCode).toEqual(created.data[root].codeDiscountNode);
    const missing = twin.executeRequest(REPLAY_SHOP, { query: CODE_DISCOUNT_NODE_BY_CODE, variables: { code: "PTS-NOPE-NOPE-NOPE" } }) as Json;
    expect(missing.data).toEqual({ codeDiscountNodeByCode: null });

    // What Shopify shows for a discount of this shape (fields as the captures select them).
    const read = twin.executeRequest(REPLAY_SHOP, {
      query: `query($code: String!) { codeDiscountNodeByCode(code: $code) { codeDiscount { __typename
        ... on DiscountCodeBasic { status summary usageLimit appliesOncePerCustomer discountClasses
          combinesWith { productDiscounts orderDiscounts shippingDiscounts }
          context { __typename ... on DiscountCustomers { customers { id displayName } } }
          customerGets { value { __typename ... on DiscountPercentage { percentage } ... on DiscountAmount { amount { amount currencyCode } appliesOnEachItem } } items { __typename ... on AllDiscountItems { allItems } } }
          minimumRequirement { __typename ... on DiscountMinimumSubtotal { greaterThanOrEqualToSubtotal { amount currencyCode } } }
          codes(first: 2) { nodes { code } } }
        ... on DiscountCodeFreeShipping { status summary usageLimit appliesOncePerCustomer discountClasses
          combinesWith { productDiscounts orderDiscounts shippingDiscounts }
          context { __typename ... on DiscountCustomers { customers { id displayName } } }
          destinationSelection { __typename ... on DiscountCountryAll { allCountries } }
          minimumRequirement { __typename ... on DiscountMinimumSubtotal { greaterThanOrEqualToSubtotal { amount currencyCode } } }
          codes(first: 2) { nodes { code } } } } } }`,
      variables: { code: "PTS-7Q2K-9XMB-4HRT" },
    }) as Json;
    expect(read.errors).toBeUndefined();
    const discount = read.data.codeDiscountNodeByCode.codeDiscount as Json;
    const expected: Json = {
      status: "ACTIVE",
      summary,
      usageLimit: 1,
      appliesOncePerCustomer: true,
      discountClasses: [value ? "ORDER" : "SHIPPING"],
      combinesWith: value ? { productDiscounts: true, orderDiscounts: false, shippingDiscounts: true } : { productDiscounts: true, orderDiscounts: true, shippingDiscounts: false },
      // As in discount-buyer-context-lifecycle codeCreate.
      context: { __typename: "DiscountCustomers", customers: [{ id: customerGid, displayName: "HAR390 Buyer Context" }] },
      minimumRequirement: minimum,
      codes: { nodes: [{ code: "PTS-7Q2K-9XMB-4HRT" }] },
      ...(value ? { customerGets: { value, items: { __typename: "AllDiscountItems", allItems: true } } } : { destinationSelection: { __typename: "DiscountCountryAll", allCountries: true } }),
    };
    expect(diff(expected, discount)).toEqual([]);
    await twin.close();
  });

  it("the reward inputs' captured counterparts agree with the expectations above (the summaries are Shopify's)", () => {
    for (const c of REWARD_CASES) {
      const [file, path] = c.capture.split(" ") as [string, string];
      const capture = loadCapture(join(DISCOUNTS, file));
      const step = lifecycleSteps(capture).find((s) => s.path === path)!;
      const payload = Object.values(step.response.data as Json)[0] as Json;
      const shown = payload.codeDiscountNode.codeDiscount as Json;
      // The capture's discount had no buyer context and its own usage settings; the rest of the summary is the same wording.
      const base = (s: string) => s.split(" • ").filter((p) => !/^(One use per customer|For all countries|Applies to shipping rates under .*)$/.test(p));
      expect(base(shown.summary)).toEqual(base(c.summary));
      if (c.value) expect(shown.customerGets.value).toEqual(c.value);
    }
  });

  it("a second create with the same code (any case) is refused as Shopify does; the app then looks the code up", () => {
    const twin = replayTwin();
    const input = buildDiscountInput({
      reward: RewardSchema.parse({ id: "p", name: "p", kind: "percentage", value: 15, pointsCost: 1 }),
      customerGid: "gid://shopify/Customer/1",
      code: "PTS-AAAA-BBBB-CCCC",
      title: "t [redemption 1]",
      startsAt: new Date("2026-07-01T00:00:00Z"),
      endsAt: new Date("2026-07-31T00:00:00Z"),
    }).input;
    seedCustomer(twin.shop(REPLAY_SHOP), "1", { email: "a@example.com" });
    const first = twin.executeRequest(REPLAY_SHOP, { query: DISCOUNT_CODE_BASIC_CREATE, variables: { basicCodeDiscount: input } }) as Json;
    expect(first.data.discountCodeBasicCreate.userErrors).toEqual([]);
    const again = twin.executeRequest(REPLAY_SHOP, { query: DISCOUNT_CODE_BASIC_CREATE, variables: { basicCodeDiscount: { ...input, code: "pts-aaaa-bbbb-cccc" } } }) as Json;
    // discount-validation-branches `duplicate` (the app's selection has no extraInfo).
    expect(again.data.discountCodeBasicCreate).toEqual({
      codeDiscountNode: null,
      userErrors: [{ field: ["basicCodeDiscount", "code"], message: "Code must be unique. Please try a different code.", code: "TAKEN" }],
    });
    void twin.close();
  });
});
