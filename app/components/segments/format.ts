// Display helpers for the segment pages (pure, fixed locale so the server's HTML and the
// hydrated page print the same text).
import type { TagDryRunResponse } from "../../domain/admin/segment-view-models";
import { createFormatter } from "../../domain/format";

const fmt = createFormatter();

/** 1204 -> "1,204" (the one formatter, app/domain/format.ts). */
export const formatCount = (n: number) => fmt.count(n);

/** 1 -> "1 customer", 1204 -> "1,204 customers". */
export const customersLabel = (n: number) => `${formatCount(n)} ${n === 1 ? "customer" : "customers"}`;

/** +12 / −3 / 0, with a real minus sign. */
export const signed = (n: number) => (n > 0 ? `+${formatCount(n)}` : n < 0 ? `−${formatCount(-n)}` : "0");

/** The dry run in the merchant's words: "Will add the tag to 1,204 customers and remove it from 37." */
export function dryRunSentences(result: Extract<TagDryRunResponse, { ok: true }>): string[] {
  const lines: string[] = [];
  if (result.enabled) {
    if (result.add === 0 && result.remove === 0) lines.push("Nothing to change: the customers in Shopify already match this segment.");
    else lines.push(`Will add the tag to ${customersLabel(result.add)} and remove it from ${formatCount(result.remove)}.`);
  } else if (result.remove === 0) {
    lines.push("Nothing to remove: the app has not tagged anyone for this segment.");
  } else {
    lines.push(`Will remove the tag from ${customersLabel(result.remove)} (only tags the app added itself).`);
  }
  if (result.enabled && result.overLimit > 0) {
    lines.push(`${customersLabel(result.overLimit)} already ${result.overLimit === 1 ? "has" : "have"} Shopify's maximum of 250 tags and will be skipped.`);
  }
  if (result.enabled && result.alreadyTagged > 0) {
    lines.push(`${customersLabel(result.alreadyTagged)} already ${result.alreadyTagged === 1 ? "carries" : "carry"} the tag and will be left as they are.`);
  }
  return lines;
}
