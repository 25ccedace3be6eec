// The tag write drainer: sends a shop's pending tag writes to Shopify and records every
// answer (outbox.server.ts has the state machine). Called by the writer job
// (jobs/tag-sync-writer.ts), one drainer per shop at a time (advisory lock).
//
// A drain pass:
// 1. takes the shop's drain lock and its Admin access (offline session);
// 2. skips removes of tags the app did not add;
// 3. recovers writes a crashed drainer left in flight: it reads the customers' current tags
//    from Shopify and records those already applied as done, so nothing is written twice;
//    the others go back to pending;
// 4. follows bulk operations still running (bulkOperation(id), or the bulk_operations row
//    the bulk_operations/finish webhook wrote) and records each line's result;
// 5. sends a large change (>= bulkThreshold writes of one action) as one bulk mutation:
//    stagedUploadsCreate, JSONL upload, bulkOperationRunMutation, then follows it;
// 6. sends the rest one tagsAdd / tagsRemove per write, paced on the shop's cost bucket
//    (app/shopify/cost-pacer.ts), with as many requests in flight as the restore rate
//    needs at the observed latency (at most maxInFlight): requests flow at the
//    bucket's restore rate instead of bursting into THROTTLED and sleeping.
// THROTTLED answers are re-sent when the bucket allows (they do not count as attempts);
// transient failures go back to pending with exponential backoff; userErrors and unknown
// customers are recorded as failed (the 250-tag limit as skipped); an invalid token, a
// missing session or a forbidden shop stops the pass and defers the shop's writes.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { getPool } from "../../db.server";
import { logger } from "../../logger.server";
import { TAGS_ADD, TAGS_REMOVE } from "../../shopify/admin-documents";
import { ShopifyAdmin, ShopifyAdminError, classifyAdminError, type AdminResult, type BulkOperationInfo, type UserError } from "../../shopify/admin-api.server";
import { HALT_DELAY_MS, PacedAdmin, backoffMs, type AdminPassStats } from "../../shopify/paced-admin.server";
import { isTagLimitError, tagKey } from "../../shopify/customer-tags";
import {
  attachBulkOperation,
  bulkWrites,
  claimDue,
  claimForBulk,
  countDue,
  deferShop,
  nextDueAt,
  openBulkOperations,
  orphanedWrites,
  recordOutcomes,
  skipRemovalsOfTagsNotAdded,
  tryLockShop,
  type Outcome,
  type TagWrite,
  type TagWriteAction,
} from "./outbox.server";

export type DrainOptions = {
  /** Writes of one action at or above which a bulk mutation is used (TAG_SYNC_BULK_THRESHOLD). */
  bulkThreshold: number;
  /**
   * At most this many requests in flight on the paced path. Within it the writer keeps just
   * enough in flight to reach the bucket's restore rate at the observed latency.
   */
  maxInFlight?: number;
  /** Writes claimed at a time on the paced path. */
  claimBatch?: number;
  /** A pass stops claiming after this long (other shops get their turn; the job continues later). */
  maxPassMs?: number;
  /** How often a running bulk operation is polled with bulkOperation(id). */
  bulkPollMs?: number;
  /** How long a pass waits for a bulk operation it follows before leaving it to a later pass. */
  bulkWaitMs?: number;
  /** Lines per bulk operation. */
  maxBulkLines?: number;
  /** Stops the pass early (worker shutdown). */
  shouldStop?: () => boolean;
};

export type DrainReport = AdminPassStats & {
  shop: string;
  /** False when another drainer held the shop (nothing was done). */
  locked: boolean;
  /** Why the pass stopped for the whole shop, if it did. */
  halted: ShopifyAdminError["kind"] | null;
  /** Writes sent one by one (tagsAdd / tagsRemove). */
  pacedWrites: number;
  recovered: { confirmed: number; requeued: number };
  recorded: Record<Outcome["kind"], number>;
  bulk: { submitted: string[]; finished: string[]; open: number };
  nextDueAt: Date | null;
  ms: number;
};

const DEFAULT_WRITE_COST = 10;

/** A write's outcome from a tagsAdd / tagsRemove payload. */
export function outcomeFromPayload(write: TagWrite, payload: { userErrors?: UserError[] | null } | null | undefined): Outcome {
  const errors = payload?.userErrors ?? [];
  if (errors.length === 0) return { id: write.id, kind: "done", outcome: { result: write.action === "add" ? "added" : "removed" } };
  const message = errors.map((e) => e.message).join("; ");
  if (write.action === "add" && errors.some((e) => isTagLimitError(e.message))) {
    return { id: write.id, kind: "skipped", outcome: { reason: "tag_limit", message } };
  }
  return { id: write.id, kind: "failed", error: message, outcome: { reason: "user_error", userErrors: errors } };
}

/** A write's outcome when Shopify does not know the customer. */
function notFoundOutcome(write: TagWrite, message: string): Outcome {
  // Nothing to remove from a customer that no longer exists: the wanted state holds.
  if (write.action === "remove") return { id: write.id, kind: "done", outcome: { result: "removed", customer: "not_found" } };
  return { id: write.id, kind: "failed", error: message, outcome: { reason: "not_found", message } };
}

/** A write's outcome from a failed request (undefined: THROTTLED, re-send when the bucket allows). */
function outcomeFromError(write: TagWrite, error: ShopifyAdminError): Outcome | undefined {
  switch (error.kind) {
    case "throttled":
      return undefined;
    case "transient":
      return { id: write.id, kind: "retry", error: error.message, delayMs: backoffMs(write.attempts), attempt: true };
    case "not_found":
      return notFoundOutcome(write, error.message);
    case "bad_request":
      return { id: write.id, kind: "failed", error: error.message, outcome: { reason: "rejected", message: error.message } };
    default:
      return { id: write.id, kind: "retry", error: error.message, delayMs: HALT_DELAY_MS, attempt: false };
  }
}

type BulkLine = { data?: Record<string, { userErrors?: UserError[] } | null> | null; errors?: { message?: string; extensions?: { code?: string } }[]; __lineNumber?: number };

/** A write's outcome from its line in a bulk mutation's result file. */
export function outcomeFromBulkLine(write: TagWrite, line: BulkLine): Outcome {
  const root = write.action === "add" ? "tagsAdd" : "tagsRemove";
  if (line.errors?.length) {
    const codes = line.errors.map((e) => e.extensions?.code ?? "");
    const message = line.errors.map((e) => e.message ?? "").join("; ");
    if (codes.includes("RESOURCE_NOT_FOUND") || /^invalid id$/i.test(message)) return notFoundOutcome(write, message);
    if (codes.some((c) => c === "THROTTLED" || c === "INTERNAL_SERVER_ERROR" || c === "TIMEOUT"))
      return { id: write.id, kind: "retry", error: message, delayMs: backoffMs(write.attempts), attempt: true };
    return { id: write.id, kind: "failed", error: message, outcome: { reason: "rejected", message } };
  }
  const outcome = outcomeFromPayload(write, line.data?.[root]);
  if (outcome.kind === "done") outcome.outcome.bulk = true;
  return outcome;
}

const FINISHED = new Set(["COMPLETED", "FAILED", "CANCELED", "EXPIRED"]);

class DrainPass {
  readonly report: DrainReport;
  private readonly admin: PacedAdmin;
  private writeCost = DEFAULT_WRITE_COST;
  private halted: ShopifyAdminError | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private flushError: unknown = null;
  private readonly started = Date.now();
  private readonly log;
  private readonly o: Required<Omit<DrainOptions, "shouldStop">> & Pick<DrainOptions, "shouldStop">;

  constructor(
    readonly shop: string,
    options: DrainOptions,
  ) {
    this.o = {
      maxInFlight: 32,
      claimBatch: 100,
      maxPassMs: 120_000,
      bulkPollMs: 2_000,
      bulkWaitMs: 60_000,
      maxBulkLines: 100_000,
      ...options,
    };
    this.log = logger.child({ shop });
    this.report = {
      shop,
      locked: true,
      halted: null,
      requests: 0,
      throttled: 0,
      transientErrors: 0,
      pacedWrites: 0,
      recovered: { confirmed: 0, requeued: 0 },
      recorded: { done: 0, skipped: 0, failed: 0, retry: 0 },
      bulk: { submitted: [], finished: [], open: 0 },
      costSpent: 0,
      lastThrottleStatus: null,
      nextDueAt: null,
      ms: 0,
    };
    this.admin = new PacedAdmin(shop, this.report);
  }

  private stopping(): boolean {
    return !!this.halted || !!this.o.shouldStop?.() || Date.now() - this.started > this.o.maxPassMs;
  }

  /** One paced request with retries for THROTTLED and transient failures (not for tag writes). */
  private call<T>(cost: number, fn: (admin: ShopifyAdmin) => Promise<AdminResult<T>>): Promise<AdminResult<T>> {
    return this.admin.call(cost, fn, { transientRetries: 3 });
  }

  private record(outcomes: Outcome[]) {
    if (outcomes.length === 0) return;
    this.flushing = this.flushing.then(async () => {
      try {
        const counts = await recordOutcomes(outcomes);
        for (const k of Object.keys(counts) as Outcome["kind"][]) this.report.recorded[k] += counts[k];
      } catch (error) {
        this.flushError ??= error;
      }
    });
  }

  private async settled() {
    await this.flushing;
    if (this.flushError) throw this.flushError;
  }

  async run(): Promise<void> {
    try {
      await this.admin.client();
      await skipRemovalsOfTagsNotAdded(this.shop);
      await this.recoverOrphans();
      for (const gid of await openBulkOperations(this.shop)) {
        if (this.stopping()) break;
        await this.followBulk(gid, 0);
      }
      const due = await countDue(this.shop);
      for (const action of ["add", "remove"] as const) {
        if (this.stopping() || due[action] < this.o.bulkThreshold) continue;
        const gid = await this.submitBulk(action);
        if (gid) await this.followBulk(gid, this.o.bulkWaitMs);
      }
      await this.pacedLoop();
    } catch (e) {
      const error = e instanceof ShopifyAdminError ? e : null;
      if (!error?.haltsShop) {
        await this.flushing;
        throw e;
      }
      this.halted = error;
    }
    await this.settled();
    if (this.halted) {
      this.report.halted = this.halted.kind;
      await deferShop(this.shop, HALT_DELAY_MS, `${this.halted.kind}: ${this.halted.message}`);
      this.log.warn({ kind: this.halted.kind, err: this.halted.message }, "tag_sync.shop_halted");
    }
    this.report.bulk.open = (await openBulkOperations(this.shop)).length;
    this.report.nextDueAt = await nextDueAt(this.shop);
    this.report.ms = Date.now() - this.started;
  }

  // ---------------------------------------------------------------- crash recovery

  /** Writes left in flight by a drainer that died: confirm against Shopify what already happened. */
  private async recoverOrphans() {
    const orphans = await orphanedWrites(this.shop);
    for (let i = 0; i < orphans.length; i += 250) {
      const chunk = orphans.slice(i, i + 250);
      const ids = [...new Set(chunk.map((w) => w.customerGid))];
      const { data: current } = await this.call(ids.length + 2, (a) => a.customerTags(ids));
      const outcomes: Outcome[] = chunk.map((w) => {
        const tags = current.get(w.customerGid);
        if (!tags) return notFoundOutcome(w, "customer not found in Shopify");
        const has = tags.some((t) => tagKey(t) === tagKey(w.tag));
        if ((w.action === "add") === has) {
          this.report.recovered.confirmed++;
          return { id: w.id, kind: "done", outcome: { result: w.action === "add" ? "added" : "removed", confirmedAfterRestart: true } };
        }
        this.report.recovered.requeued++;
        return { id: w.id, kind: "retry", error: null, delayMs: 0, attempt: false };
      });
      this.record(outcomes);
      await this.settled();
    }
    if (orphans.length) this.log.info({ orphans: orphans.length, ...this.report.recovered }, "tag_sync.orphans_recovered");
  }

  // ---------------------------------------------------------------- bulk path

  private async submitBulk(action: TagWriteAction): Promise<string | null> {
    const batch = randomUUID();
    const writes = await claimForBulk(this.shop, action, batch, this.o.maxBulkLines);
    if (writes.length === 0) return null;
    const release = (error: string, delayMs: number, attempt: boolean) =>
      this.record(writes.map((w) => ({ id: w.id, kind: "retry" as const, error, delayMs, attempt })));
    try {
      const filename = `tag-sync-${batch}.jsonl`;
      const body = `${writes.map((w) => JSON.stringify({ id: w.customerGid, tags: [w.tag] })).join("\n")}\n`;
      const staged = await this.call(DEFAULT_WRITE_COST, (a) =>
        a.stagedUploadsCreate([{ resource: "BULK_MUTATION_VARIABLES", filename, mimeType: "text/jsonl", httpMethod: "POST" }]),
      );
      const target = staged.data.stagedTargets?.[0];
      if (staged.data.userErrors.length || !target) throw new ShopifyAdminError("bad_request", `stagedUploadsCreate: ${staged.data.userErrors.map((e) => e.message).join("; ") || "no target"}`, { shop: this.shop });
      const admin = await this.admin.client();
      const stagedUploadPath = await admin.uploadStaged(target, { filename, mimeType: "text/jsonl", body });
      const run = await this.call(DEFAULT_WRITE_COST, (a) =>
        a.bulkOperationRunMutation({ mutation: action === "add" ? TAGS_ADD : TAGS_REMOVE, stagedUploadPath, clientIdentifier: `crm-tag-sync-${batch}` }),
      );
      const op = run.data.bulkOperation;
      if (run.data.userErrors.length || !op) {
        const busy = run.data.userErrors.some((e) => e.code === "OPERATION_IN_PROGRESS" || e.code === "LIMIT_REACHED");
        const message = `bulkOperationRunMutation: ${run.data.userErrors.map((e) => `${e.code ?? ""} ${e.message}`.trim()).join("; ") || "no operation"}`;
        release(message, busy ? 30_000 : backoffMs(writes[0]!.attempts), !busy);
        this.log.warn({ action, writes: writes.length, err: message }, "tag_sync.bulk_refused");
        return null;
      }
      await attachBulkOperation(this.shop, batch, op.id);
      this.report.bulk.submitted.push(op.id);
      this.log.info({ action, writes: writes.length, bulkOperation: op.id }, "tag_sync.bulk_submitted");
      return op.id;
    } catch (e) {
      const error = classifyAdminError(this.shop, e);
      release(error.message, error.haltsShop ? HALT_DELAY_MS : backoffMs(writes[0]!.attempts), !error.haltsShop);
      await this.settled();
      if (error.haltsShop) throw error;
      this.log.warn({ action, writes: writes.length, err: error.message, kind: error.kind }, "tag_sync.bulk_submit_failed");
      return null;
    }
  }

  /** Status from the bulk_operations/finish webhook, when it has arrived. */
  private async webhookStatus(gid: string): Promise<string | null> {
    const { rows } = await getPool().query<{ status: string | null }>(`SELECT status FROM bulk_operations WHERE shop = $1 AND gid = $2`, [this.shop, gid]);
    return rows[0]?.status?.toUpperCase() ?? null;
  }

  /** Follows a bulk operation for up to waitMs; records its results once it has finished. */
  private async followBulk(gid: string, waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    let nextPoll = Date.now();
    for (;;) {
      const hook = await this.webhookStatus(gid);
      if ((hook && FINISHED.has(hook)) || Date.now() >= nextPoll) {
        const { data: info } = await this.call(2, (a) => a.bulkOperation(gid));
        nextPoll = Date.now() + this.o.bulkPollMs;
        if (!info || FINISHED.has(info.status)) {
          await this.ingestBulk(gid, info);
          return true;
        }
      }
      if (Date.now() >= deadline || this.o.shouldStop?.()) return false;
      await sleep(Math.max(10, Math.min(250, nextPoll - Date.now())));
    }
  }

  private async ingestBulk(gid: string, info: BulkOperationInfo | null) {
    const url = info?.url ?? info?.partialDataUrl ?? null;
    let lines = 0;
    if (url) {
      const admin = await this.admin.client();
      let chunk: BulkLine[] = [];
      const flush = async () => {
        const byLine = new Map(chunk.map((l) => [l.__lineNumber!, l]));
        const writes = await bulkWrites(this.shop, gid, [...byLine.keys()]);
        this.record(writes.map((w) => outcomeFromBulkLine(w, byLine.get(w.bulkLine!)!)));
        await this.settled();
        chunk = [];
      };
      for await (const text of admin.bulkResultLines(url)) {
        const line = JSON.parse(text) as BulkLine;
        if (typeof line.__lineNumber !== "number") continue;
        chunk.push(line);
        lines++;
        if (chunk.length >= 1_000) await flush();
      }
      if (chunk.length) await flush();
    }
    // Lines without a result (a failed, canceled or expired operation) are sent again later.
    const rest = await bulkWrites(this.shop, gid, null);
    const why = `bulk operation ${gid} ${info ? info.status.toLowerCase() : "not found"}${info?.errorCode ? ` (${info.errorCode})` : ""} without a result for this write`;
    this.record(rest.map((w) => ({ id: w.id, kind: "retry" as const, error: why, delayMs: backoffMs(w.attempts), attempt: true })));
    await this.settled();
    this.report.bulk.finished.push(gid);
    this.log.info({ bulkOperation: gid, status: info?.status ?? null, lines, withoutResult: rest.length }, "tag_sync.bulk_finished");
  }

  // ---------------------------------------------------------------- paced path

  private async pacedLoop() {
    let queue: TagWrite[] = [];
    const inFlight = new Set<Promise<void>>();
    let results: Outcome[] = [];
    let lastFlush = Date.now();
    const flush = () => {
      this.record(results);
      results = [];
      lastFlush = Date.now();
    };
    // Requests in flight: the restore rate in requests/s times the observed latency, with headroom.
    let latencyS = 0.1;
    const inFlightLimit = (cost: number) => {
      const bucket = this.admin.pacer.bucket;
      if (!bucket) return 1;
      return Math.min(this.o.maxInFlight, Math.max(2, Math.ceil((bucket.restoreRate / cost) * latencyS * 1.5) + 1));
    };
    const send = async (admin: ShopifyAdmin, write: TagWrite, cost: number) => {
      const sentAt = performance.now();
      try {
        const r = write.action === "add" ? await admin.tagsAdd(write.customerGid, [write.tag]) : await admin.tagsRemove(write.customerGid, [write.tag]);
        this.admin.pacer.answered(cost, r.cost?.throttleStatus);
        this.admin.noteCost(r.cost);
        if (r.cost?.requestedQueryCost) this.writeCost = r.cost.requestedQueryCost;
        results.push(outcomeFromPayload(write, r.data));
        latencyS = 0.8 * latencyS + 0.2 * ((performance.now() - sentAt) / 1000);
      } catch (e) {
        const error = classifyAdminError(this.shop, e);
        this.admin.pacer.answered(cost, error.details.cost?.throttleStatus);
        this.admin.noteCost(error.details.cost);
        const outcome = outcomeFromError(write, error);
        if (!outcome) {
          this.report.throttled++;
          if (error.details.retryAfterMs) this.admin.pacer.pause(Date.now() + error.details.retryAfterMs);
          queue.unshift(write);
          return;
        }
        if (error.kind === "transient") this.report.transientErrors++;
        if (error.haltsShop) this.halted ??= error;
        results.push(outcome);
      }
    };

    for (;;) {
      if (results.length >= 100 || (results.length && Date.now() - lastFlush > 250)) flush();
      if (this.flushError) break;
      if (queue.length === 0) {
        if (this.stopping()) break;
        queue = await claimDue(this.shop, this.o.claimBatch);
        if (queue.length === 0) {
          if (inFlight.size === 0) break;
          await Promise.race(inFlight);
          continue;
        }
      }
      if (this.stopping()) break;
      if (inFlight.size >= inFlightLimit(this.writeCost)) {
        await Promise.race(inFlight);
        continue;
      }
      const cost = this.writeCost;
      const wait = this.admin.pacer.delayFor(cost);
      if (wait > 0) {
        await Promise.race([sleep(Math.min(wait, 250)), ...inFlight]);
        continue;
      }
      const admin = await this.admin.client();
      const write = queue.shift()!;
      this.admin.pacer.sent(cost);
      this.report.requests++;
      this.report.pacedWrites++;
      const p: Promise<void> = send(admin, write, cost).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    // Claimed but not sent (the pass stopped): back to pending, no attempt counted.
    const delay = this.halted ? HALT_DELAY_MS : 0;
    results.push(...queue.map((w) => ({ id: w.id, kind: "retry" as const, error: this.halted ? `${this.halted.kind}: ${this.halted.message}` : null, delayMs: delay, attempt: false })));
    flush();
    await this.settled();
  }
}

/**
 * Drains one shop's outbox (see the top of this file). Returns what happened; throws only
 * when the database fails (the job retries).
 */
export async function drainShop(shop: string, options: DrainOptions): Promise<DrainReport> {
  const lock = await tryLockShop(shop);
  const pass = new DrainPass(shop, options);
  if (!lock) return { ...pass.report, locked: false };
  try {
    await pass.run();
    return pass.report;
  } finally {
    await lock.release();
  }
}
