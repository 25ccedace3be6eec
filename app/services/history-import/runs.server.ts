// The history import's state in PostgreSQL (import_runs, import_run_objects): what survives a
// restart. One running run per shop (a partial unique index); per object type the bulk
// operation, its status (pending -> running -> staged -> merged), attempts and counts.
import type { Queryable } from "../../db.server";

export const OBJECT_TYPES = ["products", "customers", "orders"] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];
export type ObjectStatus = "pending" | "running" | "staged" | "merged";
export type RunState = "running" | "done" | "failed";

export type ImportObject = {
  objectType: ObjectType;
  status: ObjectStatus;
  bulkOperationGid: string | null;
  attempts: number;
  total: number | null;
  staged: number;
  merged: number;
  mergedThrough: number;
  lastError: string | null;
};

export type ImportRun = {
  id: string;
  shop: string;
  state: RunState;
  phase: "bulk" | "finalize" | "done";
  warning: string | null;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
  objects: Record<ObjectType, ImportObject>;
};

/** `crm import status` (issue 13): the run's state and the objects imported per type. */
export type ImportStatus = {
  state: RunState;
  customers: number;
  orders: number;
  products: number;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  /** Something the merchant must know though the import went on (a missing read_all_orders scope). */
  warning: string | null;
};

type RunRow = { id: string; shop: string; state: RunState; phase: ImportRun["phase"]; warning: string | null; error: string | null; started_at: Date; finished_at: Date | null };
type ObjectRow = {
  object_type: ObjectType;
  status: ObjectStatus;
  bulk_operation_gid: string | null;
  attempts: number;
  total: string | null;
  staged: string;
  merged: string;
  merged_through: string;
  last_error: string | null;
};

async function loadObjects(db: Queryable, runId: string): Promise<ImportRun["objects"]> {
  const { rows } = await db.query<ObjectRow>(`SELECT * FROM import_run_objects WHERE run_id = $1`, [runId]);
  const objects = {} as ImportRun["objects"];
  for (const r of rows) {
    objects[r.object_type] = {
      objectType: r.object_type,
      status: r.status,
      bulkOperationGid: r.bulk_operation_gid,
      attempts: r.attempts,
      total: r.total === null ? null : Number(r.total),
      staged: Number(r.staged),
      merged: Number(r.merged),
      mergedThrough: Number(r.merged_through),
      lastError: r.last_error,
    };
  }
  return objects;
}

function toRun(row: RunRow, objects: ImportRun["objects"]): ImportRun {
  return { id: row.id, shop: row.shop, state: row.state, phase: row.phase, warning: row.warning, error: row.error, startedAt: row.started_at, finishedAt: row.finished_at, objects };
}

export async function getRun(db: Queryable, runId: string): Promise<ImportRun | null> {
  const { rows } = await db.query<RunRow>(`SELECT * FROM import_runs WHERE id = $1`, [runId]);
  return rows[0] ? toRun(rows[0], await loadObjects(db, rows[0].id)) : null;
}

/** The shop's latest run (running or finished), or null. */
export async function getLatestRun(db: Queryable, shop: string): Promise<ImportRun | null> {
  const { rows } = await db.query<RunRow>(`SELECT * FROM import_runs WHERE shop = $1 ORDER BY id DESC LIMIT 1`, [shop]);
  return rows[0] ? toRun(rows[0], await loadObjects(db, rows[0].id)) : null;
}

export async function listRunningShops(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ shop: string }>(`SELECT shop FROM import_runs WHERE state = 'running' ORDER BY id`);
  return rows.map((r) => r.shop);
}

/** The running run of the shop, created (with its three object rows) when there is none. */
export async function ensureRunningRun(db: Queryable, shop: string): Promise<{ run: ImportRun; created: boolean }> {
  const inserted = await db.query<RunRow>(
    `INSERT INTO import_runs (shop) VALUES ($1) ON CONFLICT (shop) WHERE state = 'running' DO NOTHING RETURNING *`,
    [shop],
  );
  if (inserted.rows[0]) {
    await db.query(`INSERT INTO import_run_objects (run_id, object_type) SELECT $1, t FROM unnest($2::text[]) AS t`, [inserted.rows[0].id, [...OBJECT_TYPES]]);
    return { run: (await getRun(db, inserted.rows[0].id))!, created: true };
  }
  const { rows } = await db.query<RunRow>(`SELECT * FROM import_runs WHERE shop = $1 AND state = 'running'`, [shop]);
  return { run: toRun(rows[0]!, await loadObjects(db, rows[0]!.id)), created: false };
}

export async function updateObject(
  db: Queryable,
  runId: string,
  type: ObjectType,
  change: Partial<Pick<ImportObject, "status" | "bulkOperationGid" | "attempts" | "total" | "staged" | "merged" | "mergedThrough" | "lastError">>,
): Promise<void> {
  const columns: Record<string, unknown> = {
    status: change.status,
    bulk_operation_gid: change.bulkOperationGid,
    attempts: change.attempts,
    total: change.total,
    staged: change.staged,
    merged: change.merged,
    merged_through: change.mergedThrough,
    last_error: change.lastError,
  };
  const entries = Object.entries(columns).filter(([key]) => {
    const camel = key.replace(/_(\w)/g, (_m, c: string) => c.toUpperCase()) as keyof typeof change;
    return camel in change;
  });
  if (entries.length === 0) return;
  const sets = entries.map(([key], i) => `"${key}" = $${i + 3}`).join(", ");
  await db.query(`UPDATE import_run_objects SET ${sets}, updated_at = now() WHERE run_id = $1 AND object_type = $2`, [runId, type, ...entries.map(([, v]) => v)]);
}

export async function updateRun(db: Queryable, runId: string, change: { state?: RunState; phase?: ImportRun["phase"]; warning?: string | null; error?: string | null; finished?: boolean }): Promise<void> {
  await db.query(
    `UPDATE import_runs SET state = COALESCE($2, state), phase = COALESCE($3, phase),
            warning = CASE WHEN $4::boolean THEN $5 ELSE warning END, error = CASE WHEN $6::boolean THEN $7 ELSE error END,
            finished_at = CASE WHEN $8::boolean THEN now() ELSE finished_at END, updated_at = now()
      WHERE id = $1`,
    [runId, change.state ?? null, change.phase ?? null, "warning" in change, change.warning ?? null, "error" in change, change.error ?? null, change.finished ?? false],
  );
}

/** The status `crm import status` prints; null when the shop never imported. */
export function statusOf(run: ImportRun): ImportStatus {
  const count = (type: ObjectType) => {
    const o = run.objects[type];
    if (!o) return 0;
    return o.status === "merged" ? o.merged : Math.max(o.merged, o.staged);
  };
  return {
    state: run.state,
    customers: count("customers"),
    orders: count("orders"),
    products: count("products"),
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt ? run.finishedAt.toISOString() : null,
    error: run.error,
    warning: run.warning,
  };
}
