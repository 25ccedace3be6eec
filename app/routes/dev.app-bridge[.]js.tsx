// GET /dev/app-bridge.js: the local App Bridge stand-in, only when APP_BRIDGE_URL is set
// (development and tests without internet). Production: 404, and the app loads
// App Bridge from Shopify's CDN.
import { getEnv } from "../env.server";
import { APP_BRIDGE_STAND_IN_JS } from "../services/admin-app-bridge-stand-in.server";

export const loader = async () => {
  if (!getEnv().APP_BRIDGE_URL) throw new Response("Not Found", { status: 404 });
  return new Response(APP_BRIDGE_STAND_IN_JS, {
    headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" },
  });
};
