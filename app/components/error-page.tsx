// The page shown when something goes wrong outside a route's own handling: an unknown
// address (404) or an unexpected error. Plain HTML with inline styles on purpose: it must
// render even when the providers (Polaris, App Bridge) or the route's data are missing.
// It never shows the error's own text (library messages, stack traces): the server log has it.
import type { ReactNode } from "react";

/** A link under the message; null for none (inside the embedded admin). */
type Action = { label: string; href: string } | null;

const font = "-apple-system, BlinkMacSystemFont, 'San Francisco', 'Segoe UI', Roboto, 'Helvetica Neue', sans-serif";

export function ErrorPage({ title, children, action = null }: { title: string; children: ReactNode; action?: Action }) {
  return (
    <main data-error-page="" style={{ fontFamily: font, background: "#f1f1f1", minHeight: "100vh", margin: 0, padding: "64px 16px", boxSizing: "border-box" }}>
      <div style={{ maxWidth: 560, margin: "0 auto", background: "#fff", borderRadius: 12, padding: 24, boxShadow: "0 1px 0 rgba(26,26,26,.07), 0 1px 3px rgba(26,26,26,.15)" }}>
        <h1 style={{ fontSize: 20, lineHeight: "28px", fontWeight: 650, margin: "0 0 8px", color: "#303030" }}>{title}</h1>
        <div style={{ fontSize: 14, lineHeight: "20px", color: "#616161" }}>{children}</div>
        {action ? (
          <p style={{ margin: "16px 0 0" }}>
            <a href={action.href} style={{ display: "inline-block", background: "#303030", color: "#fff", borderRadius: 8, padding: "6px 12px", fontSize: 13, fontWeight: 550, textDecoration: "none" }}>
              {action.label}
            </a>
          </p>
        ) : null}
      </div>
    </main>
  );
}

/** Outside the admin: a link into the app (which asks for the shop when it has no session). */
export const OPEN_THE_APP: Action = { label: "Open the CRM", href: "/app" };

/** 404: no page at this address. */
export function PageNotFound({ action = OPEN_THE_APP }: { action?: Action }) {
  return (
    <ErrorPage title="Page not found" action={action}>
      <p style={{ margin: 0 }}>There is no page at this address. It may have moved, or the link may be mistyped.</p>
    </ErrorPage>
  );
}

/** Any other failure: what the merchant can do about it, nothing about the cause. */
export function SomethingWentWrong({ action = OPEN_THE_APP }: { action?: Action }) {
  return (
    <ErrorPage title="Something went wrong" action={action}>
      <p style={{ margin: 0 }}>This page could not be shown. Reload to try again; if it keeps happening, open the app again from your Shopify admin.</p>
    </ErrorPage>
  );
}
