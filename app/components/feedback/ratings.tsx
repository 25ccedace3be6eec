// An answer's NPS badge, comment and per-product ratings. Every text is rendered by React (escaped).
import { Badge, BlockStack, InlineStack, Text } from "@shopify/polaris";
import { npsGroupLabel, npsTone, stars } from "./format";

export function NpsBadge({ nps }: { nps: number }) {
  return <Badge tone={npsTone(nps)}>{`NPS ${nps} · ${npsGroupLabel(nps)}`}</Badge>;
}

export function AnswerDetails({ comment, ratings }: { comment: string | null; ratings: { title: string; rating: number; review: string | null }[] }) {
  return (
    <BlockStack gap="100">
      {comment ? (
        <Text as="p" breakWord>
          “{comment}”
        </Text>
      ) : (
        <Text as="p" tone="subdued">
          No comment
        </Text>
      )}
      {ratings.map((r, i) => (
        <InlineStack key={i} gap="200" blockAlign="center" wrap>
          <Text as="span" variant="bodySm" fontWeight="semibold">
            {r.title}
          </Text>
          <span aria-label={`${r.rating} out of 5 stars`} title={`${r.rating} out of 5`} style={{ color: "#b98900" }}>
            {stars(r.rating)}
          </span>
          {r.review ? (
            <Text as="span" variant="bodySm" breakWord>
              {r.review}
            </Text>
          ) : null}
        </InlineStack>
      ))}
    </BlockStack>
  );
}
