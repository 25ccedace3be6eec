// Connections and timeouts (issue 11, item 1). pg's client-side query_timeout does not stop
// the statement on the server, and the ROLLBACK queued behind it times out too: a pool that
// took such a connection back handed the next borrower a connection still inside the old
// transaction, whose writes were never committed (an inbox insert answered 200 and lost).
// Here: server-side statement limits per pool and per transaction, a connection that saw an
// error or a timeout destroyed, and the ingress on a pool of its own.
//
// Limits of this file: the main pool has ONE connection, statements are cancelled by the
// server after 400 ms and the client gives up after 600 ms; the ingress pool has 2.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool, withTransaction } from "../../app/db.server";
import { tryLockShop } from "../../app/services/tag-sync/outbox.server";
import { closeQueues } from "../../app/queues.server";
import { useIntegrationEnv } from "../support/env";
import { customerPayload } from "../support/factories";
import { deliver, waitUntil } from "../support/pipeline";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
/** A connection outside the app's pools: what any other session sees (committed data only). */
let outside: pg.Client;

const STATEMENT_TIMEOUT_MS = 400;
const QUERY_TIMEOUT_MS = 600;

beforeAll(async () => {
  env = await useIntegrationEnv({
    DATABASE_POOL_SIZE: "1",
    DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
    DATABASE_INGRESS_POOL_SIZE: "2",
    DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: "1000",
  });
  outside = new pg.Client({ connectionString: env.DATABASE_URL });
  await outside.connect();
  await outside.query(`CREATE TABLE test_writes (id serial PRIMARY KEY, label text NOT NULL)`);
});

afterAll(async () => {
  await outside?.end();
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sessions of this database (other than `outside`) left open inside a transaction. */
async function sessionsInTransaction(): Promise<number> {
  const { rows } = await outside.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'`,
  );
  return rows[0]!.n;
}

async function committedLabels(): Promise<string[]> {
  return (await outside.query<{ label: string }>(`SELECT label FROM test_writes ORDER BY id`)).rows.map((r) => r.label);
}

/** A statement in one transaction that runs past both timeouts, as on a server without a statement limit. */
async function transactionOutlivingTheClient(seconds: number): Promise<unknown> {
  return withTransaction(async (db) => {
    await db.query(`INSERT INTO test_writes (label) VALUES ('half-done')`);
    await db.query(`SET LOCAL statement_timeout = 0`);
    await db.query(`SELECT pg_sleep(${seconds})`);
  }).then(
    () => new Error("expected the transaction to fail"),
    (error: unknown) => error,
  );
}

describe("the main pool", () => {
  it("a transaction whose statement outlives the client's timeout does not hand its connection to the next borrower, whose write is durable", async () => {
    // 1.5 s: longer than twice the client timeout, so the queued ROLLBACK times out as well.
    const error = await transactionOutlivingTheClient(1.5);
    expect(String(error)).toMatch(/Query read timeout/);
    // The next borrower of the (one-connection) pool writes, outside any transaction of its own.
    await getPool().query(`INSERT INTO test_writes (label) VALUES ('next borrower')`);
    expect(await committedLabels()).toEqual(["next borrower"]);
    expect(await sessionsInTransaction()).toBe(0);
    // And the half-done write of the failed transaction is never committed by anyone.
    await waitUntil(async () => (await outside.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'`)).rowCount === 0, {
      what: "the abandoned statement to end on the server",
    });
    await getPool().query(`SELECT 1`);
    expect(await committedLabels()).toEqual(["next borrower"]);
    await outside.query(`TRUNCATE test_writes`);
  });

  it("PostgreSQL cancels a statement longer than DATABASE_STATEMENT_TIMEOUT_MS, before the client gives up", async () => {
    const started = Date.now();
    const error = await withTransaction((db) => db.query(`SELECT pg_sleep(3)`)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "57014" }); // query_canceled: "canceling statement due to statement timeout"
    expect(Date.now() - started).toBeLessThan(QUERY_TIMEOUT_MS);
    expect(await sessionsInTransaction()).toBe(0);
  });

  it("a transaction can set a tighter statement limit of its own, for itself only", async () => {
    const inside = await withTransaction(async (db) => (await db.query<{ statement_timeout: string }>(`SHOW statement_timeout`)).rows[0]!.statement_timeout, { statementTimeoutMs: 150 });
    expect(inside).toBe("150ms");
    const after = (await getPool().query<{ statement_timeout: string }>(`SHOW statement_timeout`)).rows[0]!.statement_timeout;
    expect(after).toBe(`${STATEMENT_TIMEOUT_MS}ms`);
    const error = await withTransaction((db) => db.query(`SELECT pg_sleep(0.3)`), { statementTimeoutMs: 150 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "57014" });
    await expect(withTransaction(async () => 1, { statementTimeoutMs: QUERY_TIMEOUT_MS })).rejects.toThrow(RangeError);
  });

  it("a transaction left idle longer than DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS is ended by the server: its caller gets an error, nothing is committed", async () => {
    const error = await withTransaction(async (db) => {
      await db.query(`INSERT INTO test_writes (label) VALUES ('abandoned')`);
      await sleep(1_500); // a caller that forgot its transaction (or a stalled process)
      await db.query(`SELECT 1`);
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(await committedLabels()).toEqual([]);
    expect(await sessionsInTransaction()).toBe(0);
    expect((await getPool().query<{ ok: number }>(`SELECT 1 AS ok`)).rows[0]!.ok).toBe(1);
  });

  it("a connection whose transaction failed is destroyed, not reused", async () => {
    let pid = 0;
    await expect(
      withTransaction(async (db) => {
        pid = (await db.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`)).rows[0]!.pid;
        throw new Error("a bug in the callback");
      }),
    ).rejects.toThrow("a bug in the callback");
    await waitUntil(async () => (await outside.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1`, [pid])).rowCount === 0, { what: "the backend to exit", timeoutMs: 5_000 });
    const next = (await getPool().query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`)).rows[0]!.pid;
    expect(next).not.toBe(pid);
  });
});

describe("a connection held between queries", () => {
  it("the tag-sync drain lock survives the server ending its session: no uncaught error, releasing destroys the connection", async () => {
    const shop = "pool-lock.myshopify.com";
    const lock = await tryLockShop(shop);
    expect(lock).not.toBeNull();
    const { rows } = await outside.query<{ pid: number }>(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
    expect(rows).toHaveLength(1);
    await outside.query(`SELECT pg_terminate_backend($1)`, [rows[0]!.pid]);
    await sleep(200); // the client receives the FATAL message while checked out and idle
    await lock!.release();
    const again = await tryLockShop(shop);
    expect(again).not.toBeNull();
    await again!.release();
  });
});

describe("the webhook ingress", () => {
  const delivery = (n: number) => deliver("customers/create", customerPayload({ id: BigInt(700_000 + n) }), { webhookId: `ack-${randomUUID()}` });

  /** Sends `count` deliveries `everyMs` apart, concurrently with whatever else runs; resolves with each one's status and time to answer. */
  async function deliverWhile(count: number, everyMs: number): Promise<{ webhookId: string; status: number; ms: number }[]> {
    const answers: Promise<{ webhookId: string; status: number; ms: number }>[] = [];
    for (let i = 0; i < count; i++) {
      const webhookId = `ack-${randomUUID()}`;
      const started = Date.now();
      answers.push(
        deliver("customers/create", customerPayload({ id: BigInt(710_000 + i) }), { webhookId }).then((response) => ({ webhookId, status: response.status, ms: Date.now() - started })),
      );
      await sleep(everyMs);
    }
    return Promise.all(answers);
  }

  async function committedWebhookIds(ids: readonly string[]): Promise<Set<string>> {
    const { rows } = await outside.query<{ webhook_id: string }>(`SELECT webhook_id FROM webhook_events WHERE webhook_id = ANY($1::text[])`, [ids]);
    return new Set(rows.map((r) => r.webhook_id));
  }

  it("with a slow statement in one transaction and deliveries arriving meanwhile, every acknowledged delivery is in the inbox", async () => {
    expect((await delivery(0)).status).toBe(200); // the ingress is warm
    const slow = transactionOutlivingTheClient(1.5);
    const answers = await deliverWhile(25, 100); // 2.5 s of deliveries: before, during and after the ROLLBACK times out
    await slow;
    const acknowledged = answers.filter((a) => a.status >= 200 && a.status < 300).map((a) => a.webhookId);
    const present = await committedWebhookIds(acknowledged);
    expect(acknowledged.filter((id) => !present.has(id))).toEqual([]);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(await sessionsInTransaction()).toBe(0);
  });

  it("keeps acknowledging within a second while long queries hold every connection of the main pool", async () => {
    expect((await delivery(1)).status).toBe(200);
    // The main pool's one connection busy with a run of long statements (each under the limit) for ~2.4 s,
    // and another borrower queued behind it.
    const busy = withTransaction(async (db) => {
      for (let i = 0; i < 8; i++) await db.query(`SELECT pg_sleep(0.3)`);
    });
    const queued = getPool().query(`SELECT 1`).catch((e: unknown) => e);
    await sleep(50);
    expect(getPool().waitingCount).toBeGreaterThanOrEqual(1);
    const answers = await deliverWhile(15, 100);
    await busy;
    await queued;
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(1_000);
    const present = await committedWebhookIds(answers.map((a) => a.webhookId));
    expect(present.size).toBe(answers.length);
  });
});
