// The process's PostgreSQL pools. The main pool is shared by Prisma (through the driver
// adapter) and by the paths that use parametrised SQL directly (event apply, admin, CLI);
// the webhook ingress has a small pool of its own (getIngressPool), created on first use,
// so admin or worker load cannot starve acknowledgements.
//
// Every connection carries server-side limits (statement_timeout,
// idle_in_transaction_session_timeout): PostgreSQL cancels a slow statement and rolls its
// transaction back, instead of the client giving up while the server keeps going. A
// connection that saw an error or a timeout is destroyed, never handed to the next borrower:
// after a client-side timeout it may still be inside its transaction (a queued ROLLBACK times
// out too), and whoever borrowed it next would write into a transaction that is never
// committed. docs/decisions/024-pools-and-timeouts.md.
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import { getEnv, type Env } from "./env.server";
import { logger } from "./logger.server";

// Keep BIGINT (int8) as string in raw SQL results: ids and minor units stay exact.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => value);

declare global {
  var __crmDb: { pool: pg.Pool; prisma: PrismaClient; ingress?: pg.Pool } | undefined;
}

/** How long the client waits beyond the ingress pool's server-side statement limit before giving up on the server. */
const INGRESS_QUERY_GRACE_MS = 500;

function createPool(env: Env, purpose: "main" | "ingress"): pg.Pool {
  const statementTimeoutMs = purpose === "ingress" ? env.DATABASE_INGRESS_STATEMENT_TIMEOUT_MS : env.DATABASE_STATEMENT_TIMEOUT_MS;
  const settings = {
    plan_cache_mode: env.DATABASE_PLAN_CACHE_MODE,
    statement_timeout: statementTimeoutMs,
    idle_in_transaction_session_timeout: env.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  };
  const pool = new pg.Pool({
    connectionString: env.DATABASE_URL,
    max: purpose === "ingress" ? env.DATABASE_INGRESS_POOL_SIZE : env.DATABASE_POOL_SIZE,
    // A PostgreSQL that accepts TCP but never answers must fail fast, not hold requests:
    // webhook acknowledgements have 5 s in all.
    connectionTimeoutMillis: env.DATABASE_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: env.DATABASE_IDLE_TIMEOUT_MS,
    options: Object.entries(settings)
      .map(([name, value]) => `-c ${name}=${value}`)
      .join(" "),
    // The backstop for a server that stops answering; PostgreSQL's own limit fires first.
    query_timeout: purpose === "ingress" ? statementTimeoutMs + INGRESS_QUERY_GRACE_MS : env.DATABASE_QUERY_TIMEOUT_MS,
  });
  pool.on("error", (error) => logger.warn({ err: error, pool: purpose }, "db.pool_error"));
  return pool;
}

function create() {
  const pool = createPool(getEnv(), "main");
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return { pool, prisma };
}

function instance() {
  // Survives module reloads in development.
  globalThis.__crmDb ??= create();
  return globalThis.__crmDb;
}

/** The main pool: worker apply, admin, CLI (limits DATABASE_STATEMENT_TIMEOUT_MS, DATABASE_QUERY_TIMEOUT_MS). */
export function getPool(): pg.Pool {
  return instance().pool;
}

/**
 * The webhook ingress's pool (DATABASE_INGRESS_POOL_SIZE connections, statements limited to
 * DATABASE_INGRESS_STATEMENT_TIMEOUT_MS): only the inbox insert uses it. A process that never
 * receives a webhook (the worker, the CLI) never opens it.
 */
export function getIngressPool(): pg.Pool {
  const current = instance();
  current.ingress ??= createPool(getEnv(), "ingress");
  return current.ingress;
}

export function getPrisma(): PrismaClient {
  return instance().prisma;
}

export async function closeDb(): Promise<void> {
  const current = globalThis.__crmDb;
  globalThis.__crmDb = undefined;
  if (!current) return;
  await current.prisma.$disconnect();
  await Promise.all([current.pool.end().catch(() => undefined), current.ingress?.end().catch(() => undefined)]);
}

export type Queryable = Pick<pg.PoolClient, "query">;

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** pg's client-side query_timeout: the statement may still be running on the server. */
function isClientTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === "Query read timeout";
}

/**
 * Runs fn on one connection of the pool. If fn throws, the connection is destroyed
 * (`release(error)`), never reused: it may be mid-query or inside a transaction.
 */
export async function withConnection<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failure: Error | undefined;
  // The server may end the session while it is checked out and between queries (the
  // idle-in-transaction limit, an administrator, a restart): pg then emits 'error' on the
  // client, which would be an uncaught exception without a listener. The next query fails.
  const onError = (error: Error) => {
    failure ??= error;
    logger.warn({ err: error }, "db.connection_error");
  };
  client.on("error", onError);
  try {
    return await fn(client);
  } catch (error) {
    failure ??= asError(error);
    throw error;
  } finally {
    client.off("error", onError);
    client.release(failure);
  }
}

export type TransactionOptions = {
  /**
   * A server-side limit for each statement of this transaction only (`SET LOCAL
   * statement_timeout`), below the pool's; a statement running longer is cancelled
   * (SQLSTATE 57014) and the transaction rolls back. For work with a budget of its own
   * (a preview in the admin, a recompute).
   */
  statementTimeoutMs?: number;
};

/**
 * Runs fn in one transaction on one connection of the main pool; rolls back on any error
 * and then destroys the connection (a client-side timeout skips the ROLLBACK: it would only
 * queue behind the statement still running).
 */
export async function withTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const { statementTimeoutMs } = options;
  if (statementTimeoutMs !== undefined) {
    const limit = getEnv().DATABASE_QUERY_TIMEOUT_MS;
    if (!Number.isInteger(statementTimeoutMs) || statementTimeoutMs < 1 || statementTimeoutMs >= limit) {
      throw new RangeError(`statementTimeoutMs must be an integer from 1 to ${limit - 1} (below DATABASE_QUERY_TIMEOUT_MS), got ${statementTimeoutMs}`);
    }
  }
  return withConnection(getPool(), async (client) => {
    await client.query("BEGIN");
    try {
      if (statementTimeoutMs !== undefined) {
        await client.query({ name: "crm-set-local-statement-timeout", text: `SELECT set_config('statement_timeout', $1, true)`, values: [`${statementTimeoutMs}ms`] });
      }
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      if (!isClientTimeout(error)) await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    }
  });
}
