// Shopify tokens at rest: encrypted, authenticated, rotatable; legacy plain values readable.
import { randomBytes } from "node:crypto";
import { Session } from "@shopify/shopify-api";
import { describe, expect, it } from "vitest";
import { EncryptedSessionStorage } from "../../app/shopify/encrypted-session-storage.server";
import { TokenDecryptionError, createTokenCipher, parseEncryptionKey, tokenCipherFromEnv } from "../../app/shopify/token-encryption.server";

const TOKEN = "shpat_0123456789abcdef0123456789abcdef";

describe("token encryption", () => {
  it("round-trips, never stores the plain token, and uses a fresh IV each time", () => {
    const cipher = createTokenCipher({ currentKey: randomBytes(32) });
    const a = cipher.encrypt(TOKEN);
    const b = cipher.encrypt(TOKEN);
    expect(a).toMatch(/^enc:v1:[0-9a-f]{12}:/);
    expect(a).not.toContain(TOKEN);
    expect(a).not.toBe(b);
    expect(cipher.decrypt(a)).toBe(TOKEN);
    expect(cipher.isCurrent(a)).toBe(true);
  });

  it("refuses an altered value and a value from an unknown key, naming what to do", () => {
    const cipher = createTokenCipher({ currentKey: randomBytes(32) });
    const stored = cipher.encrypt(TOKEN);
    const parts = stored.split(":");
    const last = parts[5]!;
    parts[5] = (last[0] === "A" ? "B" : "A") + last.slice(1);
    expect(() => cipher.decrypt(parts.join(":"))).toThrow(TokenDecryptionError);
    const other = createTokenCipher({ currentKey: randomBytes(32) });
    expect(() => other.decrypt(stored)).toThrow(/SESSION_ENCRYPTION_PREVIOUS_KEYS/);
  });

  it("rotates: the new key encrypts, the previous key still decrypts", () => {
    const oldKey = randomBytes(32);
    const storedWithOld = createTokenCipher({ currentKey: oldKey }).encrypt(TOKEN);
    const rotated = createTokenCipher({ currentKey: randomBytes(32), previousKeys: [oldKey] });
    expect(rotated.decrypt(storedWithOld)).toBe(TOKEN);
    expect(rotated.isCurrent(storedWithOld)).toBe(false);
    expect(rotated.isCurrent(rotated.encrypt(TOKEN))).toBe(true);
  });

  it("reads a token stored before encryption as is", () => {
    expect(createTokenCipher({ currentKey: randomBytes(32) }).decrypt(TOKEN)).toBe(TOKEN);
  });

  it("parses keys as hex or base64 of 32 bytes only", () => {
    expect(parseEncryptionKey("00".repeat(32)).length).toBe(32);
    expect(parseEncryptionKey(randomBytes(32).toString("base64")).length).toBe(32);
    expect(() => parseEncryptionKey("too-short")).toThrow(/32 bytes/);
    const env = { SHOPIFY_API_SECRET: "s", SESSION_ENCRYPTION_KEY: undefined, SESSION_ENCRYPTION_PREVIOUS_KEYS: undefined };
    const derived = tokenCipherFromEnv(env);
    expect(tokenCipherFromEnv(env).decrypt(derived.encrypt(TOKEN))).toBe(TOKEN);
  });

  it("the session storage writes encrypted tokens and reads plain ones", async () => {
    const rows = new Map<string, Session>();
    const inner = {
      storeSession: async (s: Session) => (rows.set(s.id, s), true),
      loadSession: async (id: string) => rows.get(id),
      deleteSession: async (id: string) => rows.delete(id),
      deleteSessions: async (ids: string[]) => (ids.forEach((id) => rows.delete(id)), true),
      findSessionsByShop: async (shop: string) => [...rows.values()].filter((s) => s.shop === shop),
    };
    const storage = new EncryptedSessionStorage(inner, createTokenCipher({ currentKey: randomBytes(32) }));
    const session = new Session({ id: "offline_a.myshopify.com", shop: "a.myshopify.com", state: "", isOnline: false, accessToken: TOKEN, refreshToken: "shprt_refresh" });
    await storage.storeSession(session);
    const raw = rows.get(session.id)!;
    expect(raw.accessToken).toMatch(/^enc:v1:/);
    expect(raw.refreshToken).toMatch(/^enc:v1:/);
    expect(session.accessToken).toBe(TOKEN); // the caller's object is not changed
    expect((await storage.loadSession(session.id))!.accessToken).toBe(TOKEN);
    expect((await storage.findSessionsByShop("a.myshopify.com"))[0]!.refreshToken).toBe("shprt_refresh");
  });
});
