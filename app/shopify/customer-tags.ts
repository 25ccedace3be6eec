// Shopify's rules for customer tags, as the app's tag sync uses them (pure; safe in the UI).
//
// Ground truth (../shared/shopify/conformance/2025-01/customers):
// - "Tags is too long (maximum is 255 characters)" (customer-input-validation-parity);
// - "Tags cannot be more than 250" / "Customers must have 250 tags or less."
//   (customer-tag-note-limits-parity, customer-merge-blockers);
// - a comma splits one tag into several, surrounding spaces are trimmed, and tags compare
//   case-insensitively ("VIP" and "vip" are one tag: customer-tag-note-limits-parity,
//   products/tags-normalization-parity).
import { z } from "zod";

export const MAX_TAG_LENGTH = 255;
export const MAX_TAGS_PER_CUSTOMER = 250;

/** The message Shopify answers when a customer would get more than 250 tags. */
export const TAG_LIMIT_MESSAGES = ["Tags cannot be more than 250", "Customers must have 250 tags or less."];

/** Shopify's case-insensitive identity of a tag. */
export function tagKey(tag: string): string {
  return tag.toLowerCase();
}

/**
 * A tag the app writes: namespaced (`crm:vip`: a namespace of letters, digits, `_` or `-`,
 * a colon, then a name), at most 255 characters, no comma (Shopify would split it), no
 * surrounding spaces (Shopify would trim them, and the app's record would no longer match).
 */
export const SyncTagSchema = z
  .string()
  .min(1, "the tag is empty")
  .max(MAX_TAG_LENGTH, `a Shopify tag has at most ${MAX_TAG_LENGTH} characters`)
  .refine((tag) => tag === tag.trim(), "a tag cannot start or end with spaces (Shopify trims them)")
  .refine((tag) => !tag.includes(","), "a tag cannot contain a comma (Shopify splits it into several tags)")
  .refine((tag) => /^[A-Za-z0-9_-]+:\S/.test(tag), "the tag must be namespaced, for example `crm:vip`");

export type SyncTagCheck = { ok: true; tag: string } | { ok: false; message: string };

export function checkSyncTag(tag: string): SyncTagCheck {
  const parsed = SyncTagSchema.safeParse(tag);
  return parsed.success ? { ok: true, tag: parsed.data } : { ok: false, message: parsed.error.issues[0]!.message };
}

/** Whether a userError from tagsAdd means the customer is at Shopify's 250-tag limit. */
export function isTagLimitError(message: string): boolean {
  return TAG_LIMIT_MESSAGES.some((m) => message.includes(m)) || /\b250 tags\b/.test(message);
}
