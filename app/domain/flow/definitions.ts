// The app's Shopify Flow extensions (extensions/crm-flow-*; decision 058): the triggers the
// app sends with flowTriggerReceive and the actions Flow calls on the app. The extension TOMLs
// declare the same handles and fields; tests/contract/flow-extensions.test.ts holds them to
// this file, so a payload built here always carries exactly the fields Flow was told about.
// Pure: no I/O.

/** Field types Shopify documents for Flow trigger and action extensions. */
export const FLOW_FIELD_TYPES = [
  "customer_reference",
  "order_reference",
  "product_reference",
  "single_line_text_field",
  "multi_line_text_field",
  "number_integer",
  "number_decimal",
  "boolean",
  "email",
  "url",
] as const;
export type FlowFieldType = (typeof FLOW_FIELD_TYPES)[number];

/** A declared field. Reference fields have no key: their payload key is fixed (customer_reference -> customer_id). */
export type FlowField = { type: FlowFieldType; key?: string; description?: string; required?: boolean };

export type FlowTriggerDefinition = { handle: string; name: string; description: string; directory: string; fields: FlowField[] };
export type FlowActionDefinition = FlowTriggerDefinition & { runtimePath: string };

export const FLOW_TRIGGERS = {
  segmentEntered: {
    handle: "crm-customer-entered-segment",
    name: "Customer entered CRM segment",
    description: "A customer became a member of one of the CRM's segments.",
    directory: "crm-flow-segment-entered",
    fields: [
      { type: "customer_reference" },
      { type: "single_line_text_field", key: "Segment name", description: "The CRM segment the customer entered." },
    ],
  },
  segmentLeft: {
    handle: "crm-customer-left-segment",
    name: "Customer left CRM segment",
    description: "A customer stopped being a member of one of the CRM's segments.",
    directory: "crm-flow-segment-left",
    fields: [
      { type: "customer_reference" },
      { type: "single_line_text_field", key: "Segment name", description: "The CRM segment the customer left." },
    ],
  },
  tierChanged: {
    handle: "crm-loyalty-tier-changed",
    name: "Loyalty tier changed",
    description: "A customer's loyalty tier changed.",
    directory: "crm-flow-tier-changed",
    fields: [
      { type: "customer_reference" },
      { type: "single_line_text_field", key: "Previous tier", description: "The tier before the change (empty when the customer had none)." },
      { type: "single_line_text_field", key: "New tier", description: "The tier after the change (empty when the customer has none now)." },
    ],
  },
  feedbackReceived: {
    handle: "crm-feedback-received",
    name: "Feedback received",
    description: "A customer answered a feedback request.",
    directory: "crm-flow-feedback-received",
    fields: [
      { type: "customer_reference" },
      { type: "number_integer", key: "Score", description: "The answer's score from 0 to 10 (-1 when the customer gave none)." },
    ],
  },
  automationFired: {
    handle: "crm-automation-fired",
    name: "CRM automation fired",
    description: "One of the CRM's automation rules fired for a customer.",
    directory: "crm-flow-automation-fired",
    fields: [
      { type: "customer_reference" },
      { type: "single_line_text_field", key: "Rule name", description: "The CRM automation rule that fired." },
      { type: "single_line_text_field", key: "Moment", description: "What happened: order_placed, segment_entered, tier_changed, feedback_answered and so on." },
    ],
  },
} as const satisfies Record<string, FlowTriggerDefinition>;

export const FLOW_ACTIONS = {
  awardPoints: {
    handle: "crm-award-loyalty-points",
    name: "Award loyalty points",
    description: "Adds loyalty points to the customer's balance in the CRM (a negative number deducts).",
    directory: "crm-flow-award-points",
    runtimePath: "/flow/actions/award-points",
    fields: [
      { type: "customer_reference", required: true },
      { type: "number_integer", key: "points", description: "Points to add (negative to deduct).", required: true },
      { type: "single_line_text_field", key: "reason", description: "Shown in the customer's points history.", required: false },
    ],
  },
  addTag: {
    handle: "crm-add-customer-tag",
    name: "Add customer tag via CRM",
    description: "Adds a tag (in the CRM's crm: namespace) to the customer through the CRM's tag writer.",
    directory: "crm-flow-add-tag",
    runtimePath: "/flow/actions/add-tag",
    fields: [
      { type: "customer_reference", required: true },
      { type: "single_line_text_field", key: "tag", description: "The tag, starting with crm:", required: true },
    ],
  },
} as const satisfies Record<string, FlowActionDefinition>;

export type FlowTriggerHandle = (typeof FLOW_TRIGGERS)[keyof typeof FLOW_TRIGGERS]["handle"];
export const FLOW_TRIGGER_HANDLES: readonly string[] = Object.values(FLOW_TRIGGERS).map((t) => t.handle);

/** The payload key Shopify uses for a field: the key, or for a reference field its fixed name. */
export function payloadKey(field: FlowField): string {
  if (field.type === "customer_reference") return "customer_id";
  if (field.type === "order_reference") return "order_id";
  if (field.type === "product_reference") return "product_id";
  return field.key!;
}

/** The numeric id of a Shopify gid (reference fields carry the legacy id). */
export function legacyId(gid: string): number {
  const m = /^gid:\/\/shopify\/[A-Za-z]+\/(\d+)$/.exec(gid);
  if (!m) throw new RangeError(`not a Shopify gid: ${gid}`);
  return Number(m[1]);
}

export class FlowPayloadError extends Error {
  override name = "FlowPayloadError";
}

/**
 * The flowTriggerReceive payload of a trigger for a customer's moment (an automation firing's
 * trigger facts: { kind, segment } / { kind, from, to } / { kind, score }; any moment for the
 * generic "CRM automation fired"). Throws
 * FlowPayloadError when the handle is unknown or the moment does not carry what the trigger
 * declares (e.g. a tier trigger on an order moment).
 */
export function buildFlowTriggerPayload({ handle, customerGid, moment, ruleName }: { handle: string; customerGid: string; moment: Record<string, unknown>; ruleName: string }): Record<string, string | number> {
  const customer_id = legacyId(customerGid);
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  switch (handle) {
    case FLOW_TRIGGERS.segmentEntered.handle:
    case FLOW_TRIGGERS.segmentLeft.handle: {
      const want = handle === FLOW_TRIGGERS.segmentEntered.handle ? "segment_entered" : "segment_left";
      if (moment.kind !== want || typeof moment.segment !== "string") throw new FlowPayloadError(`the Flow trigger ${handle} needs a ${want} moment (this one is ${String(moment.kind)})`);
      return { customer_id, "Segment name": moment.segment };
    }
    case FLOW_TRIGGERS.tierChanged.handle:
      if (moment.kind !== "tier_changed") throw new FlowPayloadError(`the Flow trigger ${handle} needs a tier_changed moment (this one is ${String(moment.kind)})`);
      return { customer_id, "Previous tier": str(moment.from), "New tier": str(moment.to) };
    case FLOW_TRIGGERS.feedbackReceived.handle:
      if (moment.kind !== "feedback_answered") throw new FlowPayloadError(`the Flow trigger ${handle} needs a feedback_answered moment (this one is ${String(moment.kind)})`);
      return { customer_id, Score: typeof moment.score === "number" ? moment.score : -1 };
    case FLOW_TRIGGERS.automationFired.handle:
      return { customer_id, "Rule name": ruleName.slice(0, 255), Moment: str(moment.kind) };
    default:
      throw new FlowPayloadError(`unknown Flow trigger handle ${handle} (the app declares ${FLOW_TRIGGER_HANDLES.join(", ")})`);
  }
}

/** The trigger that fits a moment kind, for templates and the rule editor. */
export function flowTriggerForMoment(kind: string): FlowTriggerHandle | null {
  switch (kind) {
    case "segment_entered":
      return FLOW_TRIGGERS.segmentEntered.handle;
    case "segment_left":
      return FLOW_TRIGGERS.segmentLeft.handle;
    case "tier_changed":
      return FLOW_TRIGGERS.tierChanged.handle;
    case "feedback_answered":
      return FLOW_TRIGGERS.feedbackReceived.handle;
    default:
      return null;
  }
}
