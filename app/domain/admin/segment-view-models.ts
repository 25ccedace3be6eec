// The shapes the segment pages render. app/services/admin-segments.server.ts builds them
// on the server with dates already formatted, so server rendering and hydration agree.
import type { SegmentError } from "../segments/lexer";

export type { SegmentError };

export type SegmentListRow = {
  id: string;
  name: string;
  members: number;
  change7d: { entered: number; exited: number; net: number };
  /** The tag synced to Shopify, or null when the segment has no tag sync. */
  syncedTag: string | null;
  updatedAt: string;
  /** Why evaluating the segment failed, when it is broken (it is skipped until saved with a valid query). */
  brokenReason: string | null;
};

/** A customer in the editor's live sample. */
export type MemberSample = { id: string; name: string; email: string | null };

/** The live preview of a query being typed; `query` is the exact text it was computed for. */
export type PreviewResponse = { query: string } & (
  | { ok: true; count: number; sample: MemberSample[] }
  /** `message`: the query is valid but could not be previewed (too expensive, too many previews at once). */
  | { ok: false; errors: SegmentError[]; message?: string }
);

export type SegmentFormValues = { name: string; query: string; tag: string; tagSyncEnabled: boolean };

export type SegmentFormErrors = {
  name?: string;
  /** Positioned errors for `queryText` (shown only while the editor still holds that text). */
  query?: SegmentError[];
  queryText?: string;
  tag?: string;
  form?: string;
};

export type SegmentFormResult = { ok: false; errors: SegmentFormErrors };

export type SegmentMemberRow = {
  /** Numeric legacy id (the customer page's URL). */
  id: string;
  name: string;
  email: string | null;
  redacted: boolean;
  ordersCount: number;
  amountSpent: string;
  memberSince: string;
};

/** One keyset page of members: `after` / `before` are the cursors of the next and previous pages. */
export type SegmentMembersPage = { members: SegmentMemberRow[]; after: string | null; before: string | null };

export type SegmentChangeDayView = { day: string; label: string; entered: number; exited: number };

export type TagOutboxView = { waiting: number; written: number; failed: number; skipped: number };

export type SegmentDetailView = {
  id: string;
  name: string;
  query: string;
  memberCount: number;
  tag: string | null;
  tagSyncEnabled: boolean;
  relativeTime: boolean;
  lastRefreshedAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** Set when the segment is broken: shown as a critical banner. */
  broken: { at: string; reason: string } | null;
};

export type SegmentPageData = {
  segment: SegmentDetailView;
  members: SegmentMembersPage;
  changes: SegmentChangeDayView[];
  tagOutbox: TagOutboxView;
};

/** What saving a tag setting would do now ("will add the tag to 1,204 customers, remove it from 37"). */
export type TagDryRunResponse = { tag: string; enabled: boolean } & (
  | { ok: true; add: number; remove: number; overLimit: number; alreadyTagged: number }
  | { ok: false; error: string }
);
