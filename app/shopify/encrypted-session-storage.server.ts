// Session storage that keeps Shopify tokens encrypted at rest (app/shopify/token-encryption.server.ts):
// wraps the Prisma session storage; every write encrypts the access and refresh tokens, every
// read decrypts them. Nothing else reads the tokens from the table.
import { Session } from "@shopify/shopify-api";
import type { TokenCipher } from "./token-encryption.server";

type SessionStore = {
  storeSession(session: Session): Promise<boolean>;
  loadSession(id: string): Promise<Session | undefined>;
  deleteSession(id: string): Promise<boolean>;
  deleteSessions(ids: string[]): Promise<boolean>;
  findSessionsByShop(shop: string): Promise<Session[]>;
};

export class EncryptedSessionStorage implements SessionStore {
  constructor(
    private readonly inner: SessionStore,
    private readonly cipher: TokenCipher,
  ) {}

  private transform(session: Session, change: (value: string) => string): Session {
    const params = session.toObject();
    if (params.accessToken) params.accessToken = change(params.accessToken);
    if (params.refreshToken) params.refreshToken = change(params.refreshToken);
    return new Session(params);
  }

  storeSession(session: Session): Promise<boolean> {
    return this.inner.storeSession(this.transform(session, (v) => this.cipher.encrypt(v)));
  }

  async loadSession(id: string): Promise<Session | undefined> {
    const stored = await this.inner.loadSession(id);
    return stored && this.transform(stored, (v) => this.cipher.decrypt(v));
  }

  deleteSession(id: string): Promise<boolean> {
    return this.inner.deleteSession(id);
  }

  deleteSessions(ids: string[]): Promise<boolean> {
    return this.inner.deleteSessions(ids);
  }

  async findSessionsByShop(shop: string): Promise<Session[]> {
    const sessions = await this.inner.findSessionsByShop(shop);
    return sessions.map((s) => this.transform(s, (v) => this.cipher.decrypt(v)));
  }

  isReady(): Promise<boolean> {
    const inner = this.inner as SessionStore & { isReady?: () => Promise<boolean> };
    return inner.isReady ? inner.isReady() : Promise.resolve(true);
  }
}
