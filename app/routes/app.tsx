import type { HeadersFunction, LoaderFunctionArgs } from "@remix-run/node";
import { Link, Outlet, isRouteErrorResponse, useLoaderData, useRouteError } from "@remix-run/react";
import { boundary } from "@shopify/shopify-app-remix/server";
import { AppProvider } from "@shopify/shopify-app-remix/react";
import { NavMenu } from "@shopify/app-bridge-react";
import polarisStyles from "@shopify/polaris/build/esm/styles.css";
import { authenticate } from "../shopify.server";
import { getEnv } from "../env.server";
import { PageNotFound, SomethingWentWrong } from "../components/error-page";
import { FormatProvider } from "../components/format-context";
import { getShopFormatSettings } from "../services/shop-format.server";

export const links = () => [{ rel: "stylesheet", href: polarisStyles }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const env = getEnv();
  const format = await getShopFormatSettings(session.shop, request);
  // APP_BRIDGE_URL lets development and tests serve App Bridge locally (no internet here);
  // unset in production, where the Shopify CDN script is used.
  return { apiKey: env.SHOPIFY_API_KEY, appBridgeUrl: env.APP_BRIDGE_URL ?? null, format };
};

export default function App() {
  const { apiKey, appBridgeUrl, format } = useLoaderData<typeof loader>();
  return (
    <AppProvider isEmbeddedApp apiKey={apiKey} {...(appBridgeUrl ? { __APP_BRIDGE_URL: appBridgeUrl } : {})}>
      <NavMenu>
        <Link to="/app" rel="home">
          Home
        </Link>
        <Link to="/app/customers">Customers</Link>
        <Link to="/app/segments">Segments</Link>
        <Link to="/app/loyalty">Loyalty</Link>
        <Link to="/app/feedback">Feedback</Link>
        <Link to="/app/automations">Automations</Link>
        <Link to="/app/analytics">Analytics</Link>
        <Link to="/app/sync">Sync</Link>
        <Link to="/app/settings">Settings</Link>
      </NavMenu>
      <FormatProvider settings={format}>
        <Outlet />
      </FormatProvider>
    </AppProvider>
  );
}

// Shopify needs Remix to catch some thrown responses so its headers are included: the App
// Bridge pages it answers with (200) and the re-authorize answers to data requests (401) go
// to boundary.error, which renders their body. Anything else (a 404 a page did not handle,
// the library's 500s, an exception) is a friendly page that never shows the error's text;
// the server logged it. No link: inside the admin a plain link would drop the embedded-app
// parameters; the admin's own navigation is the way on.
export function ErrorBoundary() {
  const error = useRouteError();
  if (isRouteErrorResponse(error) && (error.status < 400 || error.status === 401)) return boundary.error(error);
  if (isRouteErrorResponse(error) && error.status === 404) return <PageNotFound action={null} />;
  return <SomethingWentWrong action={null} />;
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
