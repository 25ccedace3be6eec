import type { LoaderFunctionArgs } from "@remix-run/node";
import { authenticate } from "../shopify.server";
import { getEnv } from "../env.server";
import { preloadLocalAppBridge } from "../services/admin-app-bridge-stand-in.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  try {
    await authenticate.admin(request);
  } catch (thrown) {
    // The bounce and exit-iframe pages: with a local App Bridge, preload it, not the CDN's.
    if (thrown instanceof Response) preloadLocalAppBridge(thrown.headers, getEnv().APP_BRIDGE_URL);
    throw thrown;
  }
  return null;
};
