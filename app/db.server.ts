// One pg pool per process, shared by Prisma (through the driver adapter) and by the
// hot paths that use parametrised SQL directly (webhook inbox, event apply).
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import { getEnv } from "./env.server";
import { logger } from "./logger.server";

// Keep BIGINT (int8) as string in raw SQL results: ids and minor units stay exact.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => value);

declare global {
  var __crmDb: { pool: pg.Pool; prisma: PrismaClient } | undefined;
}

function create() {
  const env = getEnv();
  const pool = new pg.Pool({
    connectionString: env.DATABASE_URL,
    max: env.DATABASE_POOL_SIZE,
    // A PostgreSQL that accepts TCP but never answers must fail fast, not hold requests:
    // webhook acknowledgements have 5 s in all.
    connectionTimeoutMillis: env.DATABASE_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: env.DATABASE_IDLE_TIMEOUT_MS,
    options: `-c plan_cache_mode=${env.DATABASE_PLAN_CACHE_MODE}`,
    query_timeout: env.DATABASE_QUERY_TIMEOUT_MS,
  });
  pool.on("error", (error) => logger.warn({ err: error }, "db.pool_error"));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return { pool, prisma };
}

function instance() {
  // Survives module reloads in development.
  globalThis.__crmDb ??= create();
  return globalThis.__crmDb;
}

export function getPool(): pg.Pool {
  return instance().pool;
}

export function getPrisma(): PrismaClient {
  return instance().prisma;
}

export async function closeDb(): Promise<void> {
  const current = globalThis.__crmDb;
  globalThis.__crmDb = undefined;
  if (!current) return;
  await current.prisma.$disconnect();
  await current.pool.end().catch(() => undefined);
}

export type Queryable = Pick<pg.PoolClient, "query">;

/** Runs fn in one transaction on one connection; rolls back on any error. */
export async function withTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await getPool().connect();
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
