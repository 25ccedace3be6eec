// The Admin GraphQL twin over HTTP: auth, reads, writes, errors, cost and throttling,
// request log, bulk operations.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminTwin, startAdminTwin } from "./admin-graphql";
import type { BulkOperation } from "./admin-state";
import { generateStore } from "./store-generator";

const SHOP = "crm-twin.myshopify.com";
const TOKEN = "shpat_twin_test";
const MAX_SAFE = 2n ** 53n;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function post(twin: AdminTwin, query: string, variables?: unknown, opts: { token?: string | null; version?: string } = {}) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const token = opts.token === undefined ? TOKEN : opts.token;
  if (token !== null) headers["x-shopify-access-token"] = token;
  const res = await fetch(`${twin.url}/admin/api/${opts.version ?? "2026-07"}/graphql.json`, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: (await res.json()) as Json, headers: res.headers };
}

describe("Admin GraphQL twin", () => {
  let twin: AdminTwin;
  let clock = Date.parse("2026-07-01T12:00:00Z");
  const finished: BulkOperation[] = [];
  const logDir = mkdtempSync(join(tmpdir(), "twin-log-"));
  const logPath = join(logDir, "requests.jsonl");
  const store = generateStore({ seed: 5, customers: 400 });

  beforeAll(async () => {
    twin = await startAdminTwin({
      defaultShop: SHOP,
      accessTokens: { [SHOP]: TOKEN },
      requestLog: logPath,
      now: () => clock,
      onBulkOperationFinish: (_shop, op) => finished.push({ ...op }),
    });
    twin.shop(SHOP).loadStore(store);
  });
  afterAll(async () => {
    await twin.close();
  });

  it("requires X-Shopify-Access-Token: 401 without it or with a wrong one", async () => {
    const missing = await post(twin, "{ shop { name } }", undefined, { token: null });
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" });
    expect((await post(twin, "{ shop { name } }", undefined, { token: "nope" })).status).toBe(401);
    const ok = await post(twin, "{ shop { name myshopifyDomain currencyCode } }");
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toMatch(/^application\/json/);
    expect(ok.body.data.shop).toEqual({ name: "crm-twin", myshopifyDomain: SHOP, currencyCode: "USD" });
  });

  it("pages through customers with cursors, exactly once each, and filters with search syntax", async () => {
    const seen = new Set<string>();
    let after: string | null = null;
    for (;;) {
      const r = await post(twin, "query($after: String) { customers(first: 100, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }", { after });
      for (const e of r.body.data.customers.edges) {
        expect(seen.has(e.node.id)).toBe(false);
        seen.add(e.node.id);
      }
      if (!r.body.data.customers.pageInfo.hasNextPage) break;
      after = r.body.data.customers.pageInfo.endCursor;
    }
    expect(seen.size).toBe(400);

    const canada = [...store.customers()].filter((c) => c.address.countryCode === "CA").length;
    const r = await post(twin, '{ customersCount(query: "country:Canada") { count precision } }');
    expect(r.body.data.customersCount).toEqual({ count: canada, precision: "EXACT" });
    const since = await post(twin, `{ customers(first: 5, query: "updated_at:>'2026-06-01'") { nodes { updatedAt } } }`);
    for (const n of since.body.data.customers.nodes) expect(Date.parse(n.updatedAt)).toBeGreaterThan(Date.parse("2026-06-01"));
  });

  it("reads a customer with an id above 2^53 exactly, with orders, totals and consent", async () => {
    const c = [...store.customers()].find((x) => x.id > MAX_SAFE && x.buyerType !== "none")!;
    const r = await post(
      twin,
      `query($id: ID!) { customer(id: $id) { id legacyResourceId displayName numberOfOrders amountSpent { amount currencyCode }
        defaultEmailAddress { emailAddress marketingState } defaultAddress { countryCodeV2 } orders(first: 5) { nodes { id name } } } }`,
      { id: `gid://shopify/Customer/${c.id}` },
    );
    const customer = r.body.data.customer;
    expect(customer.id).toBe(`gid://shopify/Customer/${c.id}`);
    expect(customer.legacyResourceId).toBe(String(c.id));
    expect(customer.displayName).toBe(`${c.firstName} ${c.lastName}`);
    expect(Number(customer.numberOfOrders)).toBe(store.customerOrderTimes(c.index).length);
    expect(customer.defaultEmailAddress.marketingState).toBe(c.emailMarketing.state.toUpperCase());
    expect(customer.defaultAddress.countryCodeV2).toBe(c.address.countryCode);
    expect(customer.orders.nodes.length).toBeGreaterThan(0);
    expect(r.body.extensions.cost.requestedQueryCost).toBeGreaterThan(0);
  });

  it("tagsAdd / tagsRemove normalise like Shopify and report unknown ids as RESOURCE_NOT_FOUND", async () => {
    const c = store.customer(3);
    const id = `gid://shopify/Customer/${c.id}`;
    const add = await post(twin, "mutation($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { ... on Customer { tags } } userErrors { field message } } }", {
      id,
      tags: "VIP, winback ,vip",
    });
    expect(add.body.data.tagsAdd).toEqual({ node: { tags: ["VIP", "winback"] }, userErrors: [] });
    expect(add.body.extensions.cost).toMatchObject({ requestedQueryCost: 10, actualQueryCost: 10 });
    const remove = await post(twin, "mutation($id: ID!, $tags: [String!]!) { tagsRemove(id: $id, tags: $tags) { node { ... on Customer { tags } } userErrors { field message } } }", {
      id,
      tags: ["vip"],
    });
    expect(remove.body.data.tagsRemove.node.tags).toEqual(["winback"]);
    const bad = await post(twin, 'mutation { tagsAdd(id: "gid://shopify/Customer/1", tags: ["x"]) { node { id } userErrors { field message } } }');
    expect(bad.body.errors[0]).toMatchObject({ message: "invalid id", extensions: { code: "RESOURCE_NOT_FOUND" }, path: ["tagsAdd"] });
    expect(bad.body.data).toEqual({ tagsAdd: null });
  });

  it("customerUpdate replaces tags, sets metafields and returns userErrors like Shopify", async () => {
    const c = store.customer(5);
    const doc = `mutation($input: CustomerInput!) { customerUpdate(input: $input) { customer { id note tags metafield(namespace: "custom", key: "tier") { value type } } userErrors { field message } } }`;
    const ok = await post(twin, doc, {
      input: { id: `gid://shopify/Customer/${c.id}`, note: "CRM: tier B", tags: ["b", "A"], metafields: [{ namespace: "custom", key: "tier", type: "single_line_text_field", value: "B" }] },
    });
    expect(ok.body.data.customerUpdate).toEqual({
      customer: { id: `gid://shopify/Customer/${c.id}`, note: "CRM: tier B", tags: ["A", "b"], metafield: { value: "B", type: "single_line_text_field" } },
      userErrors: [],
    });
    const missing = await post(twin, doc, { input: { id: "gid://shopify/Customer/999999999999999", firstName: "Ghost" } });
    expect(missing.body.data.customerUpdate).toEqual({ customer: null, userErrors: [{ field: ["id"], message: "Customer does not exist" }] });
    const long = await post(twin, doc, { input: { id: `gid://shopify/Customer/${c.id}`, note: "N".repeat(5001) } });
    expect(long.body.data.customerUpdate.userErrors).toEqual([{ field: ["note"], message: "Note is too long (maximum is 5000 characters)" }]);
    const consent = await post(twin, doc, { input: { id: `gid://shopify/Customer/${c.id}`, emailMarketingConsent: { marketingState: "UNSUBSCRIBED" } } });
    expect(consent.body.data.customerUpdate.userErrors[0].message).toBe("To update emailMarketingConsent, please use the customerEmailMarketingConsentUpdate Mutation instead");
  });

  it("metafieldsSet: at most 25 per call, per-element userErrors, compare-and-set", async () => {
    const owner = `gid://shopify/Customer/${store.customer(6).id}`;
    const doc = `mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { metafields { key namespace value compareDigest } userErrors { field message code elementIndex } } }`;
    const many = Array.from({ length: 26 }, (_, i) => ({ ownerId: owner, namespace: "$app:crm", key: `k${i}`, type: "number_integer", value: String(i) }));
    const tooMany = await post(twin, doc, { m: many });
    expect(tooMany.body.errors[0]).toMatchObject({ message: "The input array size of 26 is greater than the maximum allowed of 25.", extensions: { code: "MAX_INPUT_SIZE_EXCEEDED" }, path: ["metafieldsSet", "metafields"] });
    expect(tooMany.body.extensions.cost.actualQueryCost).toBeNull();

    const ok = await post(twin, doc, { m: many.slice(0, 25) });
    expect(ok.body.data.metafieldsSet.userErrors).toEqual([]);
    expect(ok.body.data.metafieldsSet.metafields).toHaveLength(25);
    expect(ok.body.data.metafieldsSet.metafields[0].namespace).toBe("app--1234567--crm");

    const bad = await post(twin, doc, { m: [{ ownerId: owner, namespace: "custom", key: "ltv", type: "number_decimal", value: "lots" }] });
    expect(bad.body.data.metafieldsSet).toEqual({
      metafields: null,
      userErrors: [{ field: ["metafields", "0", "value"], message: "Value must be a decimal.", code: "INVALID_VALUE", elementIndex: 0 }],
    });
    const digest = ok.body.data.metafieldsSet.metafields[0].compareDigest;
    const stale = await post(twin, doc, { m: [{ ownerId: owner, namespace: "$app:crm", key: "k0", type: "number_integer", value: "9", compareDigest: "stale" }] });
    expect(stale.body.data.metafieldsSet.userErrors[0].code).toBe("STALE_OBJECT");
    const cas = await post(twin, doc, { m: [{ ownerId: owner, namespace: "$app:crm", key: "k0", type: "number_integer", value: "9", compareDigest: digest }] });
    expect(cas.body.data.metafieldsSet.metafields[0].value).toBe("9");
  });

  it("creates basic and free-shipping discount codes; duplicate codes are TAKEN", async () => {
    const doc = `mutation($input: DiscountCodeBasicInput!) { discountCodeBasicCreate(basicCodeDiscount: $input) {
      codeDiscountNode { id codeDiscount { __typename ... on DiscountCodeBasic { title status summary codes(first: 1) { nodes { code } } context { __typename } } } }
      userErrors { field message code extraInfo } } }`;
    const customer = `gid://shopify/Customer/${store.customer(8).id}`;
    const input = {
      title: "CRM win-back 15%",
      code: "WB-7Q2K9X",
      startsAt: "2026-06-01T00:00:00Z",
      context: { customers: { add: [customer] } },
      customerGets: { value: { percentage: 0.15 }, items: { all: true } },
      usageLimit: 1,
      appliesOncePerCustomer: true,
    };
    const ok = await post(twin, doc, { input });
    expect(ok.body.data.discountCodeBasicCreate.userErrors).toEqual([]);
    expect(ok.body.data.discountCodeBasicCreate.codeDiscountNode.codeDiscount).toMatchObject({
      __typename: "DiscountCodeBasic",
      status: "ACTIVE",
      summary: "15% off one-time purchase products • One use per customer",
      codes: { nodes: [{ code: "WB-7Q2K9X" }] },
      context: { __typename: "DiscountCustomers" },
    });
    const dup = await post(twin, doc, { input: { ...input, code: "wb-7q2k9x" } });
    expect(dup.body.data.discountCodeBasicCreate.userErrors).toEqual([
      { field: ["basicCodeDiscount", "code"], message: "Code must be unique. Please try a different code.", code: "TAKEN", extraInfo: null },
    ]);
    const ship = await post(
      twin,
      `mutation($input: DiscountCodeFreeShippingInput!) { discountCodeFreeShippingCreate(freeShippingCodeDiscount: $input) { codeDiscountNode { codeDiscount { ... on DiscountCodeFreeShipping { discountClasses destinationSelection { __typename } } } } userErrors { field code } } }`,
      { input: { title: "Free ship", code: "SHIPFREE", startsAt: "2026-06-01T00:00:00Z", context: { all: "ALL" }, destination: { all: true } } },
    );
    expect(ship.body.data.discountCodeFreeShippingCreate.codeDiscountNode.codeDiscount).toEqual({ discountClasses: ["SHIPPING"], destinationSelection: { __typename: "DiscountCountryAll" } });
    const byCode = await post(twin, '{ codeDiscountNodeByCode(code: "shipfree") { id } }');
    expect(byCode.body.data.codeDiscountNodeByCode.id).toMatch(/^gid:\/\/shopify\/DiscountCodeNode\//);
  });

  it("filters orders and products", async () => {
    const refunded = [...store.orders()].filter((o) => o.financialStatus === "partially_refunded").length;
    const r = await post(twin, '{ ordersCount(query: "financial_status:partially_refunded") { count } orders(first: 3, query: "financial_status:partially_refunded", sortKey: CREATED_AT, reverse: true) { nodes { displayFinancialStatus totalRefundedSet { shopMoney { amount } } } } }');
    expect(r.body.data.ordersCount.count).toBe(refunded);
    for (const n of r.body.data.orders.nodes) expect(n.displayFinancialStatus).toBe("PARTIALLY_REFUNDED");
    const p = await post(twin, '{ products(first: 50, query: "product_type:Socks") { nodes { productType variants(first: 3) { nodes { price } } } } }');
    expect(p.body.data.products.nodes.length).toBeGreaterThan(0);
    for (const n of p.body.data.products.nodes) expect(n.productType).toBe("Socks");
  });

  it("rejects unknown fields and arguments the way Shopify does (no data, no cost)", async () => {
    const r = await post(twin, "query Probe { customers(first: 1, bogus: 1) { nodes { id nope } } }");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      errors: [
        {
          message: "Field 'customers' doesn't accept argument 'bogus'",
          locations: [{ line: 1, column: 35 }],
          path: ["query Probe", "customers", "bogus"],
          extensions: { code: "argumentNotAccepted", name: "customers", typeName: "Field", argumentName: "bogus" },
        },
        {
          message: "Field 'nope' doesn't exist on type 'Customer'",
          locations: [{ line: 1, column: 58 }],
          path: ["query Probe", "customers", "nodes", "nope"],
          extensions: { code: "undefinedField", typeName: "Customer", fieldName: "nope" },
        },
      ],
    });
  });

  it("charges a leaky bucket per shop: THROTTLED when empty, refilled at the restore rate, MAX_COST_EXCEEDED above 1,000", async () => {
    twin.setBucket({ maximumAvailable: 50, restoreRate: 10 });
    const q = "{ customers(first: 250) { nodes { id } } }"; // requested 13
    const costs: number[] = [];
    let throttled: Json | undefined;
    for (let i = 0; i < 10 && !throttled; i++) {
      const r = await post(twin, q);
      if (r.body.errors) throttled = r.body;
      else costs.push(r.body.extensions.cost.throttleStatus.currentlyAvailable);
    }
    expect(costs).toEqual([37, 24, 11]);
    expect(throttled).toEqual({
      errors: [{ message: "Throttled", extensions: { code: "THROTTLED", documentation: "https://shopify.dev/api/usage/rate-limits" } }],
      extensions: { cost: { requestedQueryCost: 13, actualQueryCost: null, throttleStatus: { maximumAvailable: 50, currentlyAvailable: 11, restoreRate: 10 } } },
    });
    clock += 1_000; // +10 points
    const after = await post(twin, q);
    expect(after.body.extensions.cost.throttleStatus.currentlyAvailable).toBe(8);
    twin.setBucket({ maximumAvailable: 2000, restoreRate: 100 });

    const tooBig = await post(twin, "{ customers(first: 250) { nodes { orders(first: 250) { nodes { lineItems(first: 250) { nodes { id } } } } } } }");
    expect(tooBig.body.errors[0].extensions).toMatchObject({ code: "MAX_COST_EXCEEDED", maxCost: 1000 });
    expect(tooBig.body.errors[0].extensions.cost).toBeGreaterThan(1000);
    expect(tooBig.body.extensions.cost.actualQueryCost).toBeNull();
  });

  it("appends every request to TWIN_REQUEST_LOG as one JSON line", async () => {
    await post(twin, "query Logged($id: ID!) { customer(id: $id) { id } }", { id: "gid://shopify/Customer/1" });
    const lines = readFileSync(logPath, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Json);
    expect(lines.at(-1)).toEqual({ query: "query Logged($id: ID!) { customer(id: $id) { id } }", variables: { id: "gid://shopify/Customer/1" }, operationName: null });
    expect(Object.keys(lines[0]!)).toEqual(["query", "variables", "operationName"]);
  });

  it("runs a bulk query into a JSONL file with __parentId lines", async () => {
    const run = await post(twin, `mutation($q: String!) { bulkOperationRunQuery(query: $q, groupObjects: false) { bulkOperation { id status } userErrors { field message code } } }`, {
      q: `{ customers(query: "country:Canada") { edges { node { id email orders { edges { node { id name } } } } } } }`,
    });
    expect(run.body.data.bulkOperationRunQuery.userErrors).toEqual([]);
    const id = run.body.data.bulkOperationRunQuery.bulkOperation.id;
    let op: Json = {};
    for (let i = 0; i < 100; i++) {
      op = (await post(twin, "query($id: ID!) { bulkOperation(id: $id) { status objectCount rootObjectCount url fileSize } }", { id })).body.data.bulkOperation;
      if (op.status === "COMPLETED") break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(op.status).toBe("COMPLETED");
    const lines = (await (await fetch(op.url)).text()).trim().split("\n").map((l) => JSON.parse(l) as Json);
    expect(String(lines.length)).toBe(op.objectCount);
    const roots = lines.filter((l) => !l.__parentId);
    expect(String(roots.length)).toBe(op.rootObjectCount);
    expect(roots.length).toBe([...store.customers()].filter((c) => c.address.countryCode === "CA").length);
    const child = lines.find((l) => l.__parentId);
    expect(child?.id).toMatch(/^gid:\/\/shopify\/Order\//);
    expect(finished.some((f) => `gid://shopify/BulkOperation/${f.id}` === id && f.status === "COMPLETED")).toBe(true);

    const invalid = await post(twin, `mutation { bulkOperationRunQuery(query: "{ shop { id } }", groupObjects: false) { bulkOperation { id } userErrors { field message code } } }`);
    expect(invalid.body.data.bulkOperationRunQuery.userErrors).toEqual([{ field: ["query"], message: "Bulk queries must contain at least one connection.", code: "INVALID" }]);
  });

  it("runs a bulk mutation from a staged upload (multipart POST, parameters then file)", async () => {
    const staged = await post(
      twin,
      `mutation { stagedUploadsCreate(input: [{ resource: BULK_MUTATION_VARIABLES, filename: "tags.jsonl", mimeType: "text/jsonl", httpMethod: POST }]) { stagedTargets { url resourceUrl parameters { name value } } userErrors { field message } } }`,
    );
    const target = staged.body.data.stagedUploadsCreate.stagedTargets[0];
    const ids = [0, 1, 2].map((i) => `gid://shopify/Customer/${store.customer(20 + i).id}`);
    const form = new FormData();
    for (const p of target.parameters) form.append(p.name, p.value);
    form.append("file", new Blob([ids.map((id) => JSON.stringify({ id, tags: ["crm:bulk"] })).join("\n")], { type: "text/jsonl" }));
    const upload = await fetch(target.url, { method: "POST", body: form });
    expect(upload.status).toBe(201);
    const key = target.parameters.find((p: Json) => p.name === "key").value;
    const run = await post(twin, `mutation($m: String!, $p: String!) { bulkOperationRunMutation(mutation: $m, stagedUploadPath: $p) { bulkOperation { id status type } userErrors { field message code } } }`, {
      m: "mutation t($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } } }",
      p: key,
    });
    expect(run.body.data.bulkOperationRunMutation.bulkOperation).toMatchObject({ status: "CREATED", type: "MUTATION" });
    let op: Json = {};
    for (let i = 0; i < 100; i++) {
      op = (await post(twin, "{ currentBulkOperation(type: MUTATION) { status objectCount url } }")).body.data.currentBulkOperation;
      if (op.status === "COMPLETED") break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(op.objectCount).toBe("3");
    const lines = (await (await fetch(op.url)).text()).trim().split("\n").map((l) => JSON.parse(l) as Json);
    expect(lines.map((l) => l.__lineNumber)).toEqual([0, 1, 2]);
    expect(lines[0]!.data.tagsAdd).toEqual({ node: { id: ids[0] }, userErrors: [] });
    const tags = await post(twin, "query($id: ID!) { customer(id: $id) { tags } }", { id: ids[2] });
    expect(tags.body.data.customer.tags).toContain("crm:bulk");
    const missing = await post(twin, `mutation { bulkOperationRunMutation(mutation: "mutation { tagsAdd(id: \\"x\\", tags: []) { node { id } } }", stagedUploadPath: "tmp/none.jsonl") { bulkOperation { id } userErrors { field message code } } }`);
    expect(missing.body.data.bulkOperationRunMutation.userErrors[0].code).toBe("NO_SUCH_FILE");
  });
});
