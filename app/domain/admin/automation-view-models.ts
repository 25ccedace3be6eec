// The shapes the Automations pages render (app/services/admin-automations.server.ts builds
// them with dates already formatted), and the pure helpers the rule editor needs: labels,
// a blank trigger or step of each kind, and validation problems keyed by field path.
import type { z } from "zod";
import { STEP_KINDS, TRIGGER_KINDS, type StepKind, type TriggerKind } from "../automations/rules";

export const TRIGGER_LABELS: Record<TriggerKind, string> = {
  order_placed: "Order placed",
  order_paid: "Order paid",
  segment_entered: "Customer entered a segment",
  segment_left: "Customer left a segment",
  tier_changed: "Loyalty tier changed",
  points_expiring: "Points about to expire",
  feedback_answered: "Feedback answered",
  no_order_for: "No order for a number of days",
  customer_created: "Customer created",
  birthday: "Customer's birthday (shop's time zone)",
};

export const STEP_LABELS: Record<StepKind, string> = {
  add_tag: "Add a customer tag",
  remove_tag: "Remove a customer tag",
  discount_code: "Create a discount code",
  points: "Award or deduct points",
  email: "Send an email",
  webhook: "Call a webhook",
  flow_trigger: "Fire a Shopify Flow trigger",
  wait: "Wait",
};

export const FIRING_STATUSES = ["pending", "running", "waiting", "done", "skipped", "failed"] as const;
export type FiringStatus = (typeof FIRING_STATUSES)[number];

/** The editor's working copy of a rule: the rule JSON as typed (checked by the server on save). */
export type DraftTrigger = { kind: string } & Record<string, unknown>;
export type DraftStep = { kind: string } & Record<string, unknown>;
export type RuleDraft = {
  name: string;
  enabled: boolean;
  trigger: DraftTrigger;
  condition: string | null;
  steps: DraftStep[];
  reentry: { mode: string; days?: number };
};

/** Problems by field path ("name", "trigger.days", "steps.1.discount.value"); "" for the rule as a whole. */
export type FieldErrors = Record<string, string>;

/** zod issues -> the first message per field path. */
export function errorsByPath(issues: readonly Pick<z.core.$ZodIssue, "path" | "message">[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const path = issue.path.map(String).join(".");
    if (!(path in errors)) errors[path] = issue.message;
  }
  return errors;
}

export function blankTrigger(kind: string): DraftTrigger {
  switch (kind as TriggerKind) {
    case "order_placed":
    case "order_paid":
      return { kind, minTotal: null, maxTotal: null, productTypes: [], discountUsed: null, nthOrder: null };
    case "segment_entered":
    case "segment_left":
      return { kind, segment: "" };
    case "tier_changed":
      return { kind, toTier: null, upgradesOnly: false };
    case "points_expiring":
      return { kind, daysBefore: 14 };
    case "feedback_answered":
      return { kind, minScore: null, maxScore: null };
    case "no_order_for":
      return { kind, days: 90 };
    default:
      return { kind };
  }
}

export function blankStep(kind: string): DraftStep {
  switch (kind as StepKind) {
    case "add_tag":
    case "remove_tag":
      return { kind, tag: "crm:" };
    case "discount_code":
      return { kind, discount: { kind: "percentage", value: 10, minimumOrder: null, validityDays: 30 }, email: null };
    case "points":
      return { kind, points: 100, reason: "" };
    case "email":
      return { kind, subject: "", body: "" };
    case "webhook":
      return { kind, url: "https://" };
    case "flow_trigger":
      return { kind, handle: "" };
    case "wait":
      return { kind, days: 3, minutes: 0, until: null };
    default:
      return { kind };
  }
}

export const TRIGGER_OPTIONS = TRIGGER_KINDS.map((k) => ({ value: k, label: TRIGGER_LABELS[k] }));
export const STEP_OPTIONS = STEP_KINDS.map((k) => ({ value: k, label: STEP_LABELS[k] }));

/** Moves the step at `index` by `delta` (-1 up, +1 down); out of range: unchanged. */
export function moveStep<T>(steps: readonly T[], index: number, delta: number): T[] {
  const to = index + delta;
  if (index < 0 || index >= steps.length || to < 0 || to >= steps.length) return [...steps];
  const next = [...steps];
  const [moved] = next.splice(index, 1);
  next.splice(to, 0, moved as T);
  return next;
}

export type AutomationListRow = {
  id: string;
  name: string;
  trigger: string;
  enabled: boolean;
  fired7d: number;
  failed: number;
  updatedAt: string;
};

export type TemplateOption = { key: string; name: string; trigger: string };

export type AutomationsListView = { rules: AutomationListRow[]; templates: TemplateOption[] };

export type RuleEditorView = { id: string | null; version: number | null; draft: RuleDraft; segments: string[] };

export type RuleFormResult = { ok: true; id: string; message: string } | { ok: false; errors: FieldErrors };

export type DryRunCustomer = { id: string; name: string; email: string | null };
export type DryRunView = {
  days: number;
  moments: number;
  wouldFire: number;
  blockedByReentry: number;
  blockedByCondition: number;
  customers: DryRunCustomer[];
  /** The rule version the dry run used (the saved one). */
  version: number;
};

export type FiringLogRow = {
  id: string;
  ruleId: string;
  ruleName: string;
  customerId: string;
  customerName: string;
  eventKey: string;
  firedAt: string;
  status: string;
  skipReason: string | null;
  conditionResult: boolean | null;
  lastError: string | null;
  actions: { step: number; kind: string; status: string; error: string | null }[];
};

export type FiringLogFilters = { rule: string | null; status: FiringStatus | null; customer: string | null; before: string | null };

export type FiringLogView = { filters: FiringLogFilters; rows: FiringLogRow[]; olderCursor: string | null; rules: { id: string; name: string }[] };
