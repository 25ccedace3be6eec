// What an SMTP failure means for the message and its address (sender.server.ts), on the error
// shapes nodemailer produces, and the retry backoff.
import { describe, expect, it } from "vitest";
import { backoffMs, classifySmtpError } from "../../app/services/email/sender.server";

const smtpError = (responseCode: number | undefined, command: string, code = "EENVELOPE") =>
  Object.assign(new Error(`failed: ${responseCode ?? ""}`), { responseCode, command, code, response: responseCode ? `${responseCode} reply` : undefined });

describe("classifySmtpError", () => {
  it.each([
    // [what, error, kind]
    ["550 at RCPT TO: the address does not exist", smtpError(550, "RCPT TO"), "bounce"],
    ["554 after DATA: the message refused for good", smtpError(554, "DATA", "EMESSAGE"), "bounce"],
    ["451 at RCPT TO: greylisting", smtpError(451, "RCPT TO"), "transient"],
    ["452 after DATA: the server is full", smtpError(452, "DATA", "EMESSAGE"), "transient"],
    ["421 at the greeting", smtpError(421, "CONN", "ECONNECTION"), "transient"],
    ["connection refused (no response code)", Object.assign(new Error("connect ECONNREFUSED"), { code: "ESOCKET", command: "CONN" }), "transient"],
    ["timeout", Object.assign(new Error("Timeout"), { code: "ETIMEDOUT" }), "transient"],
    ["535 at AUTH: the instance's credentials", smtpError(535, "AUTH PLAIN", "EAUTH"), "setup"],
    ["550 at MAIL FROM: the instance's sender refused", smtpError(550, "MAIL FROM"), "setup"],
    ["a thrown non-error", "boom", "transient"],
  ])("%s", (_what, error, kind) => {
    expect(classifySmtpError(error).kind).toBe(kind);
  });

  it("keeps the server's reply as the message", () => {
    expect(classifySmtpError(smtpError(550, "RCPT TO")).message).toBe("550 reply");
  });
});

describe("backoffMs", () => {
  it("doubles from the base per attempt, jittered down by at most a quarter, capped at an hour", () => {
    expect(backoffMs(1, 30_000, () => 1)).toBe(30_000);
    expect(backoffMs(1, 30_000, () => 0)).toBe(22_500);
    expect(backoffMs(2, 30_000, () => 1)).toBe(60_000);
    expect(backoffMs(4, 30_000, () => 1)).toBe(240_000);
    expect(backoffMs(30, 30_000, () => 1)).toBe(3_600_000);
  });
});
