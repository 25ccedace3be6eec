// Run as a child process by tests/integration/demo-twin-auth.test.ts: starts the app's
// Shopify wiring (app/shopify.server.ts) in a fresh process with the environment it is
// given and prints, as one JSON line, whether the library's fetch is still the global
// fetch and where Shopify requests would go.
import { abstractFetch } from "@shopify/shopify-api/runtime";
import { getShopify, getShopifyApi } from "../../app/shopify.server";
import { twinFetchTarget } from "../../app/shopify/twin-fetch.server";

getShopify();
getShopifyApi();
process.stdout.write(`${JSON.stringify({ libraryFetchIsGlobalFetch: abstractFetch === globalThis.fetch, twin: twinFetchTarget() ?? null })}\n`, () => process.exit(0));
