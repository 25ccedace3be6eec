import { checkHealth } from "../services/operations.server";

export const loader = async () => {
  const health = await checkHealth();
  return Response.json(health, { status: health.ok ? 200 : 503, headers: { "cache-control": "no-store" } });
};
