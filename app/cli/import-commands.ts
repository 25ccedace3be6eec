// `crm import start|status` (issue 13, decision 045). Start runs the shop's import in this
// process, progress on stderr and the final status as JSON on stdout; when a worker already
// runs it, the command follows the worker's progress instead. Exit 0 when the import is done.
import { getEnv } from "../env.server";
import { getImportStatus, runImport, startImport, type ImportStatus } from "../services/history-import/import.server";

export class ImportFailedError extends Error {
  override name = "ImportFailedError";
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function progressLine(s: ImportStatus): string {
  return `import ${s.state}: customers ${s.customers}, orders ${s.orders}, products ${s.products}`;
}

/** Runs (or follows) the shop's import to its end; returns the final status. Throws ImportFailedError when it failed. */
export async function importStart(shop: string, write: (value: unknown) => void): Promise<void> {
  await startImport(shop);
  let last = "";
  const report = (s: ImportStatus) => {
    const line = progressLine(s);
    if (line !== last) process.stderr.write(`${line}\n`);
    last = line;
  };
  let result = await runImport(shop, { pollMs: getEnv().IMPORT_POLL_INTERVAL_MS, onProgress: report });
  let status = result.status;
  // A worker holds the run: follow it until it ends.
  while (result.outcome === "busy" || status?.state === "running") {
    await sleep(1_000);
    status = await getImportStatus(shop);
    if (status) report(status);
    if (status && status.state !== "running") break;
    result = { outcome: "busy", status };
  }
  if (!status) throw new ImportFailedError(`no import found for ${shop}`);
  if (status.warning) process.stderr.write(`warning: ${status.warning}\n`);
  write(status);
  if (status.state === "failed") throw new ImportFailedError(`import failed: ${status.error ?? "unknown error"}`);
}

/** The latest import's status (state `failed` with an explaining error when the shop never imported). */
export async function importStatus(shop: string, write: (value: unknown) => void): Promise<void> {
  const status = await getImportStatus(shop);
  write(status ?? { state: "failed", customers: 0, orders: 0, products: 0, startedAt: null, finishedAt: null, error: "no import has been started for this shop", warning: null });
}
