import { renderMetrics } from "../services/operations.server";

export const loader = async () => {
  const { contentType, body } = await renderMetrics();
  return new Response(body, { headers: { "content-type": contentType, "cache-control": "no-store" } });
};
