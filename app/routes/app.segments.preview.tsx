// GET /app/segments/preview?q=<query>: the editor's live count and sample, or the
// checker's positioned errors (a resource route, fetched with useFetcher while typing).
import type { LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { z } from "zod";
import { authenticate } from "../shopify.server";
import { previewForEditor } from "../services/admin-segments.server";
import { MAX_QUERY_LENGTH } from "../services/segments/definition";

const PreviewSchema = z.object({ q: z.string().max(MAX_QUERY_LENGTH, `a query has at most ${MAX_QUERY_LENGTH} characters`) });

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const parsed = PreviewSchema.safeParse({ q: new URL(request.url).searchParams.get("q") ?? "" });
  if (!parsed.success) return json({ error: parsed.error.issues[0]!.message }, { status: 400 });
  return json(await previewForEditor({ shop: session.shop, query: parsed.data.q }), { headers: { "Cache-Control": "no-store" } });
};
