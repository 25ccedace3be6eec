// Prepares a migrated template database once per test run; each integration test
// file clones it (CREATE DATABASE ... TEMPLATE), which takes milliseconds.
import { execFileSync } from "node:child_process";
import pg from "pg";
import { ADMIN_DATABASE_URL, TEMPLATE_DATABASE, databaseUrl } from "./database";

export default async function setup() {
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  execFileSync(process.execPath, ["node_modules/prisma/build/index.js", "migrate", "deploy"], {
    env: { ...process.env, DATABASE_URL: databaseUrl(TEMPLATE_DATABASE) },
    stdio: ["ignore", "ignore", "inherit"],
  });
}
