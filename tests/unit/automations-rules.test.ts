// The automation rule format and the pure decisions (app/domain/automations/rules.ts): table-driven, no I/O.
import { describe, expect, it } from "vitest";
import { fillTemplate, inactivityDueDay, orderMatches, parseRule, reentryAllows, scoreMatches, tierChangeMatches, underMessageCap, waitMs, type OrderFacts, type Trigger } from "../../app/domain/automations/rules";
import { AUTOMATION_TEMPLATES } from "../../app/domain/automations/templates";

const DAY = 86_400_000;
const base = { name: "r", trigger: { kind: "order_placed" }, steps: [{ kind: "add_tag", tag: "crm:x" }] };

describe("the rule format", () => {
  it("fills defaults: off, re-entry once, no condition", () => {
    const parsed = parseRule(base);
    expect(parsed).toMatchObject({ ok: true, rule: { enabled: false, reentry: { mode: "once" }, condition: null, trigger: { kind: "order_placed", minTotal: null, productTypes: [], nthOrder: null } } });
  });

  it.each([
    [{ ...base, steps: [{ kind: "add_tag", tag: "vip" }] }, 'must start with "crm:"'],
    [{ ...base, condition: "amount_spent >" }, "condition:"],
    [{ ...base, steps: [{ kind: "wait", days: 1 }] }, "at least one action"],
    [{ ...base, steps: [{ kind: "wait", days: 0, minutes: 0 }, { kind: "add_tag", tag: "crm:a" }] }, "at least a minute"],
    [{ ...base, trigger: { kind: "anniversary" } }, "trigger.kind must be one of"],
    [{ ...base, trigger: { kind: "birthday", daysBefore: 3 } }, "Unrecognized key"],
    [{ ...base, trigger: { kind: "no_order_for", days: 0 } }, "days must be at least 1"],
    [{ ...base, steps: [{ kind: "points", points: 0, reason: "x" }] }, "points must not be 0"],
    [{ ...base, steps: [{ kind: "webhook", url: "ftp://x" }] }, "http(s) URL"],
    [{ ...base, trigger: { kind: "order_paid", minTotal: "ten" } }, "decimal string"],
    [{ ...base, extra: 1 }, "Unrecognized key"],
  ])("refuses %j (%s)", (input, message) => {
    const parsed = parseRule(input);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors.join("\n")).toContain(message);
  });

  it("every shipped template is a valid rule", () => {
    for (const [name, template] of Object.entries(AUTOMATION_TEMPLATES)) expect(parseRule(template).ok, name).toBe(true);
  });
});

describe("order triggers", () => {
  const order: OrderFacts = { currency: "USD", totalPriceMinor: 5_000n, productTypes: ["Shoes", null], discountCodes: [], nth: 1, test: false, cancelled: false };
  const trigger = (t: Record<string, unknown>) => (parseRule({ ...base, trigger: { kind: "order_placed", ...t } }) as { ok: true; rule: { trigger: Trigger } }).rule.trigger as Extract<Trigger, { kind: "order_placed" }>;
  it.each([
    [{}, order, true],
    [{ minTotal: "50.00" }, order, true],
    [{ minTotal: "50.01" }, order, false],
    [{ maxTotal: "49.99" }, order, false],
    [{ productTypes: ["shoes"] }, order, true],
    [{ productTypes: ["Hats"] }, order, false],
    [{ discountUsed: true }, order, false],
    [{ discountUsed: false }, order, true],
    [{ discountUsed: true }, { ...order, discountCodes: ["X"] }, true],
    [{ nthOrder: 1 }, order, true],
    [{ nthOrder: 2 }, order, false],
    [{}, { ...order, test: true }, false],
    [{}, { ...order, cancelled: true }, false],
    [{ minTotal: "500" }, { ...order, currency: "JPY", totalPriceMinor: 500n }, true],
  ])("order case %#", (t, o, expected) => {
    expect(orderMatches(trigger(t), o)).toBe(expected);
  });
});

describe("tier, score, re-entry, cap, wait, template text, inactivity day", () => {
  const rank = (t: string | null) => ["silver", "gold"].indexOf((t ?? "").toLowerCase());
  it.each([
    [{ toTier: null, upgradesOnly: false }, { from: "Silver", to: "Gold" }, true],
    [{ toTier: "gold", upgradesOnly: true }, { from: "Silver", to: "Gold" }, true],
    [{ toTier: null, upgradesOnly: true }, { from: "Gold", to: "Silver" }, false],
    [{ toTier: "Silver", upgradesOnly: false }, { from: "Silver", to: "Gold" }, false],
    [{ toTier: null, upgradesOnly: false }, { from: "Gold", to: "Gold" }, false],
  ])("tier %j, change %j: %s", (t, change, expected) => {
    expect(tierChangeMatches({ kind: "tier_changed", ...t }, change, rank)).toBe(expected);
  });

  it("scores", () => {
    expect(scoreMatches({ kind: "feedback_answered", minScore: null, maxScore: 6 }, 6)).toBe(true);
    expect(scoreMatches({ kind: "feedback_answered", minScore: null, maxScore: 6 }, 7)).toBe(false);
    expect(scoreMatches({ kind: "feedback_answered", minScore: 9, maxScore: null }, 10)).toBe(true);
  });

  const at = new Date("2026-06-01T00:00:00Z");
  it.each([
    [{ mode: "once" as const }, [], true],
    [{ mode: "once" as const }, [new Date(at.getTime() - 400 * DAY)], false],
    [{ mode: "every_time" as const }, [at], true],
    [{ mode: "once_per" as const, days: 30 }, [new Date(at.getTime() - 29 * DAY)], false],
    [{ mode: "once_per" as const, days: 30 }, [new Date(at.getTime() - 31 * DAY)], true],
    // Out of order: a later moment already fired; the window holds both ways.
    [{ mode: "once_per" as const, days: 30 }, [new Date(at.getTime() + 5 * DAY)], false],
  ])("re-entry %j with earlier %j: %s", (reentry, earlier, expected) => {
    expect(reentryAllows({ reentry, earlier, occurredAt: at })).toBe(expected);
  });

  it("cap, wait, template", () => {
    expect(underMessageCap({ sentThisWeek: 2, perWeek: 3 })).toBe(true);
    expect(underMessageCap({ sentThisWeek: 3, perWeek: 3 })).toBe(false);
    expect(waitMs({ kind: "wait", days: 1, minutes: 30, until: null })).toBe(DAY + 30 * 60_000);
    expect(fillTemplate("Hi {{first_name}}, {{ code }} {{unknown}}", { first_name: "Ana", code: "PTS-1" })).toBe("Hi Ana, PTS-1 {{unknown}}");
  });

  it("inactivity is counted in the shop's days", () => {
    // 02:00 UTC on June 2 is still June 1 in New York: 90 days from June 1.
    expect(inactivityDueDay({ lastOrderAt: new Date("2026-06-02T02:00:00Z"), days: 90, timeZone: "America/New_York" })).toBe("2026-08-30");
    expect(inactivityDueDay({ lastOrderAt: new Date("2026-06-02T02:00:00Z"), days: 90, timeZone: "UTC" })).toBe("2026-08-31");
  });
});
