// The worker's unit of work: an inbox row, applied in one transaction, exactly once;
// together with the other rows waiting at that moment (a batch), when there are some.
import { getPool, withTransaction } from "../db.server";
import { logger } from "../logger.server";
import { loyaltyOrderGids } from "../domain/loyalty/batch";
import { mapWebhook } from "../shopify/webhook-payloads";
import { applyCrmBatch, type BatchEvent } from "./apply-crm-batch.server";
import { scrubLatePayloads } from "./privacy.server";
import { ensureShop } from "./crm-store.server";
import { applyLoyaltyForCustomers, applyLoyaltyForOrders } from "./loyalty/apply-orders.server";
import { feedbackTriggers } from "../domain/feedback/batch";
import { scheduleFeedbackForOrders } from "./feedback/schedule.server";
import { recordAutomationMoments } from "./automations/moments.server";
import { assignNewCustomersToClusters } from "./analytics/clusters.server";
import { applySegmentCountDeltas, type SegmentCountDeltas } from "./segments/membership.server";
import { reevaluateSegmentsForCustomers } from "./segments/reevaluate.server";

export type ProcessOutcome =
  | { outcome: "processed"; topic: string; shop: string; receivedAt: Date }
  | { outcome: "ignored"; topic: string; shop: string; reason: string }
  | { outcome: "skipped"; reason: "already done" | "not found" };

type InboxRow = {
  id: string;
  shop: string;
  topic: string;
  /** NULL once the retention job dropped the body (only processed or ignored rows). */
  payload: string | null;
  status: string;
  triggered_at: Date | null;
  received_at: Date;
  replays: number;
};

export type BatchEventOutcome =
  | { inboxId: string; outcome: "processed"; topic: string; shop: string; receivedAt: Date }
  | { inboxId: string; outcome: "ignored"; topic: string; shop: string; reason: string };

/** What one batch transaction did. */
export type AppliedBatch = {
  /** Every row this transaction applied or ignored, the job's own included. */
  events: BatchEventOutcome[];
  /** Customers the batch may have changed, per shop. */
  customers: Map<string, Set<string>>;
  /** Shops where the batch changed segment membership (their tag sync needs a reconcile). */
  membershipChanged?: string[];
  /** Set when the batch failed as a whole and the row was applied alone instead. */
  batchError?: unknown;
  /** The rows this transaction applied or ignored. */
  applied: { id: string; replays: number }[];
};

export type BatchOutcome = AppliedBatch & {
  /** What happened to the row the job was for. */
  own: ProcessOutcome;
};

const INBOX_COLUMNS = "id, shop, topic, payload, status, triggered_at, received_at, replays";

/**
 * Rows this process applied in batches, by id and replay count: their own jobs then skip
 * without a database round trip. A replay raises the count (and gets a new job), so a
 * replayed row is never mistaken for done. Bounded; forgetting only costs a read.
 */
const recentlyApplied = new Set<string>();
const RECENTLY_APPLIED_LIMIT = 50_000;
const appliedKey = (inboxId: string, replays: number) => `${inboxId}:${replays}`;

function rememberApplied(rows: readonly { id: string; replays: number }[]): void {
  for (const row of rows) recentlyApplied.add(appliedKey(row.id, row.replays));
  if (recentlyApplied.size > RECENTLY_APPLIED_LIMIT) {
    let excess = recentlyApplied.size - RECENTLY_APPLIED_LIMIT;
    for (const key of recentlyApplied) {
      if (excess-- <= 0) break;
      recentlyApplied.delete(key);
    }
  }
}

/**
 * The batches this process is applying: each claimed inbox row id maps to the batch that
 * holds it, so a job whose row another batch of this process took waits for that batch in
 * memory instead of blocking a connection on the row lock. At most `batchesInFlight`
 * batches run at once; rows that arrive meanwhile wait and go together in the next batch
 * (group commit), instead of each new job starting a small batch of its own.
 */
const claimedBy = new Map<string, Promise<void>>();
let batchesRunning = 0;
const batchSlotQueue: (() => void)[] = [];
/** Continuation batches running or waiting for a slot (see continueDraining). */
const continuations = new Set<Promise<void>>();
let continuing = true;

async function acquireBatchSlot(limit: number): Promise<void> {
  if (batchesRunning < limit) {
    batchesRunning++;
    return;
  }
  await new Promise<void>((resolve) => batchSlotQueue.push(resolve));
}

function releaseBatchSlot(): void {
  const next = batchSlotQueue.shift();
  if (next) next(); // the slot passes on: batchesRunning stays the same
  else batchesRunning--;
}

/** Waits until this process has no batch holding the row; true if one applied it meanwhile. */
async function settledInProcess(inboxId: string, replays: number): Promise<boolean> {
  for (let holder = claimedBy.get(inboxId); holder; holder = claimedBy.get(inboxId)) await holder;
  return recentlyApplied.has(appliedKey(inboxId, replays));
}

export type BatchOptions = {
  /** Rows per transaction, the job's own included (1 = one by one). */
  maxBatch: number;
  /** The job's replay count (its id's `-r<n>`): a replayed row is applied again. */
  replays?: number;
  /** Batches this process applies at once. */
  batchesInFlight?: number;
  /**
   * After a full batch, start the next one at once instead of waiting for a job whose row is
   * still waiting: with a backlog, the jobs of rows already applied would otherwise have to pass
   * through the queue first. Continuation batches report here (the job's own batch is returned).
   */
  continueWith?: (batch: AppliedBatch, seconds: number) => Promise<void>;
};

/**
 * Applies the job's own inbox row together with up to `maxBatch - 1` other rows of the same
 * shop that are waiting (`received`, oldest first, skipping rows another transaction holds),
 * in one transaction with set-based statements. Under load most jobs then find their row
 * already done, or being applied by a batch of this process, and cost nothing. If the batch
 * fails as a whole (a poison row, a deadlock), it rolls back and the own row is applied alone,
 * so one bad event never holds up others: the rows taken along (all of the same shop: another
 * shop's work is never in the batch to be rolled back) are back to `received` for their own
 * jobs.
 *
 * A row that another transaction holds is waited for without a batch slot: in memory when a
 * batch of this process took it, on its row lock otherwise (another worker process, or a
 * batch of this one whose claim is not announced yet). A job holding a slot while blocked on
 * its row would leave fewer slots for the rows still waiting (at 500 events/s one job-started
 * batch in five used to wait like that, 64 ms on average: docs/performance.md).
 */
export async function processInboxBatch(inboxId: string, options: BatchOptions): Promise<BatchOutcome> {
  const replays = options.replays ?? 0;
  for (;;) {
    if (await settledInProcess(inboxId, replays)) return skipped("already done");
    const result = await applyInSlot(inboxId, options);
    if (result !== HELD) return result;
    if (!claimedBy.has(inboxId)) await waitForRowLock(inboxId);
  }
}

/** The row is held by another transaction: wait for it, then look again. */
const HELD = Symbol("held by another transaction");

async function applyInSlot(inboxId: string, options: BatchOptions): Promise<BatchOutcome | typeof HELD> {
  const { maxBatch, batchesInFlight = Infinity } = options;
  await acquireBatchSlot(batchesInFlight);
  let full = false;
  try {
    // A batch of this process took the row while this job waited for a slot.
    if (claimedBy.has(inboxId)) return HELD;
    const { rows: peek } = await getPool().query<{ status: string }>({ name: "crm-peek-inbox-row", text: `SELECT status FROM webhook_events WHERE id = $1`, values: [inboxId] });
    if (!peek[0]) return skipped("not found");
    if (peek[0].status === "processed" || peek[0].status === "ignored") return skipped("already done");
    if (maxBatch <= 1) return await applyInboxRows(inboxId, 1);
    const claim = new Claim(inboxId);
    try {
      const outcome = await applyInboxRows(inboxId, maxBatch, claim, "skip-if-held");
      if (outcome === HELD) return HELD;
      rememberApplied(outcome.applied);
      full = claim.others.length >= maxBatch - 1;
      return outcome;
    } catch (batchError) {
      if (claim.others.length === 0) throw batchError; // it was alone: the failure is its own
      claim.release(); // the others go back to their own jobs now
      return { ...(await applyInboxRows(inboxId, 1)), batchError };
    } finally {
      claim.release();
    }
  } finally {
    releaseBatchSlot();
    if (full) continueDraining(options);
  }
}

/** Waits until no other transaction holds the row's lock (a pooled connection waits, no batch slot). */
async function waitForRowLock(inboxId: string): Promise<void> {
  await getPool().query({ name: "crm-wait-inbox-row", text: `SELECT 1 FROM webhook_events WHERE id = $1 FOR KEY SHARE`, values: [inboxId] });
}

/** The rows one batch of this process holds, announced in claimedBy until it ends. */
class Claim {
  others: string[] = [];
  private settle!: () => void;
  private readonly settled = new Promise<void>((resolve) => (this.settle = resolve));

  constructor(private readonly ownId: string | null) {}

  /** Called inside the transaction once the rows are locked. */
  took(ids: string[]): void {
    this.others = ids.filter((id) => id !== this.ownId);
    for (const id of this.others) claimedBy.set(id, this.settled);
  }

  release(): void {
    for (const id of this.others) if (claimedBy.get(id) === this.settled) claimedBy.delete(id);
    this.settle();
  }
}

/**
 * A batch not started by a job, after a full batch: the oldest waiting row and the next
 * waiting rows of its shop; it continues while batches come out full. A failure loses
 * nothing: its rows go back to `received` and their own jobs apply them (and report the
 * failure).
 */
function continueDraining(options: BatchOptions): void {
  const report = options.continueWith;
  if (!report || !continuing) return;
  const run = (async () => {
    await acquireBatchSlot(options.batchesInFlight ?? Infinity);
    let full = false;
    const claim = new Claim(null);
    try {
      if (!continuing) return;
      const started = performance.now();
      const batch = await applyInboxRows(null, options.maxBatch, claim);
      rememberApplied(batch.applied);
      full = claim.others.length >= options.maxBatch;
      claim.release();
      if (batch.events.length > 0) await report(batch, (performance.now() - started) / 1000);
    } catch (error) {
      logger.warn({ err: error, rows: claim.others.length }, "events.continuation_batch_failed");
    } finally {
      claim.release();
      releaseBatchSlot();
    }
    if (full) continueDraining(options);
  })();
  continuations.add(run);
  void run.finally(() => continuations.delete(run));
}

/** Stops starting continuation batches and waits for those running (worker shutdown, tests). */
export async function stopContinuationBatches(): Promise<void> {
  continuing = false;
  while (continuations.size > 0) await Promise.allSettled([...continuations]);
  continuing = true;
}

/**
 * Locks the inbox row, skips it if it was already handled (duplicate job, replay of a
 * done event), maps it, applies it, and marks it processed, all in one transaction:
 * a crash anywhere leaves the row as it was, to be retried.
 */
export async function processInboxEvent(inboxId: string): Promise<ProcessOutcome> {
  return (await applyInboxRows(inboxId, 1)).own;
}

function skipped(reason: "already done" | "not found"): BatchOutcome {
  return { own: { outcome: "skipped", reason }, events: [], customers: new Map(), applied: [] };
}

/**
 * ownLock: "wait" blocks on the own row's lock; "skip-if-held" returns HELD at once when
 * another transaction holds it (nothing is applied then).
 */
async function applyInboxRows(ownId: string, maxBatch: number, claim?: Claim): Promise<BatchOutcome>;
async function applyInboxRows(ownId: string, maxBatch: number, claim: Claim, ownLock: "skip-if-held"): Promise<BatchOutcome | typeof HELD>;
async function applyInboxRows(ownId: null, maxBatch: number, claim: Claim): Promise<AppliedBatch>;
async function applyInboxRows(ownId: string | null, maxBatch: number, claim?: Claim, ownLock: "wait" | "skip-if-held" = "wait"): Promise<BatchOutcome | AppliedBatch | typeof HELD> {
  return withTransaction(async (db) => {
    let row: InboxRow | undefined;
    if (ownId !== null) {
      const { rows: own } = await db.query<InboxRow>(
        ownLock === "wait"
          ? { name: "crm-lock-inbox-row", text: `SELECT ${INBOX_COLUMNS} FROM webhook_events WHERE id = $1 FOR UPDATE`, values: [ownId] }
          : { name: "crm-lock-inbox-row-unless-held", text: `SELECT ${INBOX_COLUMNS} FROM webhook_events WHERE id = $1 FOR UPDATE SKIP LOCKED`, values: [ownId] },
      );
      row = own[0];
      // Skipped by SKIP LOCKED (the caller saw the row a moment ago), or gone: the caller waits and looks again.
      if (!row) return ownLock === "wait" ? skipped("not found") : HELD;
      if (row.status === "processed" || row.status === "ignored") return skipped("already done");
    }
    // One shop per batch: a poison row (or a segment that fails to evaluate) rolls back only
    // its own shop's rows, never another shop's (docs/decisions/025-one-shop-per-batch.md).
    // A job's batch takes its own row's shop; a continuation the shop of the oldest waiting
    // row (locked first, then taken again with its shop's next rows). The claim is a function
    // (crm_claim_waiting_inbox_rows, migration 20261207010000) that reads the (shop, status,
    // received_at) index in order whatever the statistics.
    const others =
      maxBatch <= 1
        ? []
        : row
          ? (
              await db.query<InboxRow>({
                name: "crm-claim-waiting-inbox-rows-of-shop",
                text: `SELECT ${INBOX_COLUMNS} FROM crm_claim_waiting_inbox_rows($1, $2, $3)`,
                values: [row.shop, row.id, maxBatch - 1],
              })
            ).rows
          : (
              await db.query<InboxRow>({
                name: "crm-claim-waiting-inbox-rows-of-oldest-shop",
                text: `WITH head AS (
                         SELECT shop AS head_shop FROM webhook_events WHERE status = 'received' ORDER BY received_at LIMIT 1 FOR UPDATE SKIP LOCKED
                       )
                       SELECT ${INBOX_COLUMNS} FROM head, LATERAL crm_claim_waiting_inbox_rows(head.head_shop, 0, $1)`,
                values: [maxBatch],
              })
            ).rows;
    claim?.took(others.map((r) => r.id));
    if (!row && others.length === 0) return { events: [], customers: new Map(), applied: [] };
    const batch = (row ? [row, ...others] : others).sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    const events: BatchEventOutcome[] = [];
    const customers = new Map<string, Set<string>>();
    const byShop = new Map<string, { row: InboxRow; item: BatchEvent }[]>();
    const ignored: { id: string; reason: string }[] = [];
    const countDeltas: SegmentCountDeltas = [];
    const membershipChanged: string[] = [];
    for (const r of batch) {
      const mapped = r.payload === null ? ({ ok: false, reason: "payload dropped by the inbox retention policy" } as const) : mapWebhook(r.topic, r.payload, { shop: r.shop });
      if (!mapped.ok) {
        ignored.push({ id: r.id, reason: mapped.reason });
        events.push({ inboxId: r.id, outcome: "ignored", topic: r.topic, shop: r.shop, reason: mapped.reason });
        continue;
      }
      const list = byShop.get(r.shop) ?? [];
      list.push({ row: r, item: { inboxId: r.id, event: mapped.event, eventTime: r.triggered_at ?? r.received_at } });
      byShop.set(r.shop, list);
    }
    for (const shop of [...byShop.keys()].sort()) {
      const items = byShop.get(shop)!;
      const firstEventTime = items.reduce((min, { item }) => (item.eventTime < min ? item.eventTime : min), items[0]!.item.eventTime);
      await ensureShop(db, shop, firstEventTime);
      const applied = await applyCrmBatch(db, shop, items.map(({ item }) => item));
      // Events about a redacted customer (or one of its orders) that arrived after the
      // redaction: applied without the person, and their raw bodies scrubbed now.
      await scrubLatePayloads(db, shop, items.map(({ item }) => item));
      customers.set(shop, applied.customers);
      // What follows from the new state, in the same transaction: segment membership (its
      // entries and exits name one of this shop's inbox rows in the batch, the job's own when
      // it is one), then loyalty, which reads that membership (segment earn multipliers). One
      // indexed read each for a shop without segments or without a loyalty program.
      const touched = [...applied.customers].sort();
      const causeId = row && items.some(({ row: r }) => r.id === row.id) ? row.id : items[0]!.row.id;
      const membership = await reevaluateSegmentsForCustomers(db, shop, touched, { kind: "event", inboxId: causeId }, { deferCounts: true });
      if (membership.countDeltas) countDeltas.push(...membership.countDeltas);
      if (membership.entered + membership.exited > 0) membershipChanged.push(shop);
      // Loyalty at the wall clock (the functions' default `now`), not the event's time: the
      // ledger is append-only, so a reversal must be taken from the wallet as it is now (points
      // may have been spent since the refund happened) and can never be dated before entries
      // already written; pending vs available, tiers and their windows are likewise "as of now".
      // What the event's own time decides (the program version an order earns under, the
      // dates of entries) comes from the stored order and refund times, not from this clock.
      await applyLoyaltyForOrders(db, shop, loyaltyOrderGids(items.map(({ item }) => item.event)));
      // Signup bonus: every customer the batch touched, not only rows it created. Whether a
      // customer qualifies is decided by its Shopify created_at (a program with a signup bonus
      // in force then) and the per-customer key makes it once, so an update that happens to be
      // the first event stored for a new customer (customers/create lost or late) still gives
      // it, and customers created before the program never get it. Cheap: one read when the
      // program has no signup bonus.
      await applyLoyaltyForCustomers(db, shop, touched);
      // Segments on loyalty_points / loyalty_tier see what loyalty just wrote: a second pass,
      // only for shops with such segments (known from the cached definitions, no round trip otherwise).
      const afterLoyalty = await reevaluateSegmentsForCustomers(db, shop, touched, { kind: "event", inboxId: causeId }, { deferCounts: true, onlyIfAppData: true });
      if (afterLoyalty.countDeltas) countDeltas.push(...afterLoyalty.countDeltas);
      if (afterLoyalty.entered + afterLoyalty.exited > 0 && !membershipChanged.includes(shop)) membershipChanged.push(shop);
      // Feedback requests the order events call for (one per rule and order, keyed), delayed
      // from the event's time; the scheduler job sends them when due.
      await scheduleFeedbackForOrders(db, shop, feedbackTriggers(items.map(({ item }) => item)));
      // Customers of the batch with their first order get the nearest cluster of the shop's
      // model in force now, not at the next refit (decision 059). One read when there is none.
      await assignNewCustomersToClusters(db, shop, touched);
      // Automation firings for the batch's moments (keyed; the runner job acts on them).
      await recordAutomationMoments(db, shop, { events: items.map(({ item }) => item), customers: touched });
      for (const { row: r } of items) events.push({ inboxId: r.id, outcome: "processed", topic: r.topic, shop: r.shop, receivedAt: r.received_at });
    }
    // Last, so the segments' count rows (shared by every event of a shop) are locked only
    // for the moment before COMMIT, not through the loyalty step.
    await applySegmentCountDeltas(db, countDeltas);
    const processedIds = events.filter((e) => e.outcome === "processed").map((e) => e.inboxId);
    if (processedIds.length > 0) {
      await db.query({
        name: "crm-mark-processed",
        text: `UPDATE webhook_events SET status = 'processed', last_error = NULL, attempts = attempts + 1, processed_at = now() WHERE id = ANY($1::bigint[])`,
        values: [processedIds],
      });
    }
    if (ignored.length > 0) {
      await db.query({
        name: "crm-mark-ignored",
        text: `UPDATE webhook_events w SET status = 'ignored', last_error = x.reason, attempts = attempts + 1, processed_at = now()
                 FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, reason text) WHERE w.id = x.id`,
        values: [JSON.stringify(ignored)],
      });
    }
    const applied = batch.map((r) => ({ id: r.id, replays: r.replays }));
    if (!row) return { events, customers, membershipChanged, applied };
    const mine = events.find((e) => e.inboxId === row.id)!;
    const ownOutcome: ProcessOutcome =
      mine.outcome === "processed"
        ? { outcome: "processed", topic: mine.topic, shop: mine.shop, receivedAt: mine.receivedAt }
        : { outcome: "ignored", topic: mine.topic, shop: mine.shop, reason: mine.reason };
    return { own: ownOutcome, events, customers, membershipChanged, applied };
  });
}

/** Records a failed attempt; the last one dead-letters the event with its reason. */
export async function recordInboxFailure(inboxId: string, error: unknown, final: boolean): Promise<void> {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  await getPool().query(
    `UPDATE webhook_events SET status = $2, last_error = $3, attempts = attempts + 1
      WHERE id = $1 AND status NOT IN ('processed', 'ignored')`,
    [inboxId, final ? "dead" : "failed", reason.slice(0, 2000)],
  );
}

/**
 * Dead-letters a row still waiting ('received' or 'failed') whose job BullMQ failed for good
 * without the processor recording it. Returns whether the row changed.
 */
export async function deadLetterUnrecorded(inboxId: string, reason: string): Promise<boolean> {
  const result = await getPool().query(
    `UPDATE webhook_events SET status = 'dead', last_error = $2 WHERE id = $1 AND status IN ('received', 'failed')`,
    [inboxId, reason.slice(0, 2000)],
  );
  return (result.rowCount ?? 0) > 0;
}

/** Inbox rows persisted but never picked up (Redis was down, or a job was lost). */
export async function findUnqueuedInboxRows(olderThanMs: number, limit: number): Promise<{ id: string; replays: number }[]> {
  const { rows } = await getPool().query<{ id: string; replays: number }>(
    `SELECT id, replays FROM webhook_events
      WHERE status IN ('received', 'failed') AND received_at < now() - make_interval(secs => $1::double precision / 1000)
      ORDER BY id LIMIT $2`,
    [olderThanMs, limit],
  );
  return rows;
}
