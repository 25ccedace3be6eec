// What the admin's Sync page shows (issue 13): the history import's progress per object type,
// the last reconciliation and its repairs, webhook deliveries per topic, lag, dead letters and
// the cross-check's mismatches. Plain data (strings already formatted for the shop), built by
// app/services/admin-sync.server.ts; the progress arithmetic is here and pure.

export const IMPORT_OBJECT_TYPES = ["customers", "orders", "products"] as const;
export type ImportObjectType = (typeof IMPORT_OBJECT_TYPES)[number];

/** One object type's import row as stored (import_run_objects). */
export type ImportObjectFacts = {
  objectType: ImportObjectType;
  status: "pending" | "running" | "staged" | "merged";
  /** Shopify's count at the start, replaced by the file's line count once staged; null when unknown. */
  total: number | null;
  staged: number;
  merged: number;
};

export type ImportProgressRow = {
  objectType: ImportObjectType;
  label: string;
  /** What the step is doing, in words: "Waiting for Shopify", "Reading the file", "Saving", "Done". */
  step: string;
  done: number;
  total: number | null;
  /** 0..100, null when the total is unknown. */
  percent: number | null;
  doneText: string;
  /** Objects per second over the run so far, formatted; null before anything moved. */
  rate: string | null;
  /** Time left at that rate; null when unknown or done. */
  timeLeft: string | null;
};

const LABELS: Record<ImportObjectType, string> = { customers: "Customers", orders: "Orders", products: "Products" };
const STEPS: Record<ImportObjectFacts["status"], string> = {
  pending: "Waiting to start",
  running: "Shopify is preparing the file",
  staged: "Saving into the CRM",
  merged: "Done",
};

/** How many objects of the type are saved into the CRM (the bar's measure). */
export function importDone(o: ImportObjectFacts): number {
  if (o.status === "merged") return Math.max(o.merged, o.total ?? 0);
  if (o.status === "staged") return o.merged;
  return 0;
}

export type ProgressFormat = { count: (n: number) => string; decimal: (n: number) => string; duration: (seconds: number) => string | null };

/**
 * The progress rows. Progress counts saved objects (merged) against the total; while the file
 * is read (running, staged rows growing) the rate is of rows read. `elapsedSeconds` is the
 * run's time so far (the rate is over the whole run: bulk operations wait on Shopify first).
 */
export function importProgressRows(objects: readonly ImportObjectFacts[], elapsedSeconds: number, fmt: ProgressFormat, running: boolean): ImportProgressRow[] {
  return IMPORT_OBJECT_TYPES.flatMap((type) => {
    const o = objects.find((x) => x.objectType === type);
    if (!o) return [];
    const total = o.total === null ? null : Math.max(o.total, o.merged);
    const done = importDone(o);
    const moving = o.status === "running" && o.staged > 0 ? o.staged : done;
    const perSecond = elapsedSeconds > 0 && moving > 0 ? moving / elapsedSeconds : null;
    const percent = total === null ? null : total === 0 ? (o.status === "merged" ? 100 : 0) : Math.min(100, Math.round((done / total) * 100));
    const left = total !== null && perSecond !== null && running && o.status !== "merged" ? Math.max(0, total - done) / perSecond : null;
    return [
      {
        objectType: type,
        label: LABELS[type],
        step: o.status === "running" && o.staged > 0 ? "Reading the file" : STEPS[o.status],
        done,
        total,
        percent,
        doneText: `${total === null ? fmt.count(done) : `${fmt.count(done)} of ${fmt.count(total)}`} saved${o.staged > done ? `, ${fmt.count(o.staged)} read` : ""}`,
        rate: perSecond === null ? null : `${fmt.decimal(perSecond)} per second`,
        timeLeft: left === null ? null : fmt.duration(left),
      },
    ];
  });
}

export type SyncImportView = {
  state: "running" | "done" | "failed";
  stateLabel: string;
  startedAt: string;
  finishedAt: string | null;
  duration: string | null;
  error: string | null;
  rows: ImportProgressRow[];
};

export type SyncRepairView = { id: string; objectType: string; gid: string; action: string; reason: string; at: string };

export type SyncReconcileView = {
  state: string;
  trigger: string;
  startedAt: string;
  finishedAt: string | null;
  checked: string;
  repaired: string;
  error: string | null;
  repairs: SyncRepairView[];
};

export type CrossCheckRow = {
  customerGid: string;
  customerName: string;
  customerId: string | null;
  localOrders: string;
  shopifyOrders: string;
  localSpent: string;
  shopifySpent: string;
  /** Why they differ when a documented choice of the CRM accounts for it; null: unexplained. */
  explanation: string | null;
};

export type SyncOverview = {
  import: SyncImportView | null;
  /** The missing read_all_orders scope (or another warning the import recorded). */
  importWarning: string | null;
  reconcile: SyncReconcileView | null;
  webhooks24h: { topic: string; count: string }[];
  webhooksTotal24h: string;
  lag: { samples: number; average: string | null; max: string | null; pending: string; oldestPending: string | null };
  deadLetters: { count: number; text: string };
  crossCheck: { rows: CrossCheckRow[]; total: number; page: number; pages: number; readAt: string | null };
  generatedAt: string;
};
