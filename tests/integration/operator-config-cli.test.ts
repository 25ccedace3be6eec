// Operators keep configuration as files: `crm loyalty program show|set` (the settings JSON of
// docs/loyalty.md, saved as a new version like an admin save), and `crm sessions rekey`
// (stored Shopify tokens re-encrypted with the current key after a rotation).
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { createTokenCipher, parseEncryptionKey } from "../../app/shopify/token-encryption.server";
import { closeQueues } from "../../app/queues.server";
import { TEST_SESSION_ENCRYPTION_KEY, childProcessEnv, useIntegrationEnv } from "../support/env";
import { runCli } from "../support/pipeline";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;
const SHOP = "operator-config.myshopify.com";
const dir = mkdtempSync(path.join(tmpdir(), "crm-cli-"));
const file = (name: string, content: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};

beforeAll(async () => {
  env = await useIntegrationEnv();
});

afterAll(async () => {
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

const crm = (args: string[], extra: Record<string, string> = {}) => runCli(args, childProcessEnv(extra));

describe("crm loyalty program show|set", () => {
  it("shows no program, saves a file as version 1 then 2, and shows it back", async () => {
    const none = await crm(["loyalty", "program", "show", "--shop", SHOP]);
    expect(none.code).toBe(0);
    expect(JSON.parse(none.stdout)).toEqual({ version: null, updatedAt: null, settings: null });

    const first = await crm(["loyalty", "program", "set", "--shop", SHOP, "--file", file("p1.json", JSON.stringify({ earn: { pointsPerUnit: 2 }, pendingDays: 7 }))]);
    expect(first.stderr).toBe("");
    expect(JSON.parse(first.stdout)).toEqual({ version: 1 });
    const second = await crm(["loyalty", "program", "set", "--shop", SHOP, "--file", file("p2.json", JSON.stringify({ earn: { pointsPerUnit: 3 }, pendingDays: 0 }))]);
    expect(JSON.parse(second.stdout)).toEqual({ version: 2 });

    const shown = JSON.parse((await crm(["loyalty", "program", "show", "--shop", SHOP])).stdout) as { version: number; settings: { earn: { pointsPerUnit: number }; pendingDays: number } };
    expect(shown.version).toBe(2);
    expect(shown.settings.earn.pointsPerUnit).toBe(3);
    expect(shown.settings.pendingDays).toBe(0);
    const { rows } = await getPool().query<{ version: number; saved_by: string }>(`SELECT version, saved_by FROM loyalty_program_versions WHERE shop = $1 ORDER BY version`, [SHOP]);
    expect(rows).toEqual([
      { version: 1, saved_by: "cli" },
      { version: 2, saved_by: "cli" },
    ]);
  });

  it("refuses invalid settings, non-JSON and a missing file with exit 2, saving nothing", async () => {
    const before = await getPool().query(`SELECT count(*)::int AS n FROM loyalty_program_versions WHERE shop = $1`, [SHOP]);
    const invalid = await crm(["loyalty", "program", "set", "--shop", SHOP, "--file", file("bad.json", JSON.stringify({ earn: { pointsPerUnit: -1 } }))]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^earn\.pointsPerUnit: /m);
    const notJson = await crm(["loyalty", "program", "set", "--shop", SHOP, "--file", file("bad.txt", "{ nope")]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/is not JSON/);
    const missing = await crm(["loyalty", "program", "set", "--shop", SHOP, "--file", path.join(dir, "absent.json")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file/);
    const after = await getPool().query(`SELECT count(*)::int AS n FROM loyalty_program_versions WHERE shop = $1`, [SHOP]);
    expect(after.rows).toEqual(before.rows);
  });
});

describe("crm sessions rekey", () => {
  it("re-encrypts tokens under a rotated key; plain legacy tokens get encrypted", async () => {
    const oldKey = parseEncryptionKey(TEST_SESSION_ENCRYPTION_KEY);
    const oldCipher = createTokenCipher({ currentKey: oldKey });
    await getPool().query(
      `INSERT INTO "Session" (id, shop, state, "isOnline", scope, "accessToken", "refreshToken") VALUES
         ('offline_a.myshopify.com', 'a.myshopify.com', '', false, 'read_customers', $1, $2),
         ('offline_b.myshopify.com', 'b.myshopify.com', '', false, 'read_customers', 'shpat_legacy_plain', NULL)`,
      [oldCipher.encrypt("shpat_a_token"), oldCipher.encrypt("shprt_a_refresh")],
    );
    const newKey = randomBytes(32).toString("base64");
    const result = await crm(["sessions", "rekey"], { SESSION_ENCRYPTION_KEY: newKey, SESSION_ENCRYPTION_PREVIOUS_KEYS: TEST_SESSION_ENCRYPTION_KEY });
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({ sessions: 2, reencrypted: 2 });
    const newCipher = createTokenCipher({ currentKey: parseEncryptionKey(newKey) });
    const { rows } = await getPool().query<{ id: string; accessToken: string; refreshToken: string | null }>(`SELECT id, "accessToken", "refreshToken" FROM "Session" ORDER BY id`);
    expect(rows.every((r) => newCipher.isCurrent(r.accessToken))).toBe(true);
    expect(rows.map((r) => newCipher.decrypt(r.accessToken))).toEqual(["shpat_a_token", "shpat_legacy_plain"]);
    expect(newCipher.decrypt(rows[0]!.refreshToken!)).toBe("shprt_a_refresh");
    expect(rows[1]!.refreshToken).toBeNull();
    // Without the old key the rotated process could not read what the old key wrote: a second run changes nothing.
    const again = await crm(["sessions", "rekey"], { SESSION_ENCRYPTION_KEY: newKey });
    expect(JSON.parse(again.stdout)).toEqual({ sessions: 2, reencrypted: 0 });
  });
});
