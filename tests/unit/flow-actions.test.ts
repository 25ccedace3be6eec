// The Flow action request check (app/services/flow/actions.server.ts): the signature against
// the twin's signer (tests/twin/flow-actions.ts, a separate implementation of Flow's side) and
// the body schemas. No I/O.
import { describe, expect, it } from "vitest";
import { AddTagBodySchema, AwardPointsBodySchema, verifyFlowSignature } from "../../app/services/flow/actions.server";
import { flowActionSignature } from "../twin/flow-actions";

const SECRET = "flow-unit-secret";
const body = JSON.stringify({ shop_id: 1, shopify_domain: "a.myshopify.com", action_run_id: "r1", action_definition_id: "d", handle: "crm-award-loyalty-points", properties: { customer_id: 5, points: 3 } });

describe("verifyFlowSignature", () => {
  it.each([
    ["Flow's signature of the body", flowActionSignature(body, SECRET), body, true],
    ["another secret", flowActionSignature(body, "other"), body, false],
    ["a changed body", flowActionSignature(body, SECRET), body.replace('"points":3', '"points":30'), false],
    ["hex instead of base64", Buffer.from(flowActionSignature(body, SECRET), "base64").toString("hex"), body, false],
    ["empty", "", body, false],
    ["garbage", "!!!", body, false],
  ])("%s", (_name, signature, raw, ok) => {
    expect(verifyFlowSignature(SECRET, raw, signature)).toBe(ok);
  });
  it("no header", () => expect(verifyFlowSignature(SECRET, body, null)).toBe(false));
});

describe("action bodies", () => {
  const base = { shop_id: 1, shopify_domain: "a.myshopify.com", action_run_id: "r1", action_definition_id: "d" };
  it.each([
    [{ customer_id: 5, points: 3 }, true],
    [{ customer_id: "5", points: "-3", reason: "x" }, true],
    [{ customer_id: 5, points: 0 }, false],
    [{ customer_id: 5, points: 1.5 }, false],
    [{ customer_id: "gid://shopify/Customer/5", points: 3 }, false],
    [{ points: 3 }, false],
  ])("award points %j -> %s", (properties, ok) => {
    expect(AwardPointsBodySchema.safeParse({ ...base, handle: "crm-award-loyalty-points", properties }).success).toBe(ok);
  });
  it("the handle must be the action's own; the shop a myshopify domain", () => {
    expect(AwardPointsBodySchema.safeParse({ ...base, handle: "crm-add-customer-tag", properties: { customer_id: 5, points: 3 } }).success).toBe(false);
    expect(AwardPointsBodySchema.safeParse({ ...base, shopify_domain: "evil.example.com", properties: { customer_id: 5, points: 3 } }).success).toBe(false);
  });
  it.each([
    ["crm:vip", true],
    ["CRM:Vip", true],
    ["vip", false],
    ["crm:", false],
    ["crm:a,b", false],
  ])("add tag %s -> %s", (tag, ok) => {
    expect(AddTagBodySchema.safeParse({ ...base, properties: { customer_id: 5, tag } }).success).toBe(ok);
  });
});
