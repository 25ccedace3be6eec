// The email outbox's write side (queueEmail) on a real database: idempotency, suppression,
// redacted customers, the frequency cap (also under concurrent callers), and bad input.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool, withTransaction } from "../../app/db.server";
import { EmailInputError, queueEmail, type QueueEmailInput } from "../../app/services/email/outbox.server";
import { getShopEmailSettings, saveShopEmailSettings } from "../../app/services/email/settings.server";
import { isSuppressed, suppressAddress } from "../../app/services/email/suppression.server";
import { unsubscribeToken, verifyUnsubscribeToken } from "../../app/services/email/links.server";
import { closeEmailQueue } from "../../app/queues.server";
import { getEmailSettingsPage, saveEmailSettingsForm, sendTestEmailForm } from "../../app/services/email/admin-email.server";
import { useIntegrationEnv } from "../support/env";

const SHOP = "email-outbox.myshopify.com";
let env: Awaited<ReturnType<typeof useIntegrationEnv>>;

beforeAll(async () => {
  env = await useIntegrationEnv();
});
afterAll(async () => {
  await closeEmailQueue();
  await closeDb();
  await env?.dropDatabase();
});

let seq = 0;
function input(overrides: Partial<QueueEmailInput> = {}): QueueEmailInput {
  seq++;
  return {
    shop: SHOP,
    customerGid: `gid://shopify/Customer/${seq}`,
    to: `buyer${seq}@example.com`,
    category: "feedback_request",
    idempotencyKey: `feedback-request:${seq}`,
    render: async ({ unsubscribeUrl }) => ({ subject: "How was it?", html: `<p>Hi</p><a href="${unsubscribeUrl}">Unsubscribe</a>`, text: `Hi\nUnsubscribe: ${unsubscribeUrl}` }),
    ...overrides,
  };
}

async function row(id: string) {
  return (await getPool().query(`SELECT * FROM email_outbox WHERE id = $1`, [id])).rows[0];
}

describe("queueEmail", () => {
  it("writes one pending row with the rendered parts, a Message-ID and the unsubscribe link of that row", async () => {
    const r = await withTransaction((c) => queueEmail(c, input({ to: "Mixed.Case@Example.com" })));
    expect(r.status).toBe("queued");
    const id = (r as { id: string }).id;
    const saved = await row(id);
    expect(saved).toMatchObject({ status: "pending", to_address: "mixed.case@example.com", subject: "How was it?", attempts: 0 });
    expect(saved.message_id).toMatch(new RegExp(`^<crm-email\\.${id}\\.[0-9a-f]{12}@crm\\.example\\.test>$`));
    expect(saved.html).toContain(`https://crm.example.test/email/unsubscribe/${unsubscribeToken(id)}`);
    expect(verifyUnsubscribeToken(unsubscribeToken(id))).toBe(id);
  });

  it("a second call with the same idempotency key queues nothing and renders nothing", async () => {
    const first = input();
    const a = await withTransaction((c) => queueEmail(c, first));
    let rendered = 0;
    const b = await withTransaction((c) => queueEmail(c, { ...first, to: "someone-else@example.com", render: async () => (rendered++, { subject: "x", html: "x", text: "x" }) }));
    expect(b).toEqual({ status: "duplicate", id: (a as { id: string }).id });
    expect(rendered).toBe(0);
    const { rows } = await getPool().query(`SELECT count(*)::int AS n FROM email_outbox WHERE shop = $1 AND idempotency_key = $2`, [SHOP, first.idempotencyKey]);
    expect(rows[0].n).toBe(1);
  });

  it("concurrent calls with one key write one row", async () => {
    const same = input();
    const results = await Promise.all(Array.from({ length: 6 }, () => withTransaction((c) => queueEmail(c, same))));
    expect(results.filter((r) => r.status === "queued")).toHaveLength(1);
    expect(results.filter((r) => r.status === "duplicate")).toHaveLength(5);
  });

  it("the row is written in the caller's transaction: a rollback leaves nothing", async () => {
    const i = input();
    await expect(
      withTransaction(async (c) => {
        await queueEmail(c, i);
        throw new Error("the cause failed");
      }),
    ).rejects.toThrow("the cause failed");
    expect((await getPool().query(`SELECT 1 FROM email_outbox WHERE idempotency_key = $1`, [i.idempotencyKey])).rows).toEqual([]);
  });

  it("refuses suppressed addresses (case-insensitively) and redacted customers", async () => {
    await suppressAddress(getPool(), { shop: SHOP, address: "Gone@Example.com", reason: "unsubscribed" });
    expect(await withTransaction((c) => queueEmail(c, input({ to: "gone@example.COM" })))).toEqual({ status: "suppressed", reason: "unsubscribed" });
    // Another shop may still email the address.
    expect((await withTransaction((c) => queueEmail(c, input({ shop: "other.myshopify.com", to: "gone@example.com" })))).status).toBe("queued");
    // The first reason stays.
    expect(await suppressAddress(getPool(), { shop: SHOP, address: "gone@example.com", reason: "bounced" })).toBe(false);
    expect(await isSuppressed(getPool(), SHOP, "GONE@example.com")).toBe("unsubscribed");

    const gid = "gid://shopify/Customer/990001";
    await getPool().query(`INSERT INTO shops (domain) VALUES ($1) ON CONFLICT DO NOTHING`, [SHOP]);
    await getPool().query(`INSERT INTO customers (shop, gid, email, redacted_at) VALUES ($1, $2, NULL, now())`, [SHOP, gid]);
    expect(await withTransaction((c) => queueEmail(c, input({ customerGid: gid })))).toEqual({ status: "suppressed", reason: "redacted" });
  });

  it("caps per customer across the given categories within the window", async () => {
    const gid = "gid://shopify/Customer/77";
    const cap = { categories: ["feedback_request", "feedback_reminder"] as const, days: 30 };
    const first = await withTransaction((c) => queueEmail(c, input({ customerGid: gid, frequencyCap: { ...cap, categories: [...cap.categories] } })));
    expect(first.status).toBe("queued");
    // Another category inside the cap: refused. A category outside it: allowed.
    expect(await withTransaction((c) => queueEmail(c, input({ customerGid: gid, category: "feedback_reminder", frequencyCap: { ...cap, categories: [...cap.categories] } })))).toEqual({ status: "capped" });
    expect((await withTransaction((c) => queueEmail(c, input({ customerGid: gid, category: "staff_alert", frequencyCap: { categories: ["staff_alert"], days: 30 } })))).status).toBe("queued");
    // Without a cap the caller decides.
    expect((await withTransaction((c) => queueEmail(c, input({ customerGid: gid })))).status).toBe("queued");
    // Once the earlier emails are older than the window, allowed again.
    await getPool().query(`UPDATE email_outbox SET created_at = now() - interval '31 days' WHERE customer_gid = $1`, [gid]);
    expect((await withTransaction((c) => queueEmail(c, input({ customerGid: gid, frequencyCap: { ...cap, categories: [...cap.categories] } })))).status).toBe("queued");
    // A failed email (never delivered) does not count.
    await getPool().query(`UPDATE email_outbox SET status = 'failed' WHERE customer_gid = $1`, [gid]);
    expect((await withTransaction((c) => queueEmail(c, input({ customerGid: gid, frequencyCap: { ...cap, categories: [...cap.categories] } })))).status).toBe("queued");
  });

  it("the cap holds against concurrent callers with different keys", async () => {
    const gid = "gid://shopify/Customer/88";
    const results = await Promise.all(
      Array.from({ length: 8 }, () => withTransaction((c) => queueEmail(c, input({ customerGid: gid, frequencyCap: { categories: ["feedback_request"], days: 30 } })))),
    );
    expect(results.filter((r) => r.status === "queued")).toHaveLength(1);
    expect(results.filter((r) => r.status === "capped")).toHaveLength(7);
  });

  it("bad input is refused with a clear error and writes nothing", async () => {
    await expect(withTransaction((c) => queueEmail(c, input({ to: "not an address", idempotencyKey: "bad-1" })))).rejects.toThrow(EmailInputError);
    await expect(withTransaction((c) => queueEmail(c, input({ idempotencyKey: "" })))).rejects.toThrow(/idempotencyKey/);
    await expect(
      withTransaction((c) => queueEmail(c, input({ idempotencyKey: "bad-2", render: async () => ({ subject: "a\r\nBcc: x@example.com", html: "x", text: "x" }) }))),
    ).rejects.toThrow(/subject must be one line/);
    expect((await getPool().query(`SELECT 1 FROM email_outbox WHERE idempotency_key LIKE 'bad-%'`)).rows).toEqual([]);
  });
});

describe("shop email settings", () => {
  it("defaults, saves, validates", async () => {
    expect(await getShopEmailSettings(getPool(), SHOP)).toEqual({ senderName: null, replyTo: null, footerAddress: null, locale: "en", staffAlertAddress: null });
    const settings = { senderName: "Ana's Shop", replyTo: "help@ana.example", footerAddress: "1 Main St, Lisbon", locale: "pt-br", staffAlertAddress: null };
    await saveShopEmailSettings(getPool(), SHOP, settings);
    expect(await getShopEmailSettings(getPool(), SHOP)).toEqual({ ...settings, locale: "pt-BR" });
    await expect(saveShopEmailSettings(getPool(), SHOP, { ...settings, replyTo: "nope" })).rejects.toThrow(/email/);
    await expect(saveShopEmailSettings(getPool(), SHOP, { ...settings, locale: "not a locale!" })).rejects.toThrow(/BCP 47/);
  });
});

describe("the email settings page's service", () => {
  const shop = "email-settings-page.myshopify.com";
  it("saves valid fields, refuses invalid ones at their field, queues a test email", async () => {
    expect(await saveEmailSettingsForm(shop, { senderName: "Ana", replyTo: "not-an-address", footerAddress: "", locale: "en", staffAlertAddress: "" })).toEqual({
      ok: false,
      errors: { replyTo: "must be an email address" },
    });
    expect(await saveEmailSettingsForm(shop, { senderName: " Ana ", replyTo: "", footerAddress: "1 Main St", locale: "es", staffAlertAddress: "staff@ana.example" })).toMatchObject({ ok: true });
    const page = await getEmailSettingsPage(shop);
    expect(page.settings).toEqual({ senderName: "Ana", replyTo: null, footerAddress: "1 Main St", locale: "es", staffAlertAddress: "staff@ana.example" });
    expect(page.smtpConfigured).toBe(false);
    expect(await sendTestEmailForm(shop, "nope")).toEqual({ ok: false, errors: { testAddress: "Enter an email address" } });
    expect(await sendTestEmailForm(shop, "staff@ana.example")).toMatchObject({ ok: true });
    const { rows } = await getPool().query(`SELECT category, to_address, html FROM email_outbox WHERE shop = $1`, [shop]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ category: "test", to_address: "staff@ana.example" });
    // The shop's locale and footer address in the layout.
    expect(rows[0].html).toContain("Darse de baja");
    expect(rows[0].html).toContain("1 Main St");
    expect((await getEmailSettingsPage(shop)).counts.pending).toBe(1);
  });
});

describe("unsubscribe tokens", () => {
  it("verify only untampered tokens", () => {
    const token = unsubscribeToken("42");
    expect(verifyUnsubscribeToken(token)).toBe("42");
    expect(verifyUnsubscribeToken(token.replace(/^42/, "43"))).toBeNull();
    const sig = token.split(".")[1]!;
    // Every other character at every position of the signature (the last one included, whose
    // low bits are spare in base64url) is refused.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (let i = 0; i < sig.length; i++) {
      for (const ch of alphabet) {
        if (ch === sig[i]) continue;
        expect(verifyUnsubscribeToken(`42.${sig.slice(0, i)}${ch}${sig.slice(i + 1)}`), `position ${i} -> ${ch}`).toBeNull();
      }
    }
    for (const bad of ["", "42", "42.", "x.y", `042.${sig}`, `${token}x`, "../../etc"]) expect(verifyUnsubscribeToken(bad)).toBeNull();
  });
});
