// The admin's opaque keyset cursors: round trips, and anything else is "no cursor".
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../app/domain/admin/keyset-cursor";

describe("keyset cursors", () => {
  it.each([
    ["timestamp", "2026-02-03 11:30:00+00", "17"],
    ["timestamp", "2026-02-03 11:30:00.123+00", "17"],
    ["timestamp", "-infinity", "9223372036854775807"],
    ["timestamp", "infinity", "1"],
    ["integer", "12448", "3"],
    ["integer", "-5", "3"],
  ] as const)("round-trips a %s key %s", (kind, key, id) => {
    const cursor = encodeCursor({ sort: "s", key, id });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/); // safe in a URL as it is
    expect(decodeCursor({ cursor, sort: "s", kind })).toEqual({ sort: "s", key, id });
  });

  it.each([
    ["another sort's cursor", encodeCursor({ sort: "spent_desc", key: "100", id: "1" }), "integer"],
    ["a key of the wrong kind", encodeCursor({ sort: "s", key: "100", id: "1" }), "timestamp"],
    ["an SQL fragment as key", encodeCursor({ sort: "s", key: "1); DROP TABLE x;--", id: "1" }), "integer"],
    ["a non-numeric id", encodeCursor({ sort: "s", key: "100", id: "1 OR 1=1" }), "integer"],
    ["not base64url", "abc+/=", "integer"],
    ["base64 of no JSON", Buffer.from("nope").toString("base64url"), "integer"],
    ["JSON of the wrong shape", Buffer.from(JSON.stringify({ s: "s" })).toString("base64url"), "integer"],
    ["an empty cursor", "", "integer"],
    ["an overlong cursor", "a".repeat(201), "integer"],
  ] as const)("ignores %s", (_what, cursor, kind) => {
    expect(decodeCursor({ cursor, sort: "s", kind })).toBeNull();
  });
});
