// The automation rule editor: name, trigger and its parameters, the condition (the segment
// editor's query field and live count), steps (actions and waits: add, remove, reorder),
// re-entry, and the dry run of the saved rule. The draft is sent as the rule JSON; the server
// checks it with the rule schema and answers problems by field path, shown at their fields.
import { useState } from "react";
import { Badge, Banner, BlockStack, Box, Button, ButtonGroup, Card, Checkbox, InlineGrid, InlineStack, Layout, Link, Select, Text, TextField } from "@shopify/polaris";
import { PreviewCard, useLivePreview } from "../segments/segment-editor";
import { QueryEditor } from "../segments/query-editor";
import { useFormat } from "../format-context";
import {
  STEP_LABELS,
  STEP_OPTIONS,
  TRIGGER_OPTIONS,
  blankStep,
  blankTrigger,
  moveStep,
  type DraftStep,
  type DryRunView,
  type FieldErrors,
  type RuleDraft,
} from "../../domain/admin/automation-view-models";
import type { SegmentError } from "../../domain/admin/segment-view-models";

const NO_ERRORS: readonly SegmentError[] = [];

/** A number field's text -> the number, `blank` when empty, the text itself when not a number (the server says so). */
const num = (text: string, blank: null | undefined = null): number | string | null | undefined => {
  if (text.trim() === "") return blank;
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
};
const text = (value: unknown) => (value === null || value === undefined ? "" : String(value));
const textOrNull = (value: string) => (value.trim() === "" ? null : value);

type FieldProps = { label: string; path: string; value: unknown; errors: FieldErrors; onChange: (value: string) => void; type?: "text" | "number"; helpText?: string; multiline?: number; placeholder?: string };

function Field({ label, path, value, errors, onChange, type = "text", helpText, multiline, placeholder }: FieldProps) {
  return (
    <TextField
      label={label}
      value={text(value)}
      onChange={onChange}
      autoComplete="off"
      type={type}
      helpText={helpText}
      multiline={multiline}
      placeholder={placeholder}
      error={errors[path]}
    />
  );
}

function TriggerFields({ trigger, segments, errors, onChange }: { trigger: RuleDraft["trigger"]; segments: string[]; errors: FieldErrors; onChange: (patch: Record<string, unknown>) => void }) {
  const p = (name: string) => `trigger.${name}`;
  switch (trigger.kind) {
    case "order_placed":
    case "order_paid":
      return (
        <InlineGrid columns={{ xs: 1, md: 2 }} gap="300">
          <Field label="Minimum order total" path={p("minTotal")} value={trigger.minTotal} errors={errors} onChange={(v) => onChange({ minTotal: textOrNull(v) })} placeholder="Any" />
          <Field label="Maximum order total" path={p("maxTotal")} value={trigger.maxTotal} errors={errors} onChange={(v) => onChange({ maxTotal: textOrNull(v) })} placeholder="Any" />
          <Field
            label="Product types"
            path={p("productTypes")}
            value={((trigger.productTypes as string[] | undefined) ?? []).join(", ")}
            errors={errors}
            helpText="Comma-separated; empty: any product"
            onChange={(v) => onChange({ productTypes: v.split(",").map((s) => s.trim()).filter(Boolean) })}
          />
          <Select
            label="Discount code used"
            options={[
              { label: "Either", value: "" },
              { label: "Yes", value: "true" },
              { label: "No", value: "false" },
            ]}
            value={trigger.discountUsed === null || trigger.discountUsed === undefined ? "" : String(trigger.discountUsed)}
            onChange={(v) => onChange({ discountUsed: v === "" ? null : v === "true" })}
            error={errors[p("discountUsed")]}
          />
          <Field label="Only the customer's n-th order" path={p("nthOrder")} type="number" value={trigger.nthOrder} errors={errors} helpText="1: the first order; empty: any order" onChange={(v) => onChange({ nthOrder: num(v) })} />
        </InlineGrid>
      );
    case "segment_entered":
    case "segment_left": {
      const current = text(trigger.segment);
      const names = current && !segments.includes(current) ? [current, ...segments] : segments;
      return (
        <Select
          label="Segment"
          options={[{ label: "Choose a segment", value: "" }, ...names.map((n) => ({ label: n, value: n }))]}
          value={current}
          onChange={(v) => onChange({ segment: v })}
          error={errors[p("segment")]}
        />
      );
    }
    case "tier_changed":
      return (
        <InlineGrid columns={{ xs: 1, md: 2 }} gap="300">
          <Field label="To tier" path={p("toTier")} value={trigger.toTier} errors={errors} helpText="A tier's name; empty: any change" onChange={(v) => onChange({ toTier: textOrNull(v) })} />
          <Checkbox label="Only upgrades" checked={trigger.upgradesOnly === true} onChange={(v) => onChange({ upgradesOnly: v })} />
        </InlineGrid>
      );
    case "points_expiring":
      return <Field label="Days before the points expire" path={p("daysBefore")} type="number" value={trigger.daysBefore} errors={errors} onChange={(v) => onChange({ daysBefore: num(v) })} />;
    case "feedback_answered":
      return (
        <InlineGrid columns={2} gap="300">
          <Field label="Lowest score (0-10)" path={p("minScore")} type="number" value={trigger.minScore} errors={errors} onChange={(v) => onChange({ minScore: num(v) })} />
          <Field label="Highest score (0-10)" path={p("maxScore")} type="number" value={trigger.maxScore} errors={errors} onChange={(v) => onChange({ maxScore: num(v) })} />
        </InlineGrid>
      );
    case "no_order_for":
      return <Field label="Days without an order" path={p("days")} type="number" value={trigger.days} errors={errors} helpText="Counted in the shop's time zone" onChange={(v) => onChange({ days: num(v) })} />;
    default:
      return null;
  }
}

function EmailFields({ path, value, errors, onChange }: { path: string; value: Record<string, unknown>; errors: FieldErrors; onChange: (patch: Record<string, unknown>) => void }) {
  return (
    <BlockStack gap="200">
      <Field label="Subject" path={`${path}subject`} value={value.subject} errors={errors} onChange={(v) => onChange({ subject: v })} />
      <Field
        label="Body"
        path={`${path}body`}
        value={value.body}
        errors={errors}
        multiline={3}
        helpText="Plain text; {{first_name}}, {{shop_name}}, {{code}} and {{code_expires}} are filled in"
        onChange={(v) => onChange({ body: v })}
      />
    </BlockStack>
  );
}

function StepFields({ step, index, errors, onChange }: { step: DraftStep; index: number; errors: FieldErrors; onChange: (step: DraftStep) => void }) {
  const p = (name: string) => `steps.${index}.${name}`;
  const patch = (values: Record<string, unknown>) => onChange({ ...step, ...values });
  switch (step.kind) {
    case "add_tag":
    case "remove_tag":
      return <Field label="Tag" path={p("tag")} value={step.tag} errors={errors} helpText="Starts with crm: (the app's namespace)" onChange={(v) => patch({ tag: v })} />;
    case "discount_code": {
      const discount = (step.discount ?? {}) as Record<string, unknown>;
      const setDiscount = (values: Record<string, unknown>) => patch({ discount: { ...discount, ...values } });
      const email = step.email as Record<string, unknown> | null;
      return (
        <BlockStack gap="300">
          <InlineGrid columns={{ xs: 1, md: 2 }} gap="300">
            <Select
              label="Discount"
              options={[
                { label: "Percentage", value: "percentage" },
                { label: "Fixed amount", value: "fixed_amount" },
                { label: "Free shipping", value: "free_shipping" },
              ]}
              value={text(discount.kind)}
              onChange={(kind) => setDiscount({ kind, value: kind === "percentage" ? 10 : kind === "fixed_amount" ? "10.00" : null })}
            />
            {discount.kind === "percentage" ? (
              <Field label="Percent off" path={p("discount.value")} type="number" value={discount.value} errors={errors} onChange={(v) => setDiscount({ value: num(v) })} />
            ) : discount.kind === "fixed_amount" ? (
              <Field label="Amount off" path={p("discount.value")} value={discount.value} errors={errors} onChange={(v) => setDiscount({ value: v })} />
            ) : null}
            <Field label="Minimum subtotal" path={p("discount.minimumOrder")} value={discount.minimumOrder} errors={errors} placeholder="None" onChange={(v) => setDiscount({ minimumOrder: textOrNull(v) })} />
            <Field label="Valid for (days)" path={p("discount.validityDays")} type="number" value={discount.validityDays} errors={errors} onChange={(v) => setDiscount({ validityDays: num(v, undefined) })} />
          </InlineGrid>
          <Checkbox label="Email the code to the customer" checked={email !== null && email !== undefined} onChange={(on) => patch({ email: on ? { subject: "", body: "" } : null })} />
          {email ? <EmailFields path={p("email.")} value={email} errors={errors} onChange={(values) => patch({ email: { ...email, ...values } })} /> : null}
        </BlockStack>
      );
    }
    case "points":
      return (
        <InlineGrid columns={{ xs: 1, md: 2 }} gap="300">
          <Field label="Points" path={p("points")} type="number" value={step.points} errors={errors} helpText="Negative to deduct" onChange={(v) => patch({ points: num(v) })} />
          <Field label="Reason" path={p("reason")} value={step.reason} errors={errors} onChange={(v) => patch({ reason: v })} />
        </InlineGrid>
      );
    case "email":
      return <EmailFields path={`steps.${index}.`} value={step} errors={errors} onChange={patch} />;
    case "webhook":
      return <Field label="URL" path={p("url")} value={step.url} errors={errors} helpText="Receives the firing as JSON, signed with the rule's secret" onChange={(v) => patch({ url: v })} />;
    case "flow_trigger":
      return <Field label="Flow trigger handle" path={p("handle")} value={step.handle} errors={errors} onChange={(v) => patch({ handle: v })} />;
    case "wait":
      return (
        <BlockStack gap="300">
          <InlineGrid columns={2} gap="300">
            <Field label="Days" path={p("days")} type="number" value={step.days} errors={errors} onChange={(v) => patch({ days: num(v, undefined) })} />
            <Field label="Minutes" path={p("minutes")} type="number" value={step.minutes} errors={errors} onChange={(v) => patch({ minutes: num(v, undefined) })} />
          </InlineGrid>
          <Field
            label="Then go on only if"
            path={p("until")}
            value={step.until}
            errors={errors}
            placeholder="number_of_orders = 0"
            helpText="A segment query checked when the wait ends; empty: always go on"
            onChange={(v) => patch({ until: textOrNull(v) })}
          />
          {errors[`steps.${index}`] ? (
            <Text as="p" tone="critical">
              {errors[`steps.${index}`]}
            </Text>
          ) : null}
        </BlockStack>
      );
    default:
      return null;
  }
}

function DryRunCard({ saved, dryRun, busy, onDryRun }: { saved: boolean; dryRun: DryRunView | null; busy: boolean; onDryRun: () => void }) {
  const fmt = useFormat();
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Dry run
        </Text>
        {saved ? (
          <Button onClick={onDryRun} loading={busy}>
            Dry run (last 30 days)
          </Button>
        ) : (
          <Text as="p" tone="subdued">
            Save the rule to dry-run it.
          </Text>
        )}
        {dryRun ? (
          <BlockStack gap="200">
            <div data-automation-dry-run={dryRun.wouldFire}>
              <Text as="p" variant="headingLg">
                {`Would have fired ${fmt.countOf(dryRun.wouldFire, "time")} in the last ${dryRun.days} days`}
              </Text>
            </div>
            <Text as="p" tone="subdued" variant="bodySm">
              {`${fmt.countOf(dryRun.moments, "moment")} matched the trigger; ${fmt.count(dryRun.blockedByReentry)} held back by re-entry, ${fmt.count(dryRun.blockedByCondition)} by the condition (checked on customers as they are now). Saved version ${dryRun.version}.`}
            </Text>
            {dryRun.customers.length > 0 ? (
              <ul data-automation-dry-run-customers="" style={{ margin: 0, paddingLeft: 0, listStyle: "none" }}>
                {dryRun.customers.map((c) => (
                  <li key={c.id} style={{ padding: "2px 0" }}>
                    <Link url={`/app/customers/${c.id}`} removeUnderline>
                      {c.name}
                    </Link>
                    {c.email && c.email !== c.name ? (
                      <Text as="span" tone="subdued" variant="bodySm">
                        {" "}
                        · {c.email}
                      </Text>
                    ) : null}
                  </li>
                ))}
              </ul>
            ) : null}
          </BlockStack>
        ) : null}
      </BlockStack>
    </Card>
  );
}

export function RuleEditor({
  initial,
  segments,
  saved,
  errors,
  saving,
  dryRun,
  dryRunning,
  onSave,
  onDryRun,
  cancelUrl,
}: {
  initial: RuleDraft;
  segments: string[];
  saved: boolean;
  errors: FieldErrors;
  saving: boolean;
  dryRun: DryRunView | null;
  dryRunning: boolean;
  onSave: (draft: RuleDraft) => void;
  onDryRun: () => void;
  cancelUrl: string;
}) {
  const [draft, setDraft] = useState<RuleDraft>(initial);
  const [newStepKind, setNewStepKind] = useState<string>("add_tag");
  const condition = draft.condition ?? "";
  const preview = useLivePreview(condition);
  const conditionErrors = preview.current && !preview.current.ok ? preview.current.errors : NO_ERRORS;
  const set = (patch: Partial<RuleDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const setStep = (index: number, step: DraftStep) => setDraft((d) => ({ ...d, steps: d.steps.map((s, i) => (i === index ? step : s)) }));
  const ruleErrors = Object.entries(errors);
  return (
    <Layout>
      {ruleErrors.length > 0 ? (
        <Layout.Section>
          <Banner tone="critical" title="The rule was not saved">
            <ul data-automation-errors="" style={{ margin: 0, paddingLeft: 20 }}>
              {ruleErrors.map(([path, message]) => (
                <li key={path}>{path ? `${path}: ${message}` : message}</li>
              ))}
            </ul>
          </Banner>
        </Layout.Section>
      ) : null}
      <Layout.Section>
        <BlockStack gap="400">
          <Card>
            <BlockStack gap="300">
              <Field label="Rule name" path="name" value={draft.name} errors={errors} onChange={(v) => set({ name: v })} />
              <Checkbox label="On (fires on new moments)" checked={draft.enabled} onChange={(v) => set({ enabled: v })} />
            </BlockStack>
          </Card>
          <Card>
            <BlockStack gap="300">
              <Text as="h2" variant="headingMd">
                When
              </Text>
              <Select label="Trigger" options={TRIGGER_OPTIONS} value={draft.trigger.kind} onChange={(kind) => set({ trigger: blankTrigger(kind) })} error={errors["trigger.kind"] ?? errors.trigger} />
              <TriggerFields trigger={draft.trigger} segments={segments} errors={errors} onChange={(patch) => set({ trigger: { ...draft.trigger, ...patch } })} />
            </BlockStack>
          </Card>
          <Card>
            <BlockStack gap="300">
              <Text as="h2" variant="headingMd">
                If the customer matches
              </Text>
              <QueryEditor
                id="automation-condition"
                name="condition"
                label="Condition"
                value={condition}
                onChange={(v) => set({ condition: v.trim() === "" ? null : v })}
                errors={conditionErrors}
                placeholder="Empty: every customer. For example rfm_group = 'at_risk'"
              />
              {errors.condition ? (
                <Text as="p" tone="critical">
                  {errors.condition}
                </Text>
              ) : null}
            </BlockStack>
          </Card>
          <Card>
            <BlockStack gap="400">
              <Text as="h2" variant="headingMd">
                Then
              </Text>
              {errors.steps ? (
                <Text as="p" tone="critical">
                  {errors.steps}
                </Text>
              ) : null}
              {draft.steps.map((step, index) => (
                <Box key={index} padding="300" borderWidth="025" borderColor="border" borderRadius="200">
                  <div data-automation-step={index}>
                    <BlockStack gap="300">
                      <InlineStack align="space-between" blockAlign="center">
                        <InlineStack gap="200" blockAlign="center">
                          <Badge>{String(index + 1)}</Badge>
                          <Text as="h3" variant="headingSm">
                            {STEP_LABELS[step.kind as keyof typeof STEP_LABELS] ?? step.kind}
                          </Text>
                        </InlineStack>
                        <ButtonGroup>
                          <Button size="slim" disabled={index === 0} onClick={() => set({ steps: moveStep(draft.steps, index, -1) })} accessibilityLabel={`Move step ${index + 1} up`}>
                            Up
                          </Button>
                          <Button
                            size="slim"
                            disabled={index === draft.steps.length - 1}
                            onClick={() => set({ steps: moveStep(draft.steps, index, 1) })}
                            accessibilityLabel={`Move step ${index + 1} down`}
                          >
                            Down
                          </Button>
                          <Button size="slim" tone="critical" onClick={() => set({ steps: draft.steps.filter((_, i) => i !== index) })} accessibilityLabel={`Remove step ${index + 1}`}>
                            Remove
                          </Button>
                        </ButtonGroup>
                      </InlineStack>
                      <StepFields step={step} index={index} errors={errors} onChange={(s) => setStep(index, s)} />
                      {errors[`steps.${index}.kind`] ? (
                        <Text as="p" tone="critical">
                          {errors[`steps.${index}.kind`]}
                        </Text>
                      ) : null}
                    </BlockStack>
                  </div>
                </Box>
              ))}
              <InlineStack gap="200" blockAlign="end">
                <Select label="New step" options={STEP_OPTIONS} value={newStepKind} onChange={setNewStepKind} />
                <Button onClick={() => set({ steps: [...draft.steps, blankStep(newStepKind)] })}>Add step</Button>
              </InlineStack>
            </BlockStack>
          </Card>
          <Card>
            <BlockStack gap="300">
              <Text as="h2" variant="headingMd">
                Re-entry
              </Text>
              <Select
                label="A customer can go through this rule"
                options={[
                  { label: "Once ever", value: "once" },
                  { label: "Once per number of days", value: "once_per" },
                  { label: "Every time", value: "every_time" },
                ]}
                value={draft.reentry.mode}
                onChange={(mode) => set({ reentry: mode === "once_per" ? { mode, days: 30 } : { mode } })}
              />
              {draft.reentry.mode === "once_per" ? (
                <Field label="Days between two firings" path="reentry.days" type="number" value={draft.reentry.days} errors={errors} onChange={(v) => set({ reentry: { mode: "once_per", days: num(v) as number } })} />
              ) : null}
            </BlockStack>
          </Card>
          <InlineStack align="end" gap="200">
            <Button url={cancelUrl}>Cancel</Button>
            <Button variant="primary" loading={saving} onClick={() => onSave(draft)}>
              Save rule
            </Button>
          </InlineStack>
        </BlockStack>
      </Layout.Section>
      <Layout.Section variant="oneThird">
        <BlockStack gap="400">
          <PreviewCard preview={preview} blankText="No condition: every customer the trigger brings goes on. Type a query to see who matches now." />
          <DryRunCard saved={saved} dryRun={dryRun} busy={dryRunning} onDryRun={onDryRun} />
        </BlockStack>
      </Layout.Section>
    </Layout>
  );
}
