// /app/segments: the store's segments with members, the change over 7 days and the synced tag.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Banner, BlockStack, Page } from "@shopify/polaris";
import { z } from "zod";
import { authenticate } from "../shopify.server";
import { getSegmentList } from "../services/admin-segments.server";
import { getShopFormatter } from "../services/shop-format.server";
import { NEW_SEGMENT_URL, SegmentList } from "../components/segments/segment-list";

const SearchSchema = z.object({ deleted: z.string().trim().max(100).optional().catch(undefined) });

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const { deleted } = SearchSchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  return { segments: await getSegmentList({ shop: session.shop, fmt: await getShopFormatter(session.shop, request) }), deleted: deleted ?? null };
};

export default function SegmentsRoute() {
  const { segments, deleted } = useLoaderData<typeof loader>();
  const broken = segments.filter((s) => s.brokenReason !== null).length;
  return (
    <Page
      title="Segments"
      subtitle="Groups of customers that stay current as orders and profiles change"
      primaryAction={segments.length > 0 ? { content: "Create segment", url: NEW_SEGMENT_URL } : undefined}
    >
      <BlockStack gap="400">
        {deleted ? (
          <Banner tone="success" title={`Deleted the segment “${deleted}”`}>
            <p>Tags the app added to its members in Shopify are being removed.</p>
          </Banner>
        ) : null}
        {broken > 0 ? (
          <Banner tone="critical" title={broken === 1 ? "A segment is broken" : `${broken} segments are broken`}>
            <p>Evaluating them failed, so their members are no longer updated. Open each segment marked Broken, fix its query and save it.</p>
          </Banner>
        ) : null}
        <SegmentList segments={segments} />
      </BlockStack>
    </Page>
  );
}
