// The embedded app's error boundary (app/routes/app.tsx), rendered on the server by React
// Router as Remix does for a document request: what a loader throws decides the page.
// Shopify's own answers (the App Bridge pages, 200; the re-authorize answer, 401) still go
// through the library's boundary; a 404 and anything unexpected are friendly pages that
// never show the error's text (library messages, exception messages).
import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { createStaticHandler, createStaticRouter, StaticRouterProvider } from "react-router-dom/server";
import { describe, expect, it } from "vitest";
import { ErrorBoundary } from "../../app/routes/app";

async function renderAppRouteThrowing(thrown: unknown): Promise<string> {
  const routes = [
    {
      id: "routes/app",
      path: "/app",
      loader: () => {
        throw thrown;
      },
      element: createElement("p", null, "the app"),
      errorElement: createElement(ErrorBoundary),
    },
  ];
  const handler = createStaticHandler(routes);
  const context = await handler.query(new Request("http://127.0.0.1/app"));
  if (context instanceof Response) throw new Error(`unexpected response ${context.status}`);
  const router = createStaticRouter(handler.dataRoutes, context);
  return renderToString(createElement(StaticRouterProvider, { router, context, hydrate: false }));
}

const LIBRARY_MESSAGE =
  "Detected call to shopify.authenticate.admin() from configured login path ('/auth/login'), please make sure to call shopify.login() from that route instead.";

describe("app route ErrorBoundary", () => {
  it("shows a friendly page, not the library's message, for a 500 the Shopify package throws", async () => {
    const html = await renderAppRouteThrowing(new Response(LIBRARY_MESSAGE, { status: 500 }));
    expect(html).toContain("Something went wrong");
    expect(html).not.toContain("authenticate.admin");
  });

  it("shows a friendly page, not the exception's message, for an unexpected error", async () => {
    const html = await renderAppRouteThrowing(new Error("relation \"customers\" does not exist at secret-host:5432"));
    expect(html).toContain("Something went wrong");
    expect(html).not.toContain("secret-host");
    expect(html).not.toContain("customers");
  });

  it("shows Page not found for a 404 no page handled", async () => {
    const html = await renderAppRouteThrowing(new Response("Not Found", { status: 404 }));
    expect(html).toContain("Page not found");
  });

  it.each([200, 401])("renders the Shopify package's own %d answer through its boundary", async (status) => {
    const html = await renderAppRouteThrowing(new Response('<script data-shopify-answer="1"></script>', { status }));
    expect(html).toContain('<script data-shopify-answer="1"></script>');
    expect(html).not.toContain("Something went wrong");
  });
});
