import { createHash, randomBytes } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";

export const ADMIN_DATABASE_URL = process.env.TEST_ADMIN_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** The migrated template is named after the migrations it holds, so runs never rebuild
 * (or drop) a template another run is cloning, and a schema change gets a new one. */
function migrationsHash(): string {
  const root = "prisma/migrations";
  const hash = createHash("sha256");
  for (const dir of readdirSync(root).sort()) {
    if (dir.endsWith(".toml")) continue;
    hash.update(dir).update(readFileSync(join(root, dir, "migration.sql")));
  }
  return hash.digest("hex").slice(0, 12);
}

export const TEMPLATE_DATABASE = `crm_test_tpl_${migrationsHash()}`;

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh, migrated database for one test file. */
export async function createTestDatabase(): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `crm_test_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`);
  await admin.end();
  return {
    name,
    url: databaseUrl(name),
    drop: async () => {
      const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
