// The feedback settings page's pieces: the rules list, the rule editor (fields of the rules
// file, errors at their field), the switches, the email preview and "Send a test to me".
import { useState } from "react";
import type { RuleFormValues } from "../../domain/feedback/rule-form";
import { Badge, BlockStack, Button, Card, Checkbox, FormLayout, InlineStack, Select, Text, TextField } from "@shopify/polaris";

export type RuleForm = RuleFormValues;
export type RuleErrors = Partial<Record<keyof RuleForm | "form", string>>;

export const NEW_RULE: RuleForm = {
  name: "",
  enabled: true,
  trigger: "order_fulfilled",
  delayDays: "5",
  posDelayDays: "",
  segment: "",
  minimumTotal: "",
  includeTypes: "",
  excludeTypes: "",
  reminderCount: "0",
  reminderSpacingDays: "3",
  linkExpiryDays: "180",
};

export function RulesList({
  rules,
  busy,
  onEdit,
  onDelete,
  onAdd,
}: {
  rules: { name: string; enabled: boolean; summary: string }[];
  busy: boolean;
  onEdit: (name: string) => void;
  onDelete: (name: string) => void;
  onAdd: () => void;
}) {
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingMd">
            Rules
          </Text>
          <Button onClick={onAdd} disabled={busy}>
            Add rule
          </Button>
        </InlineStack>
        {rules.length === 0 ? (
          <Text as="p" tone="subdued">
            No rules yet: no feedback requests are sent.
          </Text>
        ) : (
          rules.map((r) => (
            <div key={r.name} data-feedback-rule={r.name}>
              <InlineStack align="space-between" blockAlign="center" wrap={false} gap="200">
                <BlockStack gap="050">
                  <InlineStack gap="200">
                    <Text as="span" fontWeight="semibold">
                      {r.name}
                    </Text>
                    {r.enabled ? <Badge tone="success">Enabled</Badge> : <Badge>Disabled</Badge>}
                  </InlineStack>
                  <Text as="span" variant="bodySm" tone="subdued">
                    {r.summary}
                  </Text>
                </BlockStack>
                <InlineStack gap="200" wrap={false}>
                  <Button onClick={() => onEdit(r.name)} disabled={busy} accessibilityLabel={`Edit rule ${r.name}`}>
                    Edit
                  </Button>
                  <Button tone="critical" onClick={() => onDelete(r.name)} disabled={busy} accessibilityLabel={`Delete rule ${r.name}`}>
                    Delete
                  </Button>
                </InlineStack>
              </InlineStack>
            </div>
          ))
        )}
      </BlockStack>
    </Card>
  );
}

export function RuleEditor({
  initial,
  originalName,
  errors,
  busy,
  onSave,
  onCancel,
}: {
  initial: RuleForm;
  originalName: string | null;
  errors: RuleErrors;
  busy: boolean;
  onSave: (values: RuleForm) => void;
  onCancel: () => void;
}) {
  const [v, setV] = useState(initial);
  const text = (name: Exclude<keyof RuleForm, "enabled">) => ({
    value: v[name],
    onChange: (value: string) => setV((old) => ({ ...old, [name]: value })),
    error: errors[name],
    autoComplete: "off",
  });
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          {originalName ? `Edit rule "${originalName}"` : "New rule"}
        </Text>
        {errors.form ? (
          <Text as="p" tone="critical">
            {errors.form}
          </Text>
        ) : null}
        <FormLayout>
          <TextField
            label="Rule name"
            {...text("name")}
            maxLength={100}
            helpText={originalName ? "A rule is known by its name: renamed, it is a new rule, and requests not yet sent under the old name are skipped." : undefined}
          />
          <Checkbox label="Enabled" checked={v.enabled} onChange={(checked) => setV((old) => ({ ...old, enabled: checked }))} error={errors.enabled} />
          <FormLayout.Group>
            <Select
              label="Trigger"
              options={[
                { label: "Order fulfilled", value: "order_fulfilled" },
                { label: "Order paid", value: "order_paid" },
              ]}
              value={v.trigger}
              onChange={(value) => setV((old) => ({ ...old, trigger: value }))}
              error={errors.trigger}
            />
            <TextField label="Delay (days)" type="number" helpText="0-60 days after the trigger" {...text("delayDays")} />
            <TextField label="Point-of-sale delay (days)" type="number" helpText="Empty: same as the delay" {...text("posDelayDays")} />
          </FormLayout.Group>
          <TextField label="Customer segment" helpText="Segment query the customer must match at send time (empty: everyone)" {...text("segment")} />
          <FormLayout.Group>
            <TextField label="Minimum order total" helpText='Shop currency, e.g. "20.00"' {...text("minimumTotal")} />
            <TextField label="Only product types" helpText="Comma-separated; empty: any" {...text("includeTypes")} />
            <TextField label="Never ask about product types" helpText="Comma-separated" {...text("excludeTypes")} />
          </FormLayout.Group>
          <FormLayout.Group>
            <TextField label="Reminders" type="number" helpText="0-3 while unanswered" {...text("reminderCount")} />
            <TextField label="Days between reminders" type="number" helpText="1-30" {...text("reminderSpacingDays")} />
            <TextField label="Link valid for (days)" type="number" helpText="1-365" {...text("linkExpiryDays")} />
          </FormLayout.Group>
        </FormLayout>
        <InlineStack gap="200" align="end">
          <Button onClick={onCancel} disabled={busy}>
            Cancel
          </Button>
          <Button variant="primary" loading={busy} onClick={() => onSave(v)}>
            Save rule
          </Button>
        </InlineStack>
      </BlockStack>
    </Card>
  );
}

export function FeedbackSwitches({
  initial,
  staffAlertAddress,
  busy,
  onSave,
}: {
  initial: { tagNegative: boolean; staffAlert: boolean };
  staffAlertAddress: string | null;
  busy: boolean;
  onSave: (values: { tagNegative: boolean; staffAlert: boolean }) => void;
}) {
  const [v, setV] = useState(initial);
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          When an answer is negative
        </Text>
        <Checkbox label="Tag the customer crm:feedback-negative" checked={v.tagNegative} onChange={(c) => setV((o) => ({ ...o, tagNegative: c }))} />
        <Checkbox
          label="Email the staff alert address"
          helpText={staffAlertAddress ? `Alerts go to ${staffAlertAddress}` : "No staff alert address is set: add one in the email settings."}
          checked={v.staffAlert}
          onChange={(c) => setV((o) => ({ ...o, staffAlert: c }))}
        />
        <InlineStack align="space-between" blockAlign="center">
          <Button url="/app/settings/email" variant="plain">
            Sender and staff alert address: email settings
          </Button>
          <Button loading={busy} onClick={() => onSave(v)}>
            Save switches
          </Button>
        </InlineStack>
      </BlockStack>
    </Card>
  );
}

export function EmailPreview({ subject, html, busy, error, onSendTest }: { subject: string; html: string; busy: boolean; error: string | undefined; onSendTest: (to: string) => void }) {
  const [to, setTo] = useState("");
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Email preview
        </Text>
        <Text as="p" variant="bodySm">
          Subject: {subject}
        </Text>
        {/* The rendered email, sandboxed: no scripts, no navigation of the admin. */}
        <iframe title="Feedback email preview" srcDoc={html} sandbox="" style={{ width: "100%", height: 520, border: "1px solid #e3e3e3", borderRadius: 8, background: "#fff" }} />
        <TextField label="Send a test to" type="email" value={to} onChange={setTo} error={error} autoComplete="email" />
        <InlineStack align="end">
          <Button loading={busy} onClick={() => onSendTest(to)}>
            Send a test to me
          </Button>
        </InlineStack>
      </BlockStack>
    </Card>
  );
}
