import type { LoaderFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";

// Shopify opens the app with ?shop=...: send it to the embedded app; otherwise show a short page.
export const loader = async ({ request }: LoaderFunctionArgs) => {
  const url = new URL(request.url);
  if (url.searchParams.get("shop")) throw redirect(`/app?${url.searchParams.toString()}`);
  return null;
};

export default function Index() {
  return (
    <main style={{ fontFamily: "system-ui", padding: 32 }}>
      <h1>Customer CRM for Shopify</h1>
      <p>Install this app from your Shopify admin to open it.</p>
    </main>
  );
}
