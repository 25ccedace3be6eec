// Stored Shopify sessions: re-encrypting their tokens with the current key (key rotation).
import { getEnv } from "../env.server";
import { getPool, withTransaction } from "../db.server";
import { logger } from "../logger.server";
import { tokenCipherFromEnv } from "../shopify/token-encryption.server";

/**
 * Re-encrypts every stored access and refresh token that is not encrypted with the current
 * SESSION_ENCRYPTION_KEY (older keys must be in SESSION_ENCRYPTION_PREVIOUS_KEYS; tokens
 * stored before encryption are encrypted). Row by row under a lock, so a concurrent refresh
 * of one session is never lost.
 */
export async function rekeySessions(): Promise<{ sessions: number; reencrypted: number }> {
  const cipher = tokenCipherFromEnv(getEnv());
  const { rows } = await getPool().query<{ id: string }>(`SELECT id FROM "Session" ORDER BY id`);
  let reencrypted = 0;
  for (const { id } of rows) {
    const changed = await withTransaction(async (db) => {
      const { rows: found } = await db.query<{ accessToken: string; refreshToken: string | null }>(
        `SELECT "accessToken", "refreshToken" FROM "Session" WHERE id = $1 FOR UPDATE`,
        [id],
      );
      const row = found[0];
      if (!row) return false;
      const stale = (value: string | null) => value !== null && value !== "" && !cipher.isCurrent(value);
      if (!stale(row.accessToken) && !stale(row.refreshToken)) return false;
      const rekey = (value: string | null) => (value === null || value === "" ? value : cipher.encrypt(cipher.decrypt(value)));
      await db.query(`UPDATE "Session" SET "accessToken" = $2, "refreshToken" = $3 WHERE id = $1`, [id, rekey(row.accessToken), rekey(row.refreshToken)]);
      return true;
    });
    if (changed) reencrypted++;
  }
  logger.info({ sessions: rows.length, reencrypted }, "sessions.rekeyed");
  return { sessions: rows.length, reencrypted };
}
