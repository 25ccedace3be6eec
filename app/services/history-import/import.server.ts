// The history import (issue 13, decision 045): bulk queries for products, customers and
// orders run at once; each result file is streamed into staging when its operation completes
// (bulk_operations/finish, recorded by the worker in bulk_operations, or polling as the
// fallback), merged set-based into the CRM tables, and then aggregates, RFM groups, tiers and
// segments are recomputed. Every step's progress is in import_runs / import_run_objects, so a
// process killed at any point resumes where the last committed step ended (a staging cut off
// is redone from the start of its file; merges are keyed and guarded, so redoing one changes
// nothing). One process works on a shop's run at a time (a session advisory lock, released by
// PostgreSQL when the process dies).
import type pg from "pg";
import { getPool, withConnection, withTransaction } from "../../db.server";
import { logger } from "../../logger.server";
import { getShopifyAdmin, ShopifyAdminError, type ShopifyAdmin } from "../../shopify/admin-api.server";
import { IMPORT_CUSTOMERS_QUERY, IMPORT_ORDERS_QUERY, IMPORT_PRODUCTS_QUERY } from "../../shopify/admin-documents";
import { finalizeImport } from "./finalize.server";
import { MERGE_CHUNK, mergeCustomers, mergeOrders, mergeProducts, stagedThrough } from "./merge.server";
import {
  OBJECT_TYPES,
  ensureRunningRun,
  getLatestRun,
  getRun,
  statusOf,
  updateObject,
  updateRun,
  type ImportRun,
  type ImportStatus,
  type ObjectType,
} from "./runs.server";
import { StagingError, clearStaging, stageLines } from "./stage.server";

export type { ImportStatus } from "./runs.server";

const QUERIES: Record<ObjectType, string> = { products: IMPORT_PRODUCTS_QUERY, customers: IMPORT_CUSTOMERS_QUERY, orders: IMPORT_ORDERS_QUERY };
/** Bulk operations of one type started per run before the import fails (a failed or expired operation is retried). */
export const MAX_BULK_ATTEMPTS = 3;
const TICK_MS = 250;
const MERGED_TABLES: Record<ObjectType, readonly string[]> = {
  customers: ["customers", "customer_tags"],
  orders: ["orders", "line_items", "refunds", "customers"],
  products: ["products"],
};

export const READ_ALL_ORDERS_WARNING =
  "read_all_orders is not granted: Shopify returns only the orders of the last 60 days, so older orders were not imported. " +
  "Grant the read_all_orders scope and run the import again.";

/**
 * Starts the shop's history import (embedded install, `crm shop connect`, `crm import start`):
 * creates the run unless one is running. The worker's import job picks it up (and resumes
 * it after a restart); `runImport` runs it in the calling process.
 */
export async function startImport(shop: string): Promise<{ runId: string; created: boolean }> {
  const { run, created } = await ensureRunningRun(getPool(), shop);
  if (created) logger.info({ shop, runId: run.id }, "import.started");
  return { runId: run.id, created };
}

/**
 * The install hook's start: imports unless the shop has a run that is running or done (a
 * reinstall after a failed import tries again; `crm import start` re-imports on demand).
 */
export async function startImportOnInstall(shop: string): Promise<{ runId: string; created: boolean } | null> {
  const latest = await getLatestRun(getPool(), shop);
  if (latest && latest.state !== "failed") return latest.state === "running" ? { runId: latest.id, created: false } : null;
  return startImport(shop);
}

/** `crm import status`: the latest run's status, or null when the shop never imported. */
export async function getImportStatus(shop: string): Promise<ImportStatus | null> {
  const run = await getLatestRun(getPool(), shop);
  return run ? statusOf(run) : null;
}

export type RunImportOptions = {
  /** How often a running bulk operation is polled when no bulk_operations/finish arrived (default 5 s). */
  pollMs?: number;
  /** Progress, after every step. */
  onProgress?: (status: ImportStatus) => void;
  /** Stops between steps (the run stays `running` and resumes later). */
  signal?: AbortSignal;
  /** Staged rows merged per transaction, per object type (default MERGE_CHUNK). */
  chunk?: Partial<Record<ObjectType, number>>;
  /** Test hook: runs before each step (a test kills the process here). */
  beforeStep?: (step: string) => Promise<void> | void;
};

export type RunImportResult = { outcome: "done" | "failed" | "busy" | "stopped" | "none"; status: ImportStatus | null };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lockKey = (shop: string) => `history-import:${shop}`;

/** Whether the shop's offline session lacks read_all_orders (null: no session to tell). */
async function missingReadAllOrders(shop: string): Promise<boolean | null> {
  const { rows } = await getPool().query<{ scope: string | null }>(`SELECT scope FROM "Session" WHERE shop = $1 AND NOT "isOnline" ORDER BY id LIMIT 1`, [shop]);
  if (!rows[0] || rows[0].scope === null) return null;
  return !rows[0].scope.split(",").map((s) => s.trim()).includes("read_all_orders");
}

/**
 * Runs the shop's running import to its end in this process (or until `signal`). Returns
 * `busy` when another process holds the run, `none` when no run is running.
 */
export async function runImport(shop: string, options: RunImportOptions = {}): Promise<RunImportResult> {
  const pool = getPool();
  return withConnection(pool, async (lockClient) => {
    const { rows } = await lockClient.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok`, [lockKey(shop)]);
    if (!rows[0]?.ok) return { outcome: "busy", status: await getImportStatus(shop) };
    try {
      return await runLocked(pool, shop, options);
    } finally {
      await lockClient.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [lockKey(shop)]);
    }
  });
}

async function runLocked(pool: pg.Pool, shop: string, options: RunImportOptions): Promise<RunImportResult> {
  const pollMs = options.pollMs ?? 5_000;
  const lastPoll = new Map<ObjectType, number>();
  let run = await getRunningRun(shop);
  if (!run) return { outcome: "none", status: await getImportStatus(shop) };
  const log2 = logger.child({ shop, runId: run.id });

  if ((await missingReadAllOrders(shop)) === true && run.warning === null) {
    await updateRun(pool, run.id, { warning: READ_ALL_ORDERS_WARNING });
    log2.warn("import.read_all_orders_missing");
  }
  if (OBJECT_TYPES.some((t) => run!.objects[t].total === null && run!.objects[t].status === "pending")) await recordTotals(pool, run, log2);
  const progress = async () => {
    const fresh = await getRun(pool, run!.id);
    if (fresh) options.onProgress?.(statusOf(fresh));
    return fresh!;
  };

  const fail = async (message: string): Promise<RunImportResult> => {
    await updateRun(pool, run!.id, { state: "failed", error: message, finished: true });
    log2.error({ error: message }, "import.failed");
    const fresh = await progress();
    return { outcome: "failed", status: statusOf(fresh) };
  };

  for (;;) {
    if (options.signal?.aborted) return { outcome: "stopped", status: statusOf(await progress()) };
    run = (await getRun(pool, run.id))!;
    if (run.state !== "running") return { outcome: run.state === "done" ? "done" : "failed", status: statusOf(run) };

    if (run.phase === "finalize") {
      await options.beforeStep?.("finalize");
      const report = await finalizeImport(shop);
      await updateRun(pool, run.id, { state: "done", phase: "done", finished: true });
      log2.info({ ...report }, "import.done");
      return { outcome: "done", status: statusOf(await progress()) };
    }

    let admin: ShopifyAdmin | null = null;
    const adminFor = async () => (admin ??= await getShopifyAdmin(shop));
    let moved = false;
    try {
      for (const type of OBJECT_TYPES) {
        const o = run.objects[type];
        if (o.status === "pending") {
          await options.beforeStep?.(`start:${type}`);
          if (o.attempts >= MAX_BULK_ATTEMPTS) return await fail(`the ${type} bulk operation failed ${o.attempts} times: ${o.lastError ?? "unknown error"}`);
          const started = await (await adminFor()).bulkOperationRunQuery(QUERIES[type]);
          const op = started.data.bulkOperation;
          if (!op) {
            const inProgress = started.data.userErrors.some((e) => e.code === "OPERATION_IN_PROGRESS");
            // Another bulk query of the app is running: start this one when it has ended.
            if (inProgress) continue;
            return await fail(`Shopify refused the ${type} bulk query: ${started.data.userErrors.map((e) => e.message).join("; ")}`);
          }
          await updateObject(pool, run.id, type, { status: "running", bulkOperationGid: op.id, attempts: o.attempts + 1 });
          log2.info({ type, bulkOperation: op.id }, "import.bulk_started");
          moved = true;
        } else if (o.status === "running" && o.bulkOperationGid) {
          const finished = await finishedByWebhook(shop, o.bulkOperationGid);
          const due = (lastPoll.get(type) ?? 0) + pollMs <= Date.now();
          if (!finished && !due) continue;
          lastPoll.set(type, Date.now());
          const info = (await (await adminFor()).bulkOperation(o.bulkOperationGid)).data;
          const status = info?.status ?? "EXPIRED";
          if (status === "COMPLETED") {
            await options.beforeStep?.(`stage:${type}`);
            const url = info?.url ?? null;
            const lines = url ? (await adminFor()).bulkResultLines(url, { timeoutMs: null }) : emptyLines();
            let staged: number;
            try {
              staged = await stageLines(pool, run.id, type, lines, async (n) => {
                await updateObject(pool, run!.id, type, { staged: n });
                options.onProgress?.(statusOf({ ...run!, objects: { ...run!.objects, [type]: { ...o, staged: n } } }));
              });
            } catch (error) {
              // The file is gone (expired link) or unreadable for now: run the bulk query again.
              if (error instanceof ShopifyAdminError && !error.haltsShop) {
                await updateObject(pool, run.id, type, { status: "pending", lastError: error.message });
                log2.warn({ type, err: error }, "import.bulk_download_failed");
                moved = true;
                continue;
              }
              throw error;
            }
            await updateObject(pool, run.id, type, { status: "staged", staged, total: staged });
            log2.info({ type, staged }, "import.staged");
            moved = true;
          } else if (status === "FAILED" || status === "CANCELED" || status === "EXPIRED") {
            const reason = `bulk operation ${o.bulkOperationGid} ${status.toLowerCase()}${info?.errorCode ? ` (${info.errorCode})` : ""}`;
            await updateObject(pool, run.id, type, { status: "pending", lastError: reason });
            log2.warn({ type, reason }, "import.bulk_retry");
            moved = true;
          }
        } else if (o.status === "staged") {
          await mergeStaged(pool, shop, run, type, options);
          moved = true;
        }
      }
    } catch (error) {
      if (error instanceof StagingError) return await fail(error.message);
      if (error instanceof ShopifyAdminError) {
        if (error.haltsShop || error.kind === "bad_request" || error.kind === "not_found") return await fail(`Shopify: ${error.message}`);
        // Throttled or transient: the next round tries again.
        log2.warn({ err: error }, "import.shopify_retry");
        await sleep(error.details.retryAfterMs ?? pollMs);
        continue;
      }
      throw error;
    }

    run = (await getRun(pool, run.id))!;
    if (OBJECT_TYPES.every((t) => run!.objects[t].status === "merged")) {
      await updateRun(pool, run.id, { phase: "finalize" });
      continue;
    }
    if (moved) await progress();
    else await sleep(TICK_MS);
  }
}

/**
 * Stores the shop's customersCount / ordersCount / productsCount as each object's total when
 * the run starts, so the Sync page shows progress before the files are read (the staged count
 * replaces it once a file is staged). Best effort: without it the page shows counts only.
 */
async function recordTotals(pool: pg.Pool, run: ImportRun, log: typeof logger): Promise<void> {
  try {
    const totals = (await (await getShopifyAdmin(run.shop)).importTotals()).data;
    for (const type of OBJECT_TYPES) if (run.objects[type].total === null) await updateObject(pool, run.id, type, { total: totals[type] });
  } catch (error) {
    log.warn({ err: error }, "import.totals_unavailable");
  }
}

async function* emptyLines(): AsyncGenerator<string> {}

async function getRunningRun(shop: string): Promise<ImportRun | null> {
  const run = await getLatestRun(getPool(), shop);
  return run && run.state === "running" ? run : null;
}

/** Whether bulk_operations/finish said the operation ended (the worker stores it in bulk_operations). */
async function finishedByWebhook(shop: string, gid: string): Promise<boolean> {
  const { rows } = await getPool().query<{ status: string | null }>(`SELECT status FROM bulk_operations WHERE shop = $1 AND gid = $2`, [shop, gid]);
  const status = rows[0]?.status?.toUpperCase();
  return status !== undefined && status !== "CREATED" && status !== "RUNNING" && status !== "CANCELING";
}

/** Merges the staged rows of `type` chunk by chunk; each chunk and its progress commit together. */
async function mergeStaged(pool: pg.Pool, shop: string, run: ImportRun, type: ObjectType, options: RunImportOptions): Promise<void> {
  const o = run.objects[type];
  const through = await stagedThrough(pool, run.id, type);
  let after = o.mergedThrough;
  let merged = o.merged;
  const merge = type === "customers" ? mergeCustomers : type === "orders" ? mergeOrders : mergeProducts;
  let chunks = 0;
  while (after < through) {
    // The tables grow from nothing to millions of rows during the merge: statistics taken as
    // they grow keep the plans of the chunk statements on their indexes (this PostgreSQL may
    // run with autovacuum off; the worker's statistics keeper may not run in this process).
    // Taken when the merged rows have doubled (after chunk 1, 2, 4, 8, ...): plans made on the
    // empty tables would scan them whole in every chunk, which grows with the square of the store.
    const n = chunks++;
    if ((n & (n - 1)) === 0) for (const table of MERGED_TABLES[type]) await pool.query(`ANALYZE ${table}`);
    if (options.signal?.aborted) return;
    await options.beforeStep?.(`merge:${type}`);
    const to = Math.min(through, after + (options.chunk?.[type] ?? MERGE_CHUNK[type]));
    const from = after;
    await withTransaction(async (db) => {
      const n = await merge(db, shop, run.id, from, to);
      merged += n;
      await updateObject(db, run.id, type, { mergedThrough: to, merged });
    });
    after = to;
    options.onProgress?.(statusOf({ ...run, objects: { ...run.objects, [type]: { ...o, merged, mergedThrough: after } } }));
  }
  await withTransaction(async (db) => {
    await updateObject(db, run.id, type, { status: "merged", merged });
    await clearStaging(db, run.id, type);
  });
}
