// Shopify access tokens (offline and online, and their refresh tokens) are stored encrypted:
// AES-256-GCM with a key from the environment (SESSION_ENCRYPTION_KEY), authenticated, a fresh
// IV per value. Stored form: `enc:v1:<key id>:<iv>:<tag>:<ciphertext>` (base64url), where the key
// id names which key encrypted it, so keys can rotate: the current key encrypts, the current
// and previous keys (SESSION_ENCRYPTION_PREVIOUS_KEYS) decrypt, and `crm sessions rekey`
// re-encrypts every stored token with the current key. A value without the prefix is a token
// stored before encryption existed: it is read as is and encrypted on its next write.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";
import type { Env } from "../env.server";

const PREFIX = "enc:v1:";

export class TokenDecryptionError extends Error {}

export type TokenCipher = {
  encrypt(plain: string): string;
  /** The plain token; a legacy plain value is returned unchanged. */
  decrypt(stored: string): string;
  /** True when the value is encrypted with the current key (nothing to re-encrypt). */
  isCurrent(stored: string): boolean;
};

const keyId = (key: Buffer) => createHash("sha256").update(key).digest("hex").slice(0, 12);

/** A 32-byte key written as 64 hex characters or base64 (44 characters); throws otherwise. */
export function parseEncryptionKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
  if (key.length !== 32) throw new Error("must be 32 bytes, written as 64 hex characters or base64 (e.g. `openssl rand -base64 32`)");
  return key;
}

export function createTokenCipher({ currentKey, previousKeys = [] }: { currentKey: Buffer; previousKeys?: Buffer[] }): TokenCipher {
  const currentId = keyId(currentKey);
  const keys = new Map<string, Buffer>([[currentId, currentKey], ...previousKeys.map((k) => [keyId(k), k] as [string, Buffer])]);
  return {
    encrypt(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", currentKey, iv);
      const ciphertext = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return `${PREFIX}${currentId}:${iv.toString("base64url")}:${cipher.getAuthTag().toString("base64url")}:${ciphertext.toString("base64url")}`;
    },
    decrypt(stored) {
      if (!stored.startsWith(PREFIX)) return stored;
      const [id, iv, tag, ciphertext] = stored.slice(PREFIX.length).split(":");
      const key = id ? keys.get(id) : undefined;
      if (!key || iv === undefined || tag === undefined || ciphertext === undefined) {
        throw new TokenDecryptionError(
          key ? "a stored Shopify token is malformed" : `a stored Shopify token was encrypted with a key this process does not have (key id ${id}): add that key to SESSION_ENCRYPTION_PREVIOUS_KEYS`,
        );
      }
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
        decipher.setAuthTag(Buffer.from(tag, "base64url"));
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
      } catch {
        throw new TokenDecryptionError(`a stored Shopify token failed authentication with key id ${id} (altered, or another key with that id)`);
      }
    },
    isCurrent(stored) {
      return stored.startsWith(`${PREFIX}${currentId}:`);
    },
  };
}

/** The process's cipher from the environment. Without SESSION_ENCRYPTION_KEY (refused in
 * production), development and tests derive a key from the app secret (HKDF, own label). */
export function tokenCipherFromEnv(env: Pick<Env, "SESSION_ENCRYPTION_KEY" | "SESSION_ENCRYPTION_PREVIOUS_KEYS" | "SHOPIFY_API_SECRET">): TokenCipher {
  const currentKey = env.SESSION_ENCRYPTION_KEY
    ? parseEncryptionKey(env.SESSION_ENCRYPTION_KEY)
    : Buffer.from(hkdfSync("sha256", env.SHOPIFY_API_SECRET, "crm-session-token-encryption", "development key", 32));
  const previousKeys = (env.SESSION_ENCRYPTION_PREVIOUS_KEYS ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean)
    .map(parseEncryptionKey);
  return createTokenCipher({ currentKey, previousKeys });
}
