// /auth/* except /auth/login (routes/auth.login.tsx): the Shopify package's own pages, the
// bounce page (/auth/session-token) and the exit-iframe page, answered by authenticate.admin.
// A resource route: the library's Responses go back as they are. What is not one of its
// normal answers (an exception, a 5xx with a developer message) is logged and the merchant
// goes to the login page instead of a bare error.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { authenticate } from "../shopify.server";
import { getEnv } from "../env.server";
import { logger } from "../logger.server";
import { preloadLocalAppBridge } from "../services/admin-app-bridge-stand-in.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  try {
    await authenticate.admin(request);
  } catch (thrown) {
    if (thrown instanceof Response && thrown.status < 500) {
      // The bounce and exit-iframe pages: with a local App Bridge, preload it, not the CDN's.
      preloadLocalAppBridge(thrown.headers, getEnv().APP_BRIDGE_URL);
      throw thrown;
    }
    // 5xx Responses were logged by authenticate.admin; exceptions are logged here.
    if (!(thrown instanceof Response)) logger.warn({ err: thrown, path: new URL(request.url).pathname }, "auth.failed");
    throw redirect("/auth/login");
  }
  return null;
};
