// Logs never carry tokens, secrets or personal data at any depth, nor the row values
// PostgreSQL puts in error details.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../app/logger.server";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger(stream), lines, json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

class DatabaseError extends Error {
  detail = "Failing row contains (42, ana@example.com, Ana, Silva, +351 912 345 678).";
  where = "SQL statement \"INSERT INTO customers VALUES ('ana@example.com')\"";
  code = "23502";
  table = "customers";
}

describe("log redaction", () => {
  it("censors sensitive keys at any depth", () => {
    const { logger, lines } = capture();
    logger.info(
      { shop: "a.myshopify.com", session: { accessToken: "shpat_secret1", nested: { refreshToken: "shprt_secret2", deeper: [{ email: "ana@example.com", phone: "+351912345678" }] } }, headers: { authorization: "Bearer jwt_secret3" } },
      "test.nested",
    );
    const text = lines.join("");
    for (const secret of ["shpat_secret1", "shprt_secret2", "ana@example.com", "+351912345678", "jwt_secret3"]) expect(text).not.toContain(secret);
    expect(text).toContain("a.myshopify.com");
    expect(text).toContain("[redacted]");
  });

  it("drops PostgreSQL's row values from errors, keeping what explains them", () => {
    const { logger, json, lines } = capture();
    const error = new DatabaseError('null value in column "name" violates not-null constraint');
    logger.error({ err: error }, "test.err");
    logger.warn({ context: { failures: [error] } }, "test.nested_err");
    const text = lines.join("");
    expect(text).not.toContain("ana@example.com");
    expect(text).not.toContain("Failing row contains");
    const [first] = json();
    expect(first!.err).toMatchObject({ type: "DatabaseError", code: "23502", table: "customers", message: 'null value in column "name" violates not-null constraint' });
  });
});
