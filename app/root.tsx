import type { ReactNode } from "react";
import { Links, Meta, Outlet, Scripts, ScrollRestoration, isRouteErrorResponse, useRouteError } from "@remix-run/react";
import { PageNotFound, SomethingWentWrong } from "./components/error-page";

function Document({ children, bare = false }: { children: ReactNode; bare?: boolean }) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body style={bare ? { margin: 0 } : undefined}>
        {children}
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  );
}

export default function App() {
  return (
    <Document>
      <Outlet />
    </Document>
  );
}

// Last resort for every route without its own boundary: an unknown address (routes/$.tsx)
// or an unexpected error shows a friendly page, never the error's text. The server logs
// the error (entry.server.tsx handleError, shopify.server.ts for the library's answers).
export function ErrorBoundary() {
  const error = useRouteError();
  return <Document bare>{isRouteErrorResponse(error) && error.status === 404 ? <PageNotFound /> : <SomethingWentWrong />}</Document>;
}
