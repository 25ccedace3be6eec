// Prepares a migrated template database (once per migration set); each integration
// test file clones it (CREATE DATABASE ... TEMPLATE), which takes milliseconds.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { ADMIN_DATABASE_URL, TEMPLATE_DATABASE, databaseUrl } from "./database";
import { TEST_REDIS_BASE_URL } from "./env";
import { LocalServiceError, ensureLocalServices } from "./local-services";

export default async function setup() {
  // PostgreSQL and Redis: the machine's when they answer, otherwise started for this run
  // (tests/support/local-services.ts) and stopped after it.
  const services = await ensureLocalServices({
    databaseUrl: ADMIN_DATABASE_URL,
    redisUrl: TEST_REDIS_BASE_URL,
    stateDir: ".data",
    log: (line) => process.stderr.write(`${line}\n`),
  }).catch((error: unknown) => {
    if (error instanceof LocalServiceError) {
      process.stderr.write(`\n${error.message}\n\n`);
      process.exit(1);
    }
    throw error;
  });
  await prepareTemplate();
  return services.stop;
}

async function prepareTemplate() {
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    const exists = await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [TEMPLATE_DATABASE]);
    if (exists.rowCount) return;
    // Build under a private name, then rename: a concurrent run never sees a half-migrated template.
    const building = `${TEMPLATE_DATABASE}_${randomBytes(3).toString("hex")}`;
    await admin.query(`CREATE DATABASE ${building}`);
    execFileSync(process.execPath, ["node_modules/prisma/build/index.js", "migrate", "deploy"], {
      env: { ...process.env, DATABASE_URL: databaseUrl(building) },
      stdio: ["ignore", "ignore", "inherit"],
    });
    try {
      await admin.query(`ALTER DATABASE ${building} RENAME TO ${TEMPLATE_DATABASE}`);
    } catch {
      await admin.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`); // another run won the race
    }
  } finally {
    await admin.end();
  }
}
