import { afterAll, beforeAll } from "vitest";
import { useIntegrationEnv } from "./env";
import { closeQueues, WEBHOOK_QUEUE, type ApplyWebhookJob } from "../../app/queues.server";
import { closeDb } from "../../app/db.server";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { receiveWebhook } from "../../app/services/webhook-ingress.server";
import { toBody } from "./factories";
import { webhookRequest, type Delivery } from "./webhooks";
import { createRedis } from "../../app/redis.server";
import { getPool } from "../../app/db.server";
import { applyWebhookProcessor } from "../../jobs/apply-webhook.processor";
import { stopContinuationBatches } from "../../app/services/process-inbox-event.server";

/** The real worker processor, in this process, on the test's Redis database. */
export function startInProcessWorker(concurrency = 8) {
  const connection = createRedis("worker");
  connection.on("error", () => undefined); // outage tests stop Redis on purpose
  const worker = new Worker<ApplyWebhookJob>(WEBHOOK_QUEUE, applyWebhookProcessor, { connection, concurrency });
  worker.on("error", () => undefined);
  return {
    worker,
    close: async () => {
      await worker.close();
      await stopContinuationBatches();
      connection.disconnect();
    },
  };
}

/** Waits until no inbox row is waiting or retrying (or fails after timeoutMs). */
export async function waitForInboxSettled(timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await getPool().query<{ n: string }>(
      `SELECT count(*) AS n FROM webhook_events WHERE status IN ('received', 'failed')`,
    );
    if (rows[0]!.n === "0") return;
    if (Date.now() > deadline) throw new Error(`inbox not settled after ${timeoutMs} ms: ${rows[0]!.n} rows pending`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export async function customerRow(shop: string, gid: string) {
  const { rows } = await getPool().query(
    `SELECT gid, email, first_name, last_name, phone, orders_count, total_spent_minor, refunded_minor, aov_minor,
            first_order_at, last_order_at, deleted_at, redacted_at, tags, email_marketing_state
       FROM customers WHERE shop = $1 AND gid = $2`,
    [shop, gid],
  );
  return rows[0] ?? null;
}

// ---------------------------------------------------------------------------
// Delivering webhooks and waiting for their effects

/** Sends one signed delivery through the real ingress (no HTTP server). */
export async function deliver(topic: string, payload: unknown, extra: Partial<Delivery> = {}): Promise<Response> {
  return receiveWebhook(webhookRequest({ topic, body: typeof payload === "string" ? payload : toBody(payload), ...extra }));
}

/** Delivers, expects 200, and waits until the worker has handled everything pending. */
export async function deliverAndSettle(topic: string, payload: unknown, extra: Partial<Delivery> = {}): Promise<void> {
  const response = await deliver(topic, payload, extra);
  if (response.status !== 200) throw new Error(`${topic}: HTTP ${response.status} ${await response.text()}`);
  await waitForInboxSettled();
}

export async function waitUntil<T>(check: () => Promise<T | null | undefined | false>, { timeoutMs = 30_000, intervalMs = 50, what = "condition" } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export type InboxRow = { id: string; shop: string; webhook_id: string; topic: string; status: string; attempts: number; replays: number; last_error: string | null; payload: string };

export async function inboxRows(where: { shop?: string; webhookId?: string; topic?: string } = {}): Promise<InboxRow[]> {
  const { rows } = await getPool().query<InboxRow>(
    `SELECT id, shop, webhook_id, topic, status::text AS status, attempts, replays, last_error, payload FROM webhook_events
      WHERE ($1::text IS NULL OR shop = $1) AND ($2::text IS NULL OR webhook_id = $2) AND ($3::text IS NULL OR topic = $3)
      ORDER BY id`,
    [where.shop ?? null, where.webhookId ?? null, where.topic ?? null],
  );
  return rows;
}

export async function orderRow(shop: string, gid: string) {
  const { rows } = await getPool().query(
    `SELECT gid, legacy_id, customer_gid, email, total_price_minor, refunded_minor, financial_status, cancelled_at, test, shopify_updated_at
       FROM orders WHERE shop = $1 AND gid = $2`,
    [shop, gid],
  );
  return rows[0] ?? null;
}

// ---------------------------------------------------------------------------
// Child processes: the worker, the CLI, the HTTP server, a private redis-server

export type ChildHandle = {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Signals the whole process group (tsx runs the script in a child of its own). */
  killGroup: (signal: NodeJS.Signals) => void;
};

/** Spawns a command in its own process group, collecting its output. */
export function spawnChild(command: string, args: string[], env: NodeJS.ProcessEnv): ChildHandle {
  const child = spawn(command, args, { cwd: process.cwd(), env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    killGroup: (signal) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    },
  };
}

export const TSX = "node_modules/.bin/tsx";

/**
 * How a long-running process (the worker) is started: Node with the tsx loader in-process.
 * Not the `tsx` CLI: it relays SIGTERM to its child and, when a busy child does not
 * acknowledge within 30 ms, SIGKILLs it and exits 143, which defeats graceful shutdown.
 */
export const NODE_TSX: [string, string[]] = [process.execPath, ["--import", "tsx"]];

/** `crm <args>` as an operator runs it; resolves with its exit code and output. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const handle = spawnChild(TSX, ["app/cli/crm.ts", ...args], env);
  const { code } = await handle.exited;
  return { code, stdout: handle.stdout(), stderr: handle.stderr() };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A throwaway redis-server on its own port, for outage tests (never the shared one). */
export async function startRedisServer(port: number): Promise<ChildHandle> {
  const handle = spawnChild("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"], process.env);
  await waitUntil(
    async () => {
      if (handle.child.exitCode !== null) throw new Error(`redis-server exited: ${handle.stdout()}${handle.stderr()}`);
      const probe = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on("error", () => undefined);
      try {
        await probe.connect();
        return (await probe.ping()) === "PONG";
      } catch {
        return false;
      } finally {
        probe.disconnect();
      }
    },
    { timeoutMs: 10_000, what: `redis-server on ${port}` },
  );
  return handle;
}

/**
 * The usual integration-test harness: a fresh database and Redis index, the real worker
 * processor in this process, and everything closed and dropped after the file.
 */
export function setUpPipelineHarness() {
  let env: Awaited<ReturnType<typeof useIntegrationEnv>> | undefined;
  let worker: ReturnType<typeof startInProcessWorker> | undefined;
  beforeAll(async () => {
    env = await useIntegrationEnv();
    worker = startInProcessWorker();
  });
  afterAll(async () => {
    await worker?.close();
    await closeQueues();
    await closeDb();
    await env?.dropDatabase();
  });
}
