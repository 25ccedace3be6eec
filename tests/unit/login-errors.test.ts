// The /auth/login form's field errors for what login() (the Shopify package) answers.
import { describe, expect, it } from "vitest";
import { LoginErrorType } from "@shopify/shopify-app-remix/server";
import { loginErrorMessages } from "../../app/shopify/login-errors";

describe("loginErrorMessages", () => {
  it.each([
    { result: {}, expected: {} },
    { result: { shop: LoginErrorType.MissingShop }, expected: { shop: "Enter your shop domain to log in." } },
    { result: { shop: LoginErrorType.InvalidShop }, expected: { shop: "Enter a valid shop domain, ending in .myshopify.com, to log in." } },
  ])("$result -> $expected", ({ result, expected }) => {
    expect(loginErrorMessages(result)).toEqual(expected);
  });
});
