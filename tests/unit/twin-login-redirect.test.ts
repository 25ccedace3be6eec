// Development with the twin: login()'s redirect to Shopify's install page becomes the
// twin's admin page that opens the app; anything else is left alone.
import { describe, expect, it } from "vitest";
import { twinAdminUrlForInstallRedirect } from "../../app/shopify/twin-fetch.server";

const TWIN = "http://127.0.0.1:4100";

describe("twinAdminUrlForInstallRedirect", () => {
  it("maps admin.shopify.com/store/{store}/oauth/install?client_id={key} to {twin}/store/{store}/apps/{key}", () => {
    expect(twinAdminUrlForInstallRedirect("https://admin.shopify.com/store/demo-store/oauth/install?client_id=abc123", TWIN)).toBe(`${TWIN}/store/demo-store/apps/abc123`);
  });
  it.each([null, "/auth/login", "https://evil.example/store/x/oauth/install?client_id=a", "https://admin.shopify.com/store/x/apps/y", "https://admin.shopify.com/store/x/oauth/install?client_id=a&next=https://evil.example"])(
    "leaves %s alone",
    (location) => {
      expect(twinAdminUrlForInstallRedirect(location, TWIN)).toBeNull();
    },
  );
});
