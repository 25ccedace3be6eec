// GET /app/segments/:id/tag-preview?tag=crm:vip&enabled=true: what saving that tag setting
// would do now (the dry run of the tag sync), fetched by the segment page while editing.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { z } from "zod";
import { authenticate } from "../shopify.server";
import { previewTagSync } from "../services/admin-segments.server";

const PreviewSchema = z.object({
  tag: z.string().max(1_000),
  enabled: z.enum(["true", "false"]).transform((v) => v === "true"),
});

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const search = new URL(request.url).searchParams;
  const parsed = PreviewSchema.safeParse({ tag: search.get("tag") ?? "", enabled: search.get("enabled") ?? "true" });
  if (!parsed.success) return json({ error: "tag must be text and enabled true or false" }, { status: 400 });
  const result = await previewTagSync({ shop: session.shop, id: params.id ?? "", ...parsed.data });
  // A JSON 404 (not a thrown response): a fetcher error would replace the whole page.
  if (!result) return json({ error: "segment not found" }, { status: 404 });
  return json(result, { headers: { "Cache-Control": "no-store" } });
};
