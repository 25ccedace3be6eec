// Segment pages of the merchant admin: the list, the editor's live preview and save, the
// segment page (members, entries/exits over time, tag sync with its dry run) and its
// actions. Definitions, membership and previews belong to the segments service
// (app/services/segments/segments.server.ts) and tag sync to app/services/tag-sync/; this
// module validates the form, calls them, maps their errors to form errors and formats for
// display. Every query is scoped by the session's shop.
import { z } from "zod";
import { getPool } from "../db.server";
import { logger } from "../logger.server";
import { MAX_QUERY_LENGTH } from "./segments/definition";
import {
  SegmentName,
  SegmentServiceError,
  createSegment,
  deleteSegment,
  getSegment,
  listSegments,
  previewSegment,
  recomputeSegment,
  segmentChangeSeries,
  updateSegment,
  type Segment,
} from "./segments/segments.server";
import { TagSyncError, reconcileSegmentTagSync, segmentSource, tagSyncDryRun } from "./tag-sync/reconcile.server";
import { outboxSummary } from "./tag-sync/outbox.server";
import { enqueueTagSyncDrain } from "../queues.server";
import { checkSyncTag, tagKey } from "../shopify/customer-tags";
import { writeAudit } from "./crm-store.server";
import { legacyIdOf } from "./admin-format.server";
import { createFormatter, type Formatter } from "../domain/format";
import type {
  MemberSample,
  PreviewResponse,
  SegmentChangeDayView,
  SegmentDetailView,
  SegmentFormErrors,
  SegmentFormValues,
  SegmentListRow,
  SegmentMemberRow,
  SegmentMembersPage,
  SegmentPageData,
  TagDryRunResponse,
} from "../domain/admin/segment-view-models";

export const MEMBERS_PAGE_SIZE = 25;
export const PREVIEW_SAMPLE_SIZE = 10;
export const CHANGE_SERIES_DAYS = 30;

const SegmentIdParam = z.string().regex(/^\d{1,18}$/);

/** The editor's form as submitted. Query errors are the checker's (with positions), not zod's. */
export const SegmentFormSchema = z.object({
  name: z.string().max(1_000).default(""),
  query: z.string().max(MAX_QUERY_LENGTH * 2).default(""),
  tag: z.string().max(1_000).default(""),
  tagSyncEnabled: z
    .enum(["on", "true", "", "off", "false"])
    .default("")
    .transform((v) => v === "on" || v === "true"),
});

const customerName = (c: { first_name: string | null; last_name: string | null; email: string | null; redacted: boolean }) => {
  if (c.redacted) return "Redacted customer";
  const name = [c.first_name, c.last_name].filter(Boolean).join(" ").trim();
  return name || c.email || "No name";
};

// ---------------------------------------------------------------- list

export async function getSegmentList({ shop, now = new Date(), fmt = createFormatter() }: { shop: string; now?: Date; fmt?: Formatter }): Promise<SegmentListRow[]> {
  const segments = await listSegments(shop, { now });
  return segments.map((s) => ({
    id: s.id,
    name: s.name,
    members: s.memberCount,
    change7d: s.change7d,
    syncedTag: s.tagSyncEnabled && s.tag ? s.tag : null,
    updatedAt: fmt.date(s.updatedAt) ?? "",
    brokenReason: s.broken ? (s.brokenReason ?? "Its evaluation failed.") : null,
  }));
}

// ---------------------------------------------------------------- live preview

/** Count and a sample for the editor, or the checker's positioned errors. */
export async function previewForEditor({ shop, query }: { shop: string; query: string }): Promise<PreviewResponse> {
  let result: Awaited<ReturnType<typeof previewSegment>>;
  try {
    result = await previewSegment(shop, query, { sampleSize: PREVIEW_SAMPLE_SIZE });
  } catch (error) {
    // Valid but not previewable now: said inline in the editor, the query stays as typed.
    if (error instanceof SegmentServiceError && (error.kind === "too_expensive" || error.kind === "busy")) return { query, ok: false, errors: [], message: error.message };
    throw error;
  }
  if (!result.ok) return { query, ok: false, errors: [...result.errors] };
  const sample: MemberSample[] = result.sample.map((c) => ({
    id: legacyIdOf(c.gid),
    name: customerName({ first_name: c.firstName, last_name: c.lastName, email: c.email, redacted: false }),
    email: c.email,
  }));
  return { query, ok: true, count: result.count, sample };
}

// ---------------------------------------------------------------- save

type SaveResult = { ok: true; segment: Segment; tagSyncWarning: string | null } | { ok: false; status: number; errors: SegmentFormErrors };

/** A tag to store from the form: null when blank; an error message when it breaks Shopify's rules. */
function formTag(values: SegmentFormValues): { tag: string | null } | { error: string } {
  if (values.tag === "") return values.tagSyncEnabled ? { error: "Enter the tag to sync, for example crm:vip" } : { tag: null };
  const check = checkSyncTag(values.tag);
  return check.ok ? { tag: check.tag } : { error: check.message };
}

/** Another segment of the shop that already syncs this tag (Shopify compares tags case-insensitively). */
async function segmentSyncingTag(shop: string, tag: string, exceptId: string | null): Promise<string | null> {
  const { rows } = await getPool().query<{ name: string }>(
    `SELECT name FROM segments WHERE shop = $1 AND tag_sync_enabled AND lower(tag) = $2 AND ($3::bigint IS NULL OR id <> $3) LIMIT 1`,
    [shop, tagKey(tag), exceptId],
  );
  return rows[0]?.name ?? null;
}

function serviceErrorToForm(error: SegmentServiceError, query: string): { status: number; errors: SegmentFormErrors } {
  if (error.errors.length > 0) return { status: 400, errors: { query: [...error.errors], queryText: query } };
  if (error.kind === "conflict") return { status: 409, errors: { name: capitalise(error.message) } };
  if (error.kind === "not_found") return { status: 404, errors: { form: "This segment no longer exists." } };
  return { status: 400, errors: /name/.test(error.message) ? { name: capitalise(error.message) } : { form: capitalise(error.message) } };
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * Reconciles the segment's tag sync with its members now and asks the writer for a drain.
 * Returns a message for the merchant when the reconcile was refused (the setting is saved
 * either way; the scheduled reconcile retries). A failed enqueue is only logged: the
 * writer's sweep finds due writes by itself.
 */
async function syncTagNow(shop: string, segmentId: string): Promise<string | null> {
  try {
    const result = await reconcileSegmentTagSync(shop, segmentId);
    if (result.queuedAdds + result.queuedRemoves > 0) {
      await enqueueTagSyncDrain(shop).catch((error: unknown) => logger.warn({ shop, segmentId, err: error }, "segment.tag_sync_enqueue_failed"));
    }
    return null;
  } catch (error) {
    if (error instanceof TagSyncError) {
      logger.warn({ shop, segmentId, kind: error.kind, err: error.message }, "segment.tag_sync_refused");
      return `Saved, but the tag sync was not started: ${error.message}.`;
    }
    throw error;
  }
}

/** Creates (no `id`) or edits a segment from the editor's form. Nothing invalid is stored. */
export async function saveSegment({
  shop,
  id,
  values,
  actor,
}: {
  shop: string;
  id: string | null;
  values: SegmentFormValues;
  actor: string;
}): Promise<SaveResult> {
  const errors: SegmentFormErrors = {};
  const name = SegmentName.safeParse(values.name);
  if (!name.success) errors.name = capitalise(name.error.issues[0]!.message);
  const tag = formTag(values);
  if ("error" in tag) errors.tag = capitalise(tag.error);
  else if (tag.tag && values.tagSyncEnabled) {
    const other = await segmentSyncingTag(shop, tag.tag, id);
    if (other) errors.tag = `The segment “${other}” already syncs the tag ${tag.tag}; a tag is synced by one segment at a time.`;
  }
  if (values.query.trim() === "") {
    errors.query = [{ message: "Write a query, or start from an example", line: 1, column: 1, offset: 0 }];
    errors.queryText = values.query;
  }
  if (Object.keys(errors).length > 0 || "error" in tag) return { ok: false, status: 400, errors };

  const before = id ? await getSegment(shop, id) : null;
  if (id && !before) return { ok: false, status: 404, errors: { form: "This segment no longer exists." } };
  let segment: Segment;
  try {
    const input = { shop, name: values.name, query: values.query, tag: tag.tag, tagSyncEnabled: values.tagSyncEnabled && tag.tag !== null };
    segment = id ? (await updateSegment({ ...input, id })).segment : (await createSegment(input)).segment;
  } catch (error) {
    if (error instanceof SegmentServiceError) return { ok: false, ...serviceErrorToForm(error, values.query) };
    throw error;
  }
  await writeAudit(getPool(), {
    shop,
    actor,
    action: id ? "segment.update" : "segment.create",
    subject: `segment:${segment.id}`,
    details: { name: segment.name, query: segment.query, tag: segment.tag, tagSyncEnabled: segment.tagSyncEnabled, members: segment.memberCount },
  });
  const syncTouched = segment.tagSyncEnabled || (before?.tagSyncEnabled ?? false);
  const tagSyncWarning = syncTouched ? await syncTagNow(shop, segment.id) : null;
  return { ok: true, segment, tagSyncWarning };
}

// ---------------------------------------------------------------- segment page

/** The editor's starting values for an existing segment, or null when the shop has no such segment. */
export async function getSegmentForEdit({ shop, id }: { shop: string; id: string }): Promise<(SegmentFormValues & { id: string }) | null> {
  if (!SegmentIdParam.safeParse(id).success) return null;
  const segment = await getSegment(shop, id);
  if (!segment || segment.id !== id) return null;
  return { id: segment.id, name: segment.name, query: segment.query, tag: segment.tag ?? "", tagSyncEnabled: segment.tagSyncEnabled };
}

const toDetail = (s: Segment, fmt: Formatter): SegmentDetailView => ({
  id: s.id,
  name: s.name,
  query: s.query,
  memberCount: s.memberCount,
  tag: s.tag,
  tagSyncEnabled: s.tagSyncEnabled,
  relativeTime: s.relativeTime,
  lastRefreshedAt: fmt.dateTime(s.lastRefreshedAt),
  createdAt: fmt.dateTime(s.createdAt) ?? "",
  updatedAt: fmt.dateTime(s.updatedAt) ?? "",
  broken: s.broken ? { at: fmt.dateTime(s.brokenAt) ?? "", reason: s.brokenReason ?? "Its evaluation failed." } : null,
});

type MemberRow = {
  customer_gid: string;
  entered_at: Date;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  redacted: boolean;
  orders_count: number | null;
  total_spent_minor: string | null;
  currency: string | null;
};

/**
 * One keyset page of a segment's members in customer-id order: after a cursor (the next
 * page), before one (the previous page), or the first page. Cursors are customer gids.
 */
export async function listMembersPage({
  shop,
  segmentId,
  after,
  before,
  pageSize = MEMBERS_PAGE_SIZE,
  fmt = createFormatter(),
}: {
  fmt?: Formatter;
  shop: string;
  segmentId: string;
  after?: string | null;
  before?: string | null;
  pageSize?: number;
}): Promise<SegmentMembersPage> {
  const backwards = !after && !!before;
  // Two fixed statements (not one with a CASE) so both directions walk the primary key (segment_id, customer_gid).
  const { rows } = await getPool().query<MemberRow>(
    `SELECT m.customer_gid, m.entered_at, c.first_name, c.last_name, c.email, c.redacted_at IS NOT NULL AS redacted,
            c.orders_count, c.total_spent_minor, coalesce(c.aggregate_currency, c.currency) AS currency
       FROM segment_members m
       LEFT JOIN customers c ON c.shop = m.shop AND c.gid = m.customer_gid
      WHERE m.segment_id = $2 AND m.shop = $1 AND ${backwards ? "m.customer_gid < $3" : "($3::text IS NULL OR m.customer_gid > $3)"}
      ORDER BY m.customer_gid ${backwards ? "DESC" : "ASC"}
      LIMIT $4`,
    [shop, segmentId, backwards ? before : (after ?? null), pageSize + 1],
  );
  const more = rows.length > pageSize;
  const page = rows.slice(0, pageSize);
  if (backwards) page.reverse();
  const members: SegmentMemberRow[] = page.map((r) => ({
    id: legacyIdOf(r.customer_gid),
    name: customerName({ ...r, redacted: r.redacted ?? false }),
    email: r.redacted ? null : r.email,
    redacted: r.redacted ?? false,
    ordersCount: r.orders_count ?? 0,
    amountSpent: fmt.money(r.total_spent_minor ?? "0", r.currency),
    memberSince: fmt.date(r.entered_at) ?? "",
  }));
  const first = page[0]?.customer_gid ?? null;
  const last = page[page.length - 1]?.customer_gid ?? null;
  // Going forwards there is a previous page whenever we started after a cursor; going backwards there is a next page.
  return {
    members,
    after: backwards ? last : more ? last : null,
    before: backwards ? (more ? first : null) : after ? first : null,
  };
}


export async function getSegmentPage({
  shop,
  id,
  after,
  before,
  now = new Date(),
  fmt = createFormatter(),
}: {
  fmt?: Formatter;
  shop: string;
  id: string;
  after?: string | null;
  before?: string | null;
  now?: Date;
}): Promise<SegmentPageData | null> {
  if (!SegmentIdParam.safeParse(id).success) return null;
  const segment = await getSegment(shop, id);
  if (!segment || segment.id !== id) return null;
  const [members, series, outbox] = await Promise.all([
    listMembersPage({ shop, segmentId: id, after, before, fmt }),
    segmentChangeSeries({ shop, segmentId: id, days: CHANGE_SERIES_DAYS, now }),
    outboxSummary(shop, segmentSource(id)),
  ]);
  const changes: SegmentChangeDayView[] = series.map((d) => ({
    day: d.day,
    label: fmt.calendarDayMonth(d.day),
    entered: d.entered,
    exited: d.exited,
  }));
  return {
    segment: toDetail(segment, fmt),
    members,
    changes,
    tagOutbox: { waiting: outbox.pending + outbox.in_flight, written: outbox.done, failed: outbox.failed, skipped: outbox.skipped },
  };
}

// ---------------------------------------------------------------- tag sync dry run and setting

/** What saving `tag` (enabled or not) would do now, or why it cannot be saved. */
export async function previewTagSync({ shop, id, tag, enabled }: { shop: string; id: string; tag: string; enabled: boolean }): Promise<TagDryRunResponse | null> {
  if (!SegmentIdParam.safeParse(id).success) return null;
  const trimmed = tag === "" ? null : tag;
  if (enabled) {
    if (trimmed === null) return { tag, enabled, ok: false, error: "Enter the tag to sync, for example crm:vip" };
    const check = checkSyncTag(trimmed);
    if (!check.ok) return { tag, enabled, ok: false, error: capitalise(check.message) };
  }
  try {
    const dry = await tagSyncDryRun(shop, id, { tag: trimmed, enabled });
    return { tag, enabled, ok: true, add: dry.add, remove: dry.remove, overLimit: dry.overLimit, alreadyTagged: dry.alreadyTagged };
  } catch (error) {
    if (error instanceof TagSyncError) {
      if (error.kind === "not_found") return null;
      return { tag, enabled, ok: false, error: capitalise(error.message) };
    }
    throw error;
  }
}

/** Saves the segment page's tag setting and starts the sync (or the removal of the app's tags). */
export async function saveTagSetting({
  shop,
  id,
  tag,
  enabled,
  actor,
}: {
  shop: string;
  id: string;
  tag: string;
  enabled: boolean;
  actor: string;
}): Promise<{ ok: true; tagSyncWarning: string | null } | { ok: false; status: number; error: string }> {
  const current = await getSegmentForEdit({ shop, id });
  if (!current) return { ok: false, status: 404, error: "This segment no longer exists." };
  const values: SegmentFormValues = { ...current, tag, tagSyncEnabled: enabled };
  const result = await saveSegment({ shop, id, values, actor });
  if (!result.ok) return { ok: false, status: result.status, error: result.errors.tag ?? result.errors.form ?? result.errors.name ?? "The setting could not be saved." };
  return { ok: true, tagSyncWarning: result.tagSyncWarning };
}

// ---------------------------------------------------------------- actions

export async function recomputeSegmentNow({ shop, id, actor }: { shop: string; id: string; actor: string }) {
  let result: Awaited<ReturnType<typeof recomputeSegment>>;
  try {
    result = await recomputeSegment(shop, id, "refresh");
  } catch (error) {
    // Broken, or too expensive: a message for the page, not a server error.
    if (error instanceof SegmentServiceError && error.kind !== "not_found") return { ok: false as const, error: capitalise(error.message) };
    throw error;
  }
  await writeAudit(getPool(), { shop, actor, action: "segment.recompute", subject: `segment:${id}`, details: result });
  const segment = await getSegment(shop, id);
  const tagSyncWarning = segment?.tagSyncEnabled && result.entered + result.exited > 0 ? await syncTagNow(shop, id) : null;
  logger.info({ shop, segmentId: id, entered: result.entered, exited: result.exited }, "segment.recomputed_by_merchant");
  return { ok: true as const, entered: result.entered, exited: result.exited, skipped: result.skipped ?? null, tagSyncWarning };
}

/** Deletes the segment; the tags the app added for it are then queued for removal. */
export async function removeSegment({ shop, id, actor }: { shop: string; id: string; actor: string }): Promise<{ name: string } | null> {
  const segment = await getSegment(shop, id);
  if (!segment || segment.id !== id) return null;
  await deleteSegment({ shop, id });
  await writeAudit(getPool(), { shop, actor, action: "segment.delete", subject: `segment:${id}`, details: { name: segment.name, query: segment.query, tag: segment.tag } });
  await syncTagNow(shop, id);
  return { name: segment.name };
}
