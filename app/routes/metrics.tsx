import type { LoaderFunctionArgs } from "@remix-run/node";
import { metricsAccessAllowed, renderMetrics } from "../services/operations.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  if (!metricsAccessAllowed(request.headers.get("authorization"))) {
    return new Response("Unauthorized\n", { status: 401, headers: { "www-authenticate": 'Bearer realm="metrics"', "cache-control": "no-store" } });
  }
  const { contentType, body } = await renderMetrics();
  return new Response(body, { headers: { "content-type": contentType, "cache-control": "no-store" } });
};
