// "Replay all" at scale (decision 040): dead letters go back to the worker in batches of
// REPLAY_BATCH_SIZE, at most `limit` per request, oldest first; the result says how many
// remain, a repeated request replays the next ones and never an event twice, and another
// store's dead letters stay where they are. The CLI (no limit) replays every one, in batches.
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { replayEvents } from "../../app/services/event-replay.server";
import { REPLAY_ALL_LIMIT, replayDeadLetters } from "../../app/services/admin-pipeline.server";
import { closeQueues, getWebhookQueue } from "../../app/queues.server";
import { useIntegrationEnv } from "../support/env";

const SHOP = "replay-batches-a.myshopify.com";
const OTHER = "replay-batches-b.myshopify.com";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;

beforeAll(async () => {
  env = await useIntegrationEnv();
});

afterAll(async () => {
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

afterEach(() => {
  vi.restoreAllMocks();
});

beforeEach(async () => {
  await getPool().query("DELETE FROM webhook_events");
  await getWebhookQueue().obliterate({ force: true });
});

/** `n` dead letters of a shop, the i-th received i minutes after a fixed start; returns ids oldest first. */
async function seedDead(shop: string, n: number): Promise<string[]> {
  const { rows } = await getPool().query<{ id: string }>(
    `INSERT INTO webhook_events (shop, webhook_id, event_id, topic, api_version, received_at, payload, status, attempts, last_error)
     SELECT $1, $1 || '-dead-' || g, $1 || '-evt-' || g, 'customers/update', '2026-07',
            timestamptz '2026-01-01T00:00:00Z' + ($2::int - g) * interval '1 minute', '{}', 'dead', 8, 'boom'
       FROM generate_series(1, $2::int) g
     RETURNING id, received_at`,
    [shop, n],
  );
  const { rows: ordered } = await getPool().query<{ id: string }>(
    `SELECT id FROM webhook_events WHERE id = ANY($1::bigint[]) ORDER BY received_at, id`,
    [rows.map((r) => r.id)],
  );
  return ordered.map((r) => r.id);
}

function countBatches() {
  const original = pg.Client.prototype.query;
  const batches: number[] = [];
  vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    const [text, values] = args as [unknown, unknown[]];
    if (typeof text === "string" && text.includes("WITH batch AS")) batches.push(Number(values[4]));
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original);
  return batches;
}

describe("replay all, bounded and resumable", () => {
  it("replays at most `limit` per call in batches, oldest first, and says how many remain", async () => {
    const ids = await seedDead(SHOP, 250);
    const other = await seedDead(OTHER, 5);
    const batches = countBatches();
    const first = await replayEvents({ shop: SHOP, status: "dead", limit: 120, batchSize: 50 });
    expect(batches).toEqual([50, 50, 20]);
    expect(first).toMatchObject({ replayed: 120, remaining: 130, enqueued: true });
    expect(first.ids).toEqual(ids.slice(0, 120));
    const second = await replayEvents({ shop: SHOP, status: "dead", limit: 120, batchSize: 50 });
    expect(second).toMatchObject({ replayed: 120, remaining: 10 });
    expect(second.ids).toEqual(ids.slice(120, 240));
    const third = await replayEvents({ shop: SHOP, status: "dead", limit: 120, batchSize: 50 });
    expect(third).toMatchObject({ replayed: 10, remaining: 0 });
    expect(await replayEvents({ shop: SHOP, status: "dead", limit: 120, batchSize: 50 })).toMatchObject({ replayed: 0, remaining: 0 });
    vi.restoreAllMocks();

    // Every event replayed exactly once, and enqueued once.
    const { rows } = await getPool().query<{ id: string; status: string; replays: number }>(
      `SELECT id, status::text, replays FROM webhook_events WHERE shop = $1 ORDER BY id`,
      [SHOP],
    );
    expect(rows.every((r) => r.status === "received" && r.replays === 1)).toBe(true);
    expect(new Set([...first.ids, ...second.ids, ...third.ids]).size).toBe(250);
    expect(await getWebhookQueue().count()).toBe(250);
    const { rows: others } = await getPool().query(`SELECT status::text FROM webhook_events WHERE id = ANY($1::bigint[])`, [other]);
    expect(others.every((r) => r.status === "dead")).toBe(true);
  });

  it("an event dead-lettered again during the call is not replayed twice by it", async () => {
    const ids = await seedDead(SHOP, 30);
    const original = pg.Client.prototype.query;
    let done = false;
    vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      const [text, values, callback] = args as [unknown, unknown, unknown];
      if (!done && typeof text === "string" && text.includes("WITH batch AS") && typeof callback === "function") {
        done = true;
        // The worker fails the first replayed event again right after the first batch (the
        // pool calls the client with a callback: run the UPDATE before handing the result back).
        const next = callback as (error: unknown, result: unknown) => void;
        return (original as (...a: unknown[]) => unknown).call(this, text, values, (error: unknown, result: unknown) => {
          getPool()
            .query(`UPDATE webhook_events SET status = 'dead' WHERE id = $1`, [ids[0]])
            .then(() => next(error, result), (e: unknown) => next(e, undefined));
        });
      }
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original);
    const outcome = await replayEvents({ shop: SHOP, status: "dead", limit: 100, batchSize: 10 });
    vi.restoreAllMocks();
    expect(outcome.ids).toEqual(ids);
    expect(outcome.remaining).toBe(1); // the one that failed again waits for the next request
  });

  it("the Pipeline's replay-all replays REPLAY_ALL_LIMIT and audits it; the CLI's replays everything", async () => {
    await seedDead(SHOP, REPLAY_ALL_LIMIT + 30);
    const result = await replayDeadLetters({ shop: SHOP, actor: "owner@example.com" });
    expect(result).toEqual({ replayed: REPLAY_ALL_LIMIT, enqueued: true, scope: "all", remaining: 30, limit: REPLAY_ALL_LIMIT });
    const { rows } = await getPool().query(`SELECT details FROM audit_log WHERE shop = $1 AND action = 'webhook_events.replay'`, [SHOP]);
    expect(rows).toHaveLength(1);
    const next = await replayDeadLetters({ shop: SHOP, actor: "owner@example.com" });
    expect(next).toMatchObject({ replayed: 30, remaining: 0 });

    await getPool().query(`UPDATE webhook_events SET status = 'dead' WHERE shop = $1`, [SHOP]);
    const batches = countBatches();
    const cli = await replayEvents({ shop: SHOP, status: "dead" });
    vi.restoreAllMocks();
    expect(cli.replayed).toBe(REPLAY_ALL_LIMIT + 30);
    expect(Object.keys(cli).sort()).toEqual(["enqueued", "ids", "replayed"]); // the CLI's JSON is unchanged
    expect(batches.length).toBe(Math.ceil((REPLAY_ALL_LIMIT + 30) / 100) + 0);
  });
});
