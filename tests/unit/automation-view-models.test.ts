// The rule editor's pure helpers: steps moved up and down, zod problems keyed by field path,
// and a blank trigger / step of every kind (the shapes the editor starts from).
import { describe, expect, it } from "vitest";
import { STEP_KINDS, TRIGGER_KINDS, RuleSchema, TriggerSchema, StepSchema } from "../../app/domain/automations/rules";
import { blankStep, blankTrigger, errorsByPath, moveStep } from "../../app/domain/admin/automation-view-models";

describe("moveStep", () => {
  it("moves one place up or down and refuses to leave the list", () => {
    expect(moveStep(["a", "b", "c"], 1, -1)).toEqual(["b", "a", "c"]);
    expect(moveStep(["a", "b", "c"], 1, 1)).toEqual(["a", "c", "b"]);
    expect(moveStep(["a", "b", "c"], 0, -1)).toEqual(["a", "b", "c"]);
    expect(moveStep(["a", "b", "c"], 2, 1)).toEqual(["a", "b", "c"]);
    const steps = ["a", "b"];
    moveStep(steps, 0, 1);
    expect(steps).toEqual(["a", "b"]);
  });
});

describe("errorsByPath", () => {
  it("keys the first problem of each field by its dotted path", () => {
    const parsed = RuleSchema.safeParse({ name: "", trigger: { kind: "no_order_for", days: 0 }, steps: [{ kind: "points", points: 0, reason: "" }] });
    if (parsed.success) throw new Error("accepted");
    const errors = errorsByPath(parsed.error.issues);
    expect(errors.name).toBe("name is required");
    expect(errors["trigger.days"]).toBe("days must be at least 1");
    expect(errors["steps.0.points"]).toBe("points must not be 0");
    expect(Object.keys(errors)).toContain("steps.0.reason");
  });
});

describe("blank shapes", () => {
  it("every trigger kind's blank trigger is valid", () => {
    for (const kind of TRIGGER_KINDS) {
      const trigger = kind === "segment_entered" || kind === "segment_left" ? { ...blankTrigger(kind), segment: "VIP" } : blankTrigger(kind);
      expect(TriggerSchema.safeParse(trigger).success, kind).toBe(true);
    }
  });
  it("every step kind's blank step has its kind and fields the editor shows", () => {
    for (const kind of STEP_KINDS) expect(blankStep(kind).kind).toBe(kind);
    const filled: Record<string, Record<string, unknown>> = { add_tag: { tag: "crm:x" }, remove_tag: { tag: "crm:x" }, points: { reason: "bonus" }, email: { subject: "s", body: "b" }, webhook: { url: "https://example.com/h" }, flow_trigger: { handle: "crm-automation-fired" } };
    for (const kind of STEP_KINDS) expect(StepSchema.safeParse({ ...blankStep(kind), ...filled[kind] }).success, kind).toBe(true);
  });
});
