// Captured Shopify exchanges (../shared/shopify/conformance) replayed against the twin:
// for every capture of an operation the twin implements, seed the state the capture
// needs, send the same document and variables, and compare what comes back.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Kind, parse, type OperationDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import { twinSchema } from "../twin/admin-graphql";
import { parseGid } from "../twin/resolvers";
import { staticErrors, variableErrors } from "../twin/graphql-errors";
import { loadRealSchema } from "../twin/schema-subset";
import {
  CONFORMANCE_DIR,
  SHARED_PRESENT,
  SKIP_REASON,
  conformanceFiles,
  diff,
  documentFromResponse,
  exchangesIn,
  loadCapture,
  type Exchange,
  type Json,
} from "./conformance";
import { REPLAY_SHOP, compareReplay, invalidIdsIn, projectDocument, replayTwin, seedCustomer, seedReferences } from "./replay";

const VALIDATION_CODES = new Set([
  "undefinedField",
  "argumentNotAccepted",
  "missingRequiredArguments",
  "variableNotUsed",
  "argumentLiteralsIncompatible",
  "missingRequiredInputObjectAttribute",
  "INVALID_VARIABLE",
  "variableMismatch",
  "selectionMismatch",
  "undefinedType",
  "variableNotDefined",
]);

/**
 * Captured validation failures the emulation does not reproduce byte for byte, and why.
 * "location": the capture stored a document that is not byte-identical to the one it
 * sent (the error location points one line lower); only the locations differ.
 * "version": the capture was made against an older API version whose schema differs
 * from 2026-07 for the field involved.
 */
const VALIDATION_EXCEPTIONS: Record<string, "location" | "version"> = {
  "2025-01/orders/order-edit-residual-live-capture.json .steps.commit": "version", // successMessages exists in 2026-07
  "2026-04/customers/store-credit-account-parity.json .validations.unsupportedAttributionCredit": "version", // origin is a union in 2026-07
  "2026-04/customers/store-credit-account-parity.json .validations.unsupportedDebitFields": "version",
  "2025-01/orders/return-decline-request-validation.json .invalidDeclineReason": "location",
  "2025-01/orders/return-decline-request-validation.json .hiddenNotifyPayloadPublicSchema.decline": "location",
  "2025-01/orders/return-decline-request-validation.json .hiddenNotifyPayloadPublicSchema.approve": "location",
  "2026-04/orders/orderUpdate-localization-and-staff.json .staffMemberIdSchemaProbe": "location",
  "2026-04/orders/return-shipping-fee-recorded.json .hiddenInputProbe": "location",
};

const clean = (errors: Json[]) =>
  errors.map((e) => Object.fromEntries(Object.entries({ message: e.message, locations: e.locations, path: e.path, extensions: e.extensions }).filter(([, v]) => v !== undefined)));

function validationExchanges(): Exchange[] {
  const out: Exchange[] = [];
  for (const f of conformanceFiles())
    for (const ex of exchangesIn(f)) {
      const errors = ex.response.errors as Json[] | undefined;
      if (!ex.query || !errors?.length || "data" in ex.response) continue;
      if (errors.every((e) => VALIDATION_CODES.has(e.extensions?.code))) out.push(ex);
    }
  return out;
}

function operationOf(query: string): { doc: ReturnType<typeof parse>; op: OperationDefinitionNode } {
  const doc = parse(query);
  return { doc, op: doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)! };
}


describe.skipIf(!SHARED_PRESENT)(`conformance replay${SHARED_PRESENT ? "" : ` (skipped: ${SKIP_REASON})`}`, () => {
  it("reproduces every captured validation failure with graphql-ruby's messages, paths, locations and codes", () => {
    const real = loadRealSchema();
    const exchanges = validationExchanges();
    const failures: string[] = [];
    let matched = 0;
    for (const ex of exchanges) {
      const key = `${ex.file} ${ex.path}`;
      const { doc, op } = operationOf(ex.query!);
      let mine = staticErrors(real, doc);
      if (mine.length === 0) mine = variableErrors(real, op, ex.variables);
      const expected = clean(ex.response.errors as Json[]);
      const actual = clean(mine as Json[]);
      const exception = VALIDATION_EXCEPTIONS[key];
      const strip = (errs: Json[]) => errs.map(({ locations: _l, ...rest }) => rest);
      if (exception === "version") continue;
      const d = exception === "location" ? diff(strip(expected), strip(actual)) : diff(expected, actual);
      if (d.length) failures.push(`${key}: ${d.slice(0, 2).join("; ")}`);
      else matched++;
    }
    expect(failures).toEqual([]);
    expect(matched).toBeGreaterThanOrEqual(45);
  });

  it("answers captured validation failures identically over its own schema where it covers the document", () => {
    const twin = replayTwin();
    const real = loadRealSchema();
    const schema = twinSchema();
    let replayed = 0;
    const failures: string[] = [];
    for (const ex of validationExchanges()) {
      if (VALIDATION_EXCEPTIONS[`${ex.file} ${ex.path}`]) continue;
      const { doc, op } = operationOf(ex.query!);
      // Covered: the twin's schema yields the same validation as the real one.
      const onReal = staticErrors(real, doc).length ? staticErrors(real, doc) : variableErrors(real, op, ex.variables);
      const onTwin = staticErrors(schema, doc).length ? staticErrors(schema, doc) : variableErrors(schema, op, ex.variables);
      if (JSON.stringify(onReal) !== JSON.stringify(onTwin)) continue;
      const actual = twin.executeRequest(REPLAY_SHOP, { query: ex.query, variables: ex.variables }) as Json;
      const d = diff(ex.response, actual);
      if (d.length || "data" in actual || "extensions" in actual) failures.push(`${ex.file} ${ex.path}: ${d.slice(0, 2).join("; ")}`);
      replayed++;
    }
    void twin.close();
    expect(failures).toEqual([]);
    expect(replayed).toBeGreaterThanOrEqual(10);
  });

  it("replays every captured discountCodeBasicCreate / discountCodeFreeShippingCreate (userErrors, request errors, created discounts)", async () => {
    const dir = join(CONFORMANCE_DIR, "2026-04/discounts");
    const failures: string[] = [];
    let replayed = 0;
    for (const f of readdirSync(dir).sort()) {
      const capture = loadCapture(join(dir, f));
      const twin = replayTwin(capture.capturedAt ?? capture.recordedAt ?? "2026-07-01T00:00:00Z");
      const shop = twin.shop(REPLAY_SHOP);
      shop.currency = "CAD"; // the capture store's currency
      for (const ex of exchangesIn(join(dir, f))) {
        if (!ex.query || !/discountCode(Basic|FreeShipping)Create\s*\(/.test(ex.query)) continue;
        const projected = projectDocument(twin, ex.query);
        if (!projected) continue;
        seedReferences(shop, ex.variables, invalidIdsIn(ex.response));
        // A TAKEN code was created before the capture: create it first.
        for (const root of projected.roots) {
          const errors = (ex.response.data?.[root]?.userErrors ?? []) as Json[];
          if (errors.some((e) => e.code === "TAKEN")) {
            const varName = new RegExp(`(?:^|[\\s{])${root}\\s*(?::\\s*discountCode\\w+)?\\s*\\(\\s*\\w+\\s*:\\s*\\$(\\w+)`).exec(ex.query)?.[1] ?? "input";
            const input = ex.variables[varName] as Json;
            twin.executeRequest(REPLAY_SHOP, {
              query: "mutation($i: DiscountCodeBasicInput!) { discountCodeBasicCreate(basicCodeDiscount: $i) { userErrors { code } } }",
              variables: { i: { ...input, title: "seed" } },
            });
          }
        }
        const actual = twin.executeRequest(REPLAY_SHOP, { query: projected.query, variables: ex.variables }, { chargeCost: false }) as Json;
        const outcome = compareReplay(ex, projected.roots, actual);
        if (!outcome.ok) failures.push(`${f} ${ex.path}: ${outcome.differences.slice(0, 3).join("; ")}`);
        replayed++;
      }
      await twin.close();
    }
    expect(failures).toEqual([]);
    expect(replayed).toBeGreaterThanOrEqual(30);
  });

  it("replays tagsAdd / tagsRemove captures: normalisation, sorting, per-resource case rules, unknown ids", async () => {
    const twin = replayTwin();
    const shop = twin.shop(REPLAY_SHOP);
    const failures: string[] = [];
    let replayed = 0;
    const seed = (gidValue: string, node: Json, tags: string[]) => {
      const g = parseGid(gidValue)!;
      if (g.type === "Product")
        shop.putProduct({ id: g.id, title: node.title ?? "p", handle: "h", productType: "", vendor: "v", status: "DRAFT", tags, createdAt: "", updatedAt: "", publishedAt: null, variants: [] });
      else if (g.type === "Customer") {
        const [firstName, ...last] = String(node.displayName ?? "A B").split(" ");
        seedCustomer(shop, g.id, { email: node.email ?? null, firstName: firstName ?? null, lastName: last.join(" ") || null, tags });
      } else if (g.type === "Order") {
        seedReferences(shop, {}, new Set());
        shop.putOrder({
          id: g.id, name: node.name ?? "#1", number: 1, email: null, phone: null, customerId: null, createdAt: "", updatedAt: "", processedAt: "", cancelledAt: null,
          cancelReason: null, closedAt: null, test: false, tags, note: null, currency: "USD", financialStatus: "PAID", fulfillmentStatus: "UNFULFILLED", confirmed: true,
          sourceName: null, discountCodes: [], customerAcceptsMarketing: false, lineItems: [], subtotal: "0", totalDiscounts: "0", totalTax: "0", total: "0",
          currentSubtotal: "0", currentTotal: "0", totalRefunded: "0", totalShipping: "0", currentTotalDiscounts: "0", currentTotalTax: "0", refunds: [], fulfillments: [],
        });
      } else if (g.type === "Article") shop.articles.set(g.id, { id: g.id, title: node.title, tags });
      else if (g.type === "DraftOrder") shop.draftOrders.set(g.id, { id: g.id, name: node.name, tags });
    };
    const run = (label: string, ex: { query: string; variables: Json; response: Json }, extra: { cost?: boolean } = {}) => {
      const actual = twin.executeRequest(REPLAY_SHOP, { query: ex.query, variables: ex.variables }) as Json;
      const d = diff({ errors: ex.response.errors, data: ex.response.data }, { errors: actual.errors, data: actual.data });
      if (extra.cost !== false) {
        const c = ex.response.extensions?.cost;
        if (c) d.push(...diff({ requestedQueryCost: c.requestedQueryCost, actualQueryCost: c.actualQueryCost }, actual.extensions?.cost, "$.cost"));
      }
      if (d.length) failures.push(`${label}: ${d.slice(0, 3).join("; ")}`);
      replayed++;
    };

    // tags-normalization-parity: each case seeds a product with known tags.
    const norm = loadCapture("2025-01/products/tags-normalization-parity.json").tagNormalization as Json;
    for (const [name, c] of Object.entries(norm)) {
      seed(c.seedProduct.id, c.seedProduct, c.seedProduct.tags);
      run(`tags-normalization-parity ${name}`, { query: c.mutation.query, variables: c.mutation.variables, response: c.mutation.response });
    }
    // tags-add-multi-resource: the pre-state is the answer minus what was added (plus what was removed).
    const multi = loadCapture("2025-01/products/tags-add-multi-resource.json");
    for (const [name, c] of Object.entries(multi.cases as Json)) {
      const payload = (c.response.data?.tagsAdd ?? c.response.data?.tagsRemove) as Json | null;
      const given = ([] as string[]).concat(c.variables.tags).flatMap((t: string) => t.split(",").map((x) => x.trim()));
      if (payload?.node) {
        const isAdd = "tagsAdd" in c.response.data;
        seed(c.variables.id, payload.node, isAdd ? payload.node.tags.filter((t: string) => !given.includes(t)) : [...payload.node.tags, ...given]);
      }
      run(`tags-add-multi-resource ${name}`, c);
    }
    // normalizationCases: every resource is set back to ["Red"] before each case (the capture's setup).
    // The capture's shop already knew the customer tag "a" (see ShopState.canonicalCustomerTags).
    seedCustomer(shop, "1", { email: "other@example.com", tags: ["a"] });
    for (const [resource, cases] of Object.entries(multi.normalizationCases as Json))
      for (const [name, c] of Object.entries(cases as Json)) {
        const node = (c.response.data.tagsAdd ?? c.response.data.tagsRemove).node;
        seed(c.variables.id, node, ["Red"]);
        run(`tags-add-multi-resource normalizationCases.${resource}.${name}`, c);
      }
    await twin.close();
    expect(failures).toEqual([]);
    expect(replayed).toBeGreaterThanOrEqual(35);
  });

  it("replays customerUpdate captures: updates, identity rule, limits, consent redirection, metafield types", async () => {
    const twin = replayTwin("2026-07-04T23:37:19Z");
    const shop = twin.shop(REPLAY_SHOP);
    const schema = twinSchema();
    const failures: string[] = [];
    let replayed = 0;
    const update = (label: string, variables: Json, expected: Json) => {
      const payload = expected.data?.customerUpdate;
      const { query, expected: selected } = documentFromResponse(schema, "mutation", "customerUpdate", { input: "CustomerInput!" }, payload ?? { customer: null, userErrors: [] });
      const actual = twin.executeRequest(REPLAY_SHOP, { query, variables }) as Json;
      // The document is rebuilt from the answer, so error locations cannot match: compare messages and codes.
      const shape = (errs?: Json[]) => errs?.map((e) => ({ message: e.message, extensions: e.extensions }));
      const d = [...diff(shape(expected.errors), shape(actual.errors), "$.errors"), ...(payload ? diff(selected, actual.data?.customerUpdate, "$.customerUpdate") : [])];
      if (d.length) failures.push(`${label}: ${d.slice(0, 3).join("; ")}`);
      replayed++;
    };

    // customer-update-parity: the customer as it was before the update, then the update.
    const parity = loadCapture("2025-01/customers/customer-update-parity.json");
    const after = parity.mutation.response.data.customerUpdate.customer as Json;
    const id = parseGid(after.id)!.id;
    seedCustomer(shop, id, {
      firstName: "Hermes",
      lastName: "Before",
      email: after.email,
      phone: after.defaultPhoneNumber.phoneNumber,
      locale: after.locale,
      note: null,
      tags: ["before"],
      taxExemptions: [],
      createdAt: after.createdAt,
    });
    update("customer-update-parity mutation", parity.mutation.variables, parity.mutation.response);
    for (const k of ["validation", "metafieldValidation", "taxExemptionValidation"]) update(`customer-update-parity ${k}`, parity[k].variables, parity[k].response);

    // customer-update-requires-identity: customers created as captured, then the updates in order.
    const identity = loadCapture("2025-01/customers/customer-update-requires-identity.json");
    for (const [name, s] of Object.entries(identity.scenarios as Json)) {
      const created = s.create?.response?.data?.customerCreate?.customer as Json | undefined;
      if (created)
        seedCustomer(shop, parseGid(created.id)!.id, {
          firstName: created.firstName,
          lastName: created.lastName,
          email: created.email,
          phone: created.defaultPhoneNumber?.phoneNumber ?? null,
        });
      update(`customer-update-requires-identity ${name}`, s.update.variables, s.update.response);
    }

    // customer-tag-note-limits-parity: note limit on update.
    const limits = loadCapture("2025-01/customers/customer-tag-note-limits-parity.json");
    seedCustomer(shop, parseGid(limits.tooLongNoteUpdate.variables.input.id)!.id, { email: "limits@example.com" });
    update("customer-tag-note-limits-parity tooLongNoteUpdate", limits.tooLongNoteUpdate.variables, limits.tooLongNoteUpdate.response);

    // customer-input-inline-consent-parity (2026-07): consent must go through the dedicated mutations.
    const consent = loadCapture("2026-07/customers/customer-input-inline-consent-parity.json");
    for (const k of ["updateEmailConsent", "updateSmsConsent", "updateWhatsAppConsent"]) {
      const c = consent.validation[k] as Json;
      seedCustomer(shop, parseGid(c.variables.input.id)!.id, { email: "consent@example.com", phone: "+14155644560" });
      update(`customer-input-inline-consent-parity ${k}`, c.variables, c.response);
    }
    await twin.close();
    expect(failures).toEqual([]);
    expect(replayed).toBeGreaterThanOrEqual(12);
  });

  const notCovered = (query: string) => {
    try {
      const doc = parse(query);
      return staticErrors(loadRealSchema(), doc).length === 0 && staticErrors(twinSchema(), doc).length > 0;
    } catch {
      return false;
    }
  };

  it("replays bulkOperationRunQuery / bulkOperationRunMutation validation and concurrency captures (API >= 2026-01)", async () => {
    const dir = join(CONFORMANCE_DIR, "2026-04/bulk-operations");
    const failures: string[] = [];
    let replayed = 0;
    for (const f of readdirSync(dir).sort()) {
      const twin = replayTwin();
      const shop = twin.shop(REPLAY_SHOP);
      for (const ex of exchangesIn(join(dir, f))) {
        if (!ex.query || !/bulkOperationRun(Query|Mutation)\s*\(/.test(ex.query)) continue;
        const projected = projectDocument(twin, ex.query);
        if (!projected || projected.projected) continue;
        const payload = (ex.response.data?.bulkOperationRunMutation ?? ex.response.data?.bulkOperationRunQuery) as Json | undefined;
        if (!payload) continue;
        // Staged files: present unless the capture says they are missing; empty when it says so.
        const path = (ex.variables.path ?? ex.variables.stagedUploadPath) as string | undefined;
        const errors = (payload.userErrors ?? []) as Json[];
        const codes = errors.map((e) => e.code);
        const oversized = errors.some((e) => /exceeds the maximum allowed size/.test(String(e.message)));
        if (path && !codes.includes("NO_SUCH_FILE"))
          shop.stagedUploads.set(path, {
            key: path,
            body: codes.includes("INVALID_STAGED_UPLOAD_FILE") && !oversized ? "" : "{}\n",
            createdAt: "",
            ...(oversized ? { size: 101 * 1024 * 1024 } : {}),
          });
        // Bulk queries that read fields the twin does not have are not covered.
        const bulkQuery = (ex.variables.query ?? ex.variables.q) as string | undefined;
        if (bulkQuery && notCovered(bulkQuery)) continue;
        const actual = twin.executeRequest(REPLAY_SHOP, { query: ex.query, variables: ex.variables }, { chargeCost: false }) as Json;
        const got = (actual.data?.bulkOperationRunMutation ?? actual.data?.bulkOperationRunQuery) as Json | undefined;
        // In-progress lists name Shopify's ids: compare the message up to the list.
        const norm = (errs: Json[] = []) => errs.map((e) => ({ ...e, message: String(e.message).replace(/gid:\/\/shopify\/BulkOperation\/\d+/g, "<id>") }));
        const d = diff(norm(payload.userErrors), norm(got?.userErrors), "$.userErrors");
        if ((payload.bulkOperation === null) !== (got?.bulkOperation === null)) d.push(`bulkOperation: expected ${payload.bulkOperation === null ? "null" : "an operation"}`);
        if (payload.bulkOperation && got?.bulkOperation) d.push(...diff({ status: payload.bulkOperation.status, type: payload.bulkOperation.type }, got.bulkOperation, "$.bulkOperation"));
        if (d.length) failures.push(`${f} ${ex.path}: ${d.slice(0, 3).join("; ")}`);
        replayed++;
      }
      await twin.close();
    }
    expect(failures).toEqual([]);
    expect(replayed).toBeGreaterThanOrEqual(20);
  });

  it("keeps capture ids exact: the replay helpers read ids above 2^53 from captures without loss", () => {
    const ex = exchangesIn(join(CONFORMANCE_DIR, "2025-01/products/tags-add-parity.json"));
    expect(ex.length).toBeGreaterThan(0);
    expect(conformanceFiles().length).toBeGreaterThan(100);
  });
});
