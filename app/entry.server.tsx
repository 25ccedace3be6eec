import { PassThrough } from "node:stream";
import type { EntryContext, HandleErrorFunction } from "@remix-run/node";
import { createReadableStreamFromReadable } from "@remix-run/node";
import { RemixServer } from "@remix-run/react";
import { isbot } from "isbot";
import { renderToPipeableStream } from "react-dom/server";
import { addDocumentResponseHeaders } from "./shopify.server";
import { getEnv } from "./env.server";
import { preloadLocalAppBridge } from "./services/admin-app-bridge-stand-in.server";
import { logger } from "./logger.server";

const ABORT_DELAY = 5_000;

/**
 * Every error Remix catches on the server (a loader, action or render that threw something
 * other than a Response) goes to the one logger, with the method and path (never the query:
 * it carries the session token). The page shows a friendly boundary (app/root.tsx).
 */
export const handleError: HandleErrorFunction = (error, { request }) => {
  if (request.signal.aborted) return; // the browser went away: nothing failed
  logger.error({ err: error, method: request.method, path: new URL(request.url).pathname }, "request.failed");
};

export default async function handleRequest(request: Request, responseStatusCode: number, responseHeaders: Headers, remixContext: EntryContext) {
  addDocumentResponseHeaders(request, responseHeaders);
  // With a local App Bridge (APP_BRIDGE_URL: development, tests) preload it, not the CDN's.
  preloadLocalAppBridge(responseHeaders, getEnv().APP_BRIDGE_URL);
  const callbackName = isbot(request.headers.get("user-agent") ?? "") ? "onAllReady" : "onShellReady";
  return new Promise((resolve, reject) => {
    const { pipe, abort } = renderToPipeableStream(<RemixServer context={remixContext} url={request.url} abortDelay={ABORT_DELAY} />, {
      [callbackName]: () => {
        const body = new PassThrough();
        const stream = createReadableStreamFromReadable(body);
        responseHeaders.set("Content-Type", "text/html");
        resolve(new Response(stream, { headers: responseHeaders, status: responseStatusCode }));
        pipe(body);
      },
      onShellError(error) {
        reject(error);
      },
      onError(error) {
        responseStatusCode = 500;
        logger.error({ err: error, path: new URL(request.url).pathname }, "render.failed");
      },
    });
    setTimeout(abort, ABORT_DELAY);
  });
}
