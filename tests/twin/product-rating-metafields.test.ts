// The twin's product review metafields as Shopify has them: standardMetafieldDefinitionEnable
// for reviews.rating / reviews.rating_count (TAKEN the second time, TEMPLATE_NOT_FOUND for an
// unknown template), and metafieldsSet's rules for them (the `rating` type's JSON value and
// scale, the definition's type, atomic calls, at most 25 metafields, its cost).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminTwin, startAdminTwin } from "./admin-graphql";
import { generateStore } from "./store-generator";
import { METAFIELDS_SET, STANDARD_METAFIELD_DEFINITION_ENABLE } from "../../app/shopify/admin-documents";

const SHOP = "ratings-twin.myshopify.com";
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let twin: AdminTwin;
let products: string[];
const run = (query: string, variables: Json = {}) => twin.executeRequest(SHOP, { query, variables }) as Json;
const rating = (value: string, min = "1.0", max = "5.0") => JSON.stringify({ value, scale_min: min, scale_max: max });
const set = (metafields: Json[]) => {
  const out = run(METAFIELDS_SET, { metafields });
  if (!out.data) throw new Error(JSON.stringify(out.errors));
  return out.data.metafieldsSet;
};
const read = (gid: string) =>
  run(`query($id: ID!) { product(id: $id) { r: metafield(namespace: "reviews", key: "rating") { value type jsonValue } c: metafield(namespace: "reviews", key: "rating_count") { value type } } }`, { id: gid })
    .data.product;

beforeAll(async () => {
  twin = await startAdminTwin({ accessTokens: { [SHOP]: "shpat_ratings_twin" } });
  twin.shop(SHOP).loadStore(generateStore({ seed: 3, customers: 10, shopDomain: SHOP }), { maxOrders: 0 });
  products = twin.shop(SHOP).sortedIds("products").map((id) => `gid://shopify/Product/${id}`);
});
afterAll(async () => {
  await twin?.close();
});

describe("twin: product review metafields", () => {
  it("sets a typed rating and count without a definition, readable through product.metafield", () => {
    const out = set([
      { ownerId: products[0], namespace: "reviews", key: "rating", type: "rating", value: rating("4.5") },
      { ownerId: products[0], namespace: "reviews", key: "rating_count", type: "number_integer", value: "12" },
    ]);
    expect(out.userErrors).toEqual([]);
    expect(read(products[0]!)).toEqual({ r: { value: rating("4.5"), type: "rating", jsonValue: { value: "4.5", scale_min: "1.0", scale_max: "5.0" } }, c: { value: "12", type: "number_integer" } });
  });

  it("refuses invalid rating values with INVALID_VALUE and elementIndex, and sets nothing of the call (atomic)", () => {
    for (const bad of ["4.5", JSON.stringify({ value: "6.0", scale_min: "1.0", scale_max: "5.0" }), JSON.stringify({ value: "4", scale_min: "5.0", scale_max: "1.0" }), JSON.stringify({ value: "x", scale_min: "1.0", scale_max: "5.0" }), JSON.stringify({ value: "3" })]) {
      const out = set([
        { ownerId: products[1], namespace: "reviews", key: "rating_count", type: "number_integer", value: "3" },
        { ownerId: products[1], namespace: "reviews", key: "rating", type: "rating", value: bad },
      ]);
      expect(out.metafields, bad).toBeNull();
      expect(out.userErrors, bad).toEqual([expect.objectContaining({ code: "INVALID_VALUE", elementIndex: 1, field: ["metafields", "1", "value"] })]);
    }
    expect(read(products[1]!)).toEqual({ r: null, c: null });
    expect(set([{ ownerId: products[1], namespace: "reviews", key: "rating_count", type: "number_integer", value: "2.5" }]).userErrors[0].code).toBe("INVALID_VALUE");
    expect(set([{ ownerId: "gid://shopify/Product/1", namespace: "reviews", key: "rating_count", type: "number_integer", value: "2" }]).userErrors[0]).toMatchObject({
      field: ["metafields", "0", "ownerId"],
      elementIndex: 0,
    });
  });

  it("takes at most 25 metafields per call (MAX_INPUT_SIZE_EXCEEDED, a top-level error, above)", () => {
    const many = Array.from({ length: 26 }, (_, i) => ({ ownerId: products[i % products.length], namespace: "custom", key: `k${i}`, type: "number_integer", value: "1" }));
    expect(run(METAFIELDS_SET, { metafields: many }).errors).toEqual([expect.objectContaining({ extensions: { code: "MAX_INPUT_SIZE_EXCEEDED" } })]);
    expect(set(many.slice(0, 25)).userErrors).toEqual([]);
  });

  it("enables the standard review definitions once (TAKEN after), and then holds values to them", () => {
    const enable = (key: string) => run(STANDARD_METAFIELD_DEFINITION_ENABLE, { ownerType: "PRODUCT", namespace: "reviews", key }).data.standardMetafieldDefinitionEnable;
    expect(enable("rating")).toMatchObject({ createdDefinition: { namespace: "reviews", key: "rating", name: "Product rating", type: { name: "rating" } }, userErrors: [] });
    expect(enable("rating_count")).toMatchObject({ createdDefinition: { key: "rating_count", type: { name: "number_integer" } }, userErrors: [] });
    expect(enable("rating")).toMatchObject({ createdDefinition: null, userErrors: [{ code: "TAKEN" }] });
    expect(enable("nope")).toMatchObject({ createdDefinition: null, userErrors: [{ code: "TEMPLATE_NOT_FOUND" }] });
    // With the definition: the type may be left out, another type is refused, the scale must be the definition's.
    expect(set([{ ownerId: products[2], namespace: "reviews", key: "rating", value: rating("3.0") }]).userErrors).toEqual([]);
    expect(read(products[2]!).r.type).toBe("rating");
    expect(set([{ ownerId: products[2], namespace: "reviews", key: "rating", type: "number_decimal", value: "3.0" }]).userErrors[0].code).toBe("INVALID_TYPE");
    expect(set([{ ownerId: products[2], namespace: "reviews", key: "rating", type: "rating", value: rating("7.0", "0.0", "10.0") }]).userErrors[0].code).toBe("INVALID_VALUE");
    expect(set([{ ownerId: products[2], namespace: "reviews", key: "rating_count", type: "number_integer", value: "-1" }]).userErrors[0].code).toBe("INVALID_VALUE");
  });

  it("charges a mutation's cost (10) to the bucket", () => {
    const out = run(METAFIELDS_SET, { metafields: [{ ownerId: products[3], namespace: "reviews", key: "rating_count", type: "number_integer", value: "1" }] });
    expect(out.extensions.cost.requestedQueryCost).toBeGreaterThanOrEqual(10);
    expect(out.extensions.cost.actualQueryCost).toBeGreaterThanOrEqual(10);
  });
});
