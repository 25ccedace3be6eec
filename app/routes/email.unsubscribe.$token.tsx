// /email/unsubscribe/:token: the one-click unsubscribe link of every email (public: no
// Shopify session; the signed token is the authority). RFC 8058: a POST (what mailbox
// providers send for List-Unsubscribe-Post: List-Unsubscribe=One-Click, and the page's
// button) unsubscribes without confirmation; a GET only shows a page with the button (link
// scanners follow GETs). A tampered or unknown token gets a 400 / 404 page, never a 500.
import type { ActionFunctionArgs, HeadersFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { lookUpUnsubscribe, unsubscribe, type UnsubscribeState } from "../services/email/unsubscribe.server";

const STATUS: Record<UnsubscribeState["state"], number> = { invalid: 400, unknown: 404, ready: 200, unsubscribed: 200 };
const PAGE_HEADERS = { "cache-control": "no-store", "x-robots-tag": "noindex", "referrer-policy": "same-origin" };

// The document gets the same headers as the data (not cached, not indexed, no referrer).
export const headers: HeadersFunction = ({ actionHeaders, loaderHeaders }) => (actionHeaders.has("cache-control") ? actionHeaders : loaderHeaders);

export const meta: MetaFunction = () => [{ title: "Email preferences" }, { name: "robots", content: "noindex" }];

export const loader = async ({ params }: LoaderFunctionArgs) => {
  const result = await lookUpUnsubscribe(params.token ?? "");
  return Response.json(result, { status: STATUS[result.state], headers: PAGE_HEADERS });
};

export const action = async ({ request, params }: ActionFunctionArgs) => {
  if (request.method !== "POST") return Response.json({ state: "invalid" } satisfies UnsubscribeState, { status: 405, headers: PAGE_HEADERS });
  const result = await unsubscribe(params.token ?? "");
  return Response.json(result, { status: STATUS[result.state], headers: PAGE_HEADERS });
};

const page: React.CSSProperties = { fontFamily: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", maxWidth: 480, margin: "64px auto", padding: "0 16px", color: "#111827" };
const button: React.CSSProperties = { font: "inherit", padding: "10px 20px", borderRadius: 6, border: 0, background: "#111827", color: "#fff", cursor: "pointer" };

export default function UnsubscribePage() {
  const loaded = useLoaderData<typeof loader>() as UnsubscribeState;
  const acted = useActionData<typeof action>() as UnsubscribeState | undefined;
  const state = acted ?? loaded;
  return (
    <main style={page}>
      {state.state === "invalid" ? (
        <>
          <h1>This link is not valid</h1>
          <p>The unsubscribe link is incomplete or was changed. Use the link from the email exactly as it arrived.</p>
        </>
      ) : state.state === "unknown" ? (
        <>
          <h1>This link has expired</h1>
          <p>The email this link came from no longer exists, so there is nothing to unsubscribe from.</p>
        </>
      ) : state.state === "unsubscribed" ? (
        <>
          <h1>You are unsubscribed</h1>
          <p>{state.shopName} will not send you these emails any more.</p>
        </>
      ) : state.suppressed ? (
        <>
          <h1>You are unsubscribed</h1>
          <p>{state.shopName} does not send you these emails.</p>
        </>
      ) : (
        <>
          <h1>Unsubscribe</h1>
          <p>Stop receiving emails from {state.shopName} sent by this app (feedback requests and reminders)?</p>
          <Form method="post">
            <input type="hidden" name="List-Unsubscribe" value="One-Click" />
            <button type="submit" style={button}>
              Unsubscribe
            </button>
          </Form>
        </>
      )}
    </main>
  );
}
