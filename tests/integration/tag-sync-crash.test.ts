// A worker process killed (SIGKILL) in the middle of draining a tag sync: after the restart,
// every intended write is recorded exactly once and Shopify (the twin) applied each exactly
// once. The kill is timed while the worker is frozen (SIGSTOP) at a moment where Shopify has
// applied writes the worker had not yet recorded: the case where a blind retry would write
// twice.
import { afterAll, beforeAll, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { reconcileSegmentTagSync } from "../../app/services/tag-sync/reconcile.server";
import { drainShop, type DrainReport } from "../../app/services/tag-sync/writer.server";
import { closeQueues, closeTagSyncQueue } from "../../app/queues.server";
import { childProcessEnv, useIntegrationEnv } from "../support/env";
import { spawnChild, NODE_TSX, waitUntil, type ChildHandle } from "../support/pipeline";
import type { AdminTwin } from "../twin/admin-graphql";
import { appAddedTags, countBy, createSegment, seedLocalCustomers, setMembers, startTwinForShop, storeOfflineSession, twinTags, writes, type TwinProxy } from "./tag-sync.support";

const SHOP = "tag-sync-crash.myshopify.com";
const TAG = "crm:crash-test";
const MEMBERS = 150;

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
let twin: AdminTwin;
let proxy: TwinProxy;
let gids: string[];
let worker: ChildHandle | undefined;

beforeAll(async () => {
  // 200 points/s: 20 tagsAdd (10 points each) per second once the 200-point bucket is spent.
  ({ twin, proxy, gids } = await startTwinForShop(SHOP, MEMBERS, { bucket: { maximumAvailable: 200, restoreRate: 200 } }));
  env = await useIntegrationEnv({ SHOPIFY_TWIN_URL: proxy.url });
  await storeOfflineSession(SHOP);
  await seedLocalCustomers(SHOP, gids);
});

afterAll(async () => {
  worker?.killGroup("SIGKILL");
  await proxy?.close();
  await twin?.close();
  await closeTagSyncQueue();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

async function doneCount(): Promise<number> {
  const { rows } = await getPool().query<{ n: string }>(`SELECT count(*) AS n FROM tag_writes WHERE shop = $1 AND status = 'done'`, [SHOP]);
  return Number(rows[0]!.n);
}

it("a worker killed mid-drain loses and duplicates nothing", { timeout: 300_000 }, async () => {
  const segment = await createSegment(SHOP, "crash", TAG);
  await setMembers(SHOP, segment, gids);
  expect((await reconcileSegmentTagSync(SHOP, segment)).queuedAdds).toBe(MEMBERS);

  worker = spawnChild(
    NODE_TSX[0],
    [...NODE_TSX[1], "jobs/worker.ts"],
    childProcessEnv({ TAG_SYNC_SWEEP_INTERVAL_MS: "200", TAG_SYNC_BULK_THRESHOLD: "100000", LOG_LEVEL: "warn" }),
  );
  await waitUntil(async () => proxy.applied.add.size >= 40, { timeoutMs: 120_000, what: "the worker to apply 40 writes" });

  // Freeze the worker, let what it already sent land, and kill it only if Shopify applied
  // writes it has not recorded; otherwise let it run a little and try again.
  let killedWith: { applied: number; done: number } | undefined;
  for (let i = 0; i < 50 && !killedWith; i++) {
    worker.killGroup("SIGSTOP");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const applied = proxy.applied.add.size;
    const done = await doneCount();
    if (applied > done && applied < MEMBERS) {
      worker.killGroup("SIGKILL");
      killedWith = { applied, done };
    } else {
      worker.killGroup("SIGCONT");
      await new Promise((resolve) => setTimeout(resolve, 20 + i * 7));
    }
  }
  expect(killedWith, `worker stderr: ${worker.stderr().slice(-2_000)}`).toBeDefined();
  expect((await worker.exited).signal).toBe("SIGKILL");
  worker = undefined;
  const orphans = (await writes(SHOP)).filter((w) => w.status === "in_flight").length;
  expect(orphans).toBeGreaterThanOrEqual(killedWith!.applied - killedWith!.done);

  // Restart: drain until nothing is open.
  const reports: DrainReport[] = [];
  await waitUntil(
    async () => {
      reports.push(await drainShop(SHOP, { bulkThreshold: 100_000 }));
      return (await writes(SHOP)).every((w) => w.status !== "pending" && w.status !== "in_flight");
    },
    { timeoutMs: 120_000, intervalMs: 100, what: "the restarted drain to finish" },
  );
  // (The dead worker's database session, and with it the shop's drain lock, may take a moment to go.)
  const first = reports.find((r) => r.locked)!;
  // Every write the dead worker left in flight was checked against Shopify: those it had
  // applied are recorded as done without being sent again, the others were re-sent.
  expect(first.recovered.confirmed + first.recovered.requeued).toBe(orphans);
  expect(first.recovered.confirmed).toBeGreaterThanOrEqual(killedWith!.applied - killedWith!.done);

  const rows = await writes(SHOP);
  expect(countBy(rows, (w) => w.status)).toEqual({ done: MEMBERS });
  expect(rows.filter((w) => w.outcome?.confirmedAfterRestart === true)).toHaveLength(first.recovered.confirmed);
  expect(await appAddedTags(SHOP)).toHaveLength(MEMBERS);
  for (const g of gids) {
    expect(twinTags(twin, SHOP, g)).toContain(TAG);
    expect(proxy.appliedCount("add", g, TAG)).toBe(1);
  }
  expect(proxy.errors).toEqual([]);
});
