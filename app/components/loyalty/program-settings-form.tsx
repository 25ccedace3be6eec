// The loyalty program settings form: earning, pending period, expiry, bonuses, segment and
// tier multipliers, tiers with their Shopify tags, the negative-balance policy and the rewards
// catalogue. Inputs are named by the settings path they edit, so the server's errors (the
// domain schema's, app/domain/loyalty/program-form.ts) are shown at their field; an error
// without a field is listed in the banner at the top. Validation is the server's only.
import { useMemo, useRef, useState, type ReactNode } from "react";
import { Form, useNavigation } from "@remix-run/react";
import { Banner, BlockStack, Box, Button, Card, Checkbox, ChoiceList, Divider, FormLayout, InlineError, InlineGrid, InlineStack, Layout, List, Select, Text, TextField } from "@shopify/polaris";
import { currencyExponent } from "../../domain/money";
import { NEGATIVE_BALANCE_POLICIES, REWARD_KINDS, TIER_METRICS, TIER_WINDOWS } from "../../domain/loyalty/program";
import {
  BASIS_LABELS,
  EARN_BASES,
  EARN_ON,
  EARN_ON_LABELS,
  EARN_ROUNDINGS,
  MAX_REWARDS,
  MAX_SEGMENT_MULTIPLIERS,
  MAX_TIER_LEVELS,
  NEGATIVE_BALANCE_LABELS,
  REWARD_KIND_LABELS,
  ROUNDING_LABELS,
  TIER_METRIC_LABELS,
  TIER_WINDOW_LABELS,
  formFieldPaths,
  type RewardValues,
  type SegmentMultiplierValues,
  type TierLevelValues,
} from "../../domain/loyalty/program-form";
import type { FieldError, ProgramFormValues, SegmentOption } from "../../domain/admin/loyalty-view-models";

type Keyed<T> = T & { key: string };

/** A list of rows with stable React keys (deterministic for the server's render, counted up for rows added in the browser). */
function useRows<T>(initial: readonly T[], prefix: string) {
  const next = useRef(initial.length);
  const [rows, setRows] = useState<Keyed<T>[]>(() => initial.map((row, i) => ({ ...row, key: `${prefix}-${i}` })));
  return {
    rows,
    add: (row: T) => setRows((current) => [...current, { ...row, key: `${prefix}-${next.current++}` }]),
    remove: (key: string) => setRows((current) => current.filter((r) => r.key !== key)),
    update: (key: string, patch: Partial<T>) => setRows((current) => current.map((r) => (r.key === key ? { ...r, ...patch } : r))),
  };
}

const options = <K extends string>(keys: readonly K[], labels: Record<K, string>) => keys.map((value) => ({ value, label: labels[value] }));

function Section({ title, description, children }: { title: string; description?: ReactNode; children: ReactNode }) {
  return (
    <Card>
      <BlockStack gap="400">
        <BlockStack gap="100">
          <Text as="h2" variant="headingMd">
            {title}
          </Text>
          {description ? (
            <Text as="p" variant="bodySm" tone="subdued">
              {description}
            </Text>
          ) : null}
        </BlockStack>
        {children}
      </BlockStack>
    </Card>
  );
}

export function ProgramSettingsForm({
  initial,
  version,
  currency,
  segments,
  timeZones,
  shopTimeZone,
  errors = [],
  conflict,
  onReload,
}: {
  initial: ProgramFormValues;
  version: number | null;
  currency: string;
  segments: SegmentOption[];
  timeZones: string[];
  shopTimeZone: string;
  errors?: FieldError[];
  conflict?: string | null;
  onReload: () => void;
}) {
  const navigation = useNavigation();
  const saving = navigation.state === "submitting";
  const [enabled, setEnabled] = useState(initial.enabled);
  const [timeZone, setTimeZone] = useState(initial.timeZone);
  const [earn, setEarn] = useState(initial.earn);
  const [pendingDays, setPendingDays] = useState(initial.pendingDays);
  const [retroactiveDays, setRetroactiveDays] = useState(initial.retroactiveDays);
  const [expiry, setExpiry] = useState(initial.expiry);
  const [bonuses, setBonuses] = useState(initial.bonuses);
  const [tiersEnabled, setTiersEnabled] = useState(initial.tiers.enabled);
  const [tierMetric, setTierMetric] = useState(initial.tiers.metric);
  const [tierWindow, setTierWindow] = useState(initial.tiers.window);
  const [negativeBalance, setNegativeBalance] = useState(initial.negativeBalance);
  const multipliers = useRows<SegmentMultiplierValues>(initial.segmentMultipliers, "multiplier");
  const levels = useRows<TierLevelValues>(initial.tiers.levels, "tier");
  const rewards = useRows<RewardValues>(initial.rewards, "reward");

  const byPath = useMemo(() => new Map(errors.map((e) => [e.path, e.message])), [errors]);
  const error = (path: string) => byPath.get(path);
  const current: ProgramFormValues = {
    ...initial,
    segmentMultipliers: multipliers.rows,
    tiers: { enabled: tiersEnabled, metric: tierMetric, window: tierWindow, levels: levels.rows },
    rewards: rewards.rows,
  };
  const placed = formFieldPaths(current);
  const unplaced = errors.filter((e) => !placed.has(e.path));
  const exponent = currencyExponent(currency);
  const unit = exponent > 0 ? `1.${"0".repeat(exponent)}` : "1";
  const segmentOptions = [
    ...segments.map((s) => ({ value: s.id, label: s.name })),
    // A multiplier for a segment deleted since: still shown (the save says it is gone).
    ...multipliers.rows.filter((m) => m.segmentId && !segments.some((s) => s.id === m.segmentId)).map((m) => ({ value: m.segmentId, label: `Segment ${m.segmentId} (deleted)` })),
  ];

  return (
    <Form method="post" data-loyalty-settings="">
      <input type="hidden" name="expectedVersion" value={version === null ? "" : String(version)} />
      <Layout>
        {conflict ? (
          <Layout.Section>
            <Banner tone="critical" title="Not saved: the program changed meanwhile" action={{ content: "Reload the program", onAction: onReload }}>
              <p>{conflict}</p>
            </Banner>
          </Layout.Section>
        ) : null}
        {errors.length > 0 ? (
          <Layout.Section>
            <Banner tone="critical" title={`The program was not saved: ${errors.length === 1 ? "1 field needs" : `${errors.length} fields need`} attention`}>
              {unplaced.length > 0 ? (
                <List>
                  {unplaced.map((e) => (
                    <List.Item key={`${e.path}:${e.message}`}>{e.path ? `${e.path}: ${e.message}` : e.message}</List.Item>
                  ))}
                </List>
              ) : (
                <p>Each problem is shown at its field below.</p>
              )}
            </Banner>
          </Layout.Section>
        ) : null}
        <Layout.Section>
          <BlockStack gap="400">
            <Section title="Program">
              <Checkbox
                label="Active: orders earn points"
                helpText="Pausing stops earning for orders placed while paused; points already earned stay, and refunds still reverse them."
                checked={enabled}
                onChange={setEnabled}
              />
              <input type="hidden" name="enabled" value={enabled ? "true" : "false"} />
              <Select
                label="Time zone"
                name="timeZone"
                options={timeZones.map((zone) => ({ value: zone, label: zone === shopTimeZone ? `${zone} (your store's time zone)` : zone }))}
                value={timeZone}
                onChange={setTimeZone}
                helpText="For birthdays, the calendar-year tier window and the weeks of the dashboard."
                error={error("timeZone")}
              />
            </Section>

            <Section title="Earning" description="Points are counted once per order, on the order's products; a rule change never alters points already earned.">
              <FormLayout>
                <FormLayout.Group>
                  <TextField
                    label="Points per unit of currency"
                    name="earn.pointsPerUnit"
                    value={earn.pointsPerUnit}
                    onChange={(v) => setEarn({ ...earn, pointsPerUnit: v })}
                    autoComplete="off"
                    inputMode="decimal"
                    suffix={`points per ${unit} ${currency}`}
                    error={error("earn.pointsPerUnit")}
                  />
                  <TextField
                    label="Pending period"
                    name="pendingDays"
                    value={pendingDays}
                    onChange={setPendingDays}
                    autoComplete="off"
                    inputMode="numeric"
                    suffix="days"
                    helpText="The return window: points cannot be spent until it ends."
                    error={error("pendingDays")}
                  />
                  <TextField
                    label="Points for imported orders"
                    name="retroactiveDays"
                    value={retroactiveDays}
                    onChange={setRetroactiveDays}
                    autoComplete="off"
                    inputMode="numeric"
                    suffix="days"
                    helpText="After a history import, award points for orders placed in the last this many days (0: none). An order never earns twice."
                    error={error("retroactiveDays")}
                  />
                </FormLayout.Group>
                <FormLayout.Group>
                  <Select label="Counted on" name="earn.basis" options={options(EARN_BASES, BASIS_LABELS)} value={earn.basis} onChange={(v) => setEarn({ ...earn, basis: v })} error={error("earn.basis")} />
                  <Select label="Rounding" name="earn.rounding" options={options(EARN_ROUNDINGS, ROUNDING_LABELS)} value={earn.rounding} onChange={(v) => setEarn({ ...earn, rounding: v })} error={error("earn.rounding")} />
                  <Select label="Earned" name="earn.on" options={options(EARN_ON, EARN_ON_LABELS)} value={earn.on} onChange={(v) => setEarn({ ...earn, on: v })} error={error("earn.on")} />
                </FormLayout.Group>
              </FormLayout>
            </Section>

            <Section title="Bonuses" description="Points given once, on top of what orders earn. 0 turns a bonus off.">
              <InlineGrid columns={{ xs: 1, sm: 2, md: 4 }} gap="300">
                {(
                  [
                    ["firstOrder", "First order"],
                    ["signup", "Account created"],
                    ["birthday", "Birthday"],
                    ["feedback", "Feedback submitted"],
                  ] as const
                ).map(([key, label]) => (
                  <TextField
                    key={key}
                    label={label}
                    name={`bonuses.${key}`}
                    value={bonuses[key]}
                    onChange={(v) => setBonuses({ ...bonuses, [key]: v })}
                    autoComplete="off"
                    inputMode="numeric"
                    suffix="points"
                    error={error(`bonuses.${key}`)}
                  />
                ))}
              </InlineGrid>
            </Section>

            <Section title="Expiry">
              <Checkbox label="Points expire after a period without activity" checked={expiry.enabled} onChange={(v) => setExpiry({ ...expiry, enabled: v })} />
              <input type="hidden" name="expiry.enabled" value={expiry.enabled ? "true" : "false"} />
              {expiry.enabled ? (
                <TextField
                  label="Expire after"
                  name="expiry.inactivityDays"
                  value={expiry.inactivityDays}
                  onChange={(v) => setExpiry({ ...expiry, inactivityDays: v })}
                  autoComplete="off"
                  inputMode="numeric"
                  suffix="days without an order, a redemption or an earned bonus"
                  error={error("expiry.inactivityDays")}
                />
              ) : null}
            </Section>

            <TiersSection
              enabled={tiersEnabled}
              setEnabled={setTiersEnabled}
              metric={tierMetric}
              setMetric={setTierMetric}
              window={tierWindow}
              setWindow={setTierWindow}
              levels={levels}
              currency={currency}
              error={error}
            />

            <Section title="Segment multipliers" description="Members of a segment earn more. When several multipliers apply (segments or the tier), the highest one counts.">
              {multipliers.rows.length === 0 ? (
                <Text as="p" tone="subdued">
                  {segments.length === 0 ? "No segments yet: create one under Segments to give its members a multiplier." : "No segment multipliers."}
                </Text>
              ) : null}
              {error("segmentMultipliers") ? <InlineError message={error("segmentMultipliers")!} fieldID="segmentMultipliers" /> : null}
              {multipliers.rows.map((row, i) => (
                <InlineGrid key={row.key} columns={["twoThirds", "oneThird"]} gap="300">
                  <Select
                    label="Segment"
                    name={`segmentMultipliers.${i}.segmentId`}
                    options={segmentOptions}
                    value={row.segmentId}
                    onChange={(v) => multipliers.update(row.key, { segmentId: v })}
                    error={error(`segmentMultipliers.${i}.segmentId`)}
                  />
                  <InlineStack gap="200" blockAlign="end" wrap={false}>
                    <TextField
                      label="Multiplier"
                      name={`segmentMultipliers.${i}.multiplier`}
                      value={row.multiplier}
                      onChange={(v) => multipliers.update(row.key, { multiplier: v })}
                      autoComplete="off"
                      inputMode="decimal"
                      prefix="×"
                      error={error(`segmentMultipliers.${i}.multiplier`)}
                    />
                    <Button onClick={() => multipliers.remove(row.key)} accessibilityLabel={`Remove the multiplier ${i + 1}`} variant="tertiary" tone="critical">
                      Remove
                    </Button>
                  </InlineStack>
                </InlineGrid>
              ))}
              <InlineStack>
                <Button
                  onClick={() => multipliers.add({ segmentId: segments[0]?.id ?? "", multiplier: "1.5" })}
                  disabled={segments.length === 0 || multipliers.rows.length >= MAX_SEGMENT_MULTIPLIERS}
                >
                  Add segment multiplier
                </Button>
              </InlineStack>
            </Section>

            <RewardsSection rewards={rewards} currency={currency} error={error} />

            <Section title="When points were already spent" description="A refund or cancellation reverses the points its order earned. If the customer has spent them:">
              <ChoiceList
                title="Negative balance"
                titleHidden
                choices={NEGATIVE_BALANCE_POLICIES.map((p) => ({ value: p, label: NEGATIVE_BALANCE_LABELS[p].label, helpText: NEGATIVE_BALANCE_LABELS[p].help }))}
                selected={[negativeBalance]}
                onChange={(v) => setNegativeBalance(v[0] ?? "pending_first")}
                error={error("negativeBalance")}
              />
              <input type="hidden" name="negativeBalance" value={negativeBalance} />
            </Section>

            <InlineStack align="end" gap="200">
              <Button url="/app/loyalty">Cancel</Button>
              <Button submit variant="primary" loading={saving}>
                Save program
              </Button>
            </InlineStack>
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Form>
  );
}

function TiersSection({
  enabled,
  setEnabled,
  metric,
  setMetric,
  window,
  setWindow,
  levels,
  currency,
  error,
}: {
  enabled: boolean;
  setEnabled: (v: boolean) => void;
  metric: string;
  setMetric: (v: string) => void;
  window: string;
  setWindow: (v: string) => void;
  levels: ReturnType<typeof useRows<TierLevelValues>>;
  currency: string;
  error: (path: string) => string | undefined;
}) {
  const thresholdLabel = metric === "net_spend" ? `Net spend from (${currency})` : "Points earned from";
  return (
    <Section title="Tiers" description="A customer's tier is the highest one whose threshold they reach. A tier can earn more and carry a Shopify customer tag.">
      <Checkbox label="Use tiers" checked={enabled} onChange={setEnabled} />
      <input type="hidden" name="tiers.enabled" value={enabled ? "true" : "false"} />
      {enabled ? (
        <BlockStack gap="400">
          {error("tiers") ? <InlineError message={error("tiers")!} fieldID="tiers" /> : null}
          <FormLayout>
            <FormLayout.Group>
              <Select label="Tiers are based on" name="tiers.metric" options={options(TIER_METRICS, TIER_METRIC_LABELS)} value={metric} onChange={setMetric} error={error("tiers.metric")} />
              <Select label="Counted over" name="tiers.window" options={options(TIER_WINDOWS, TIER_WINDOW_LABELS)} value={window} onChange={setWindow} error={error("tiers.window")} />
            </FormLayout.Group>
          </FormLayout>
          {levels.rows.length === 0 ? (
            <Text as="p" tone="subdued">
              Add the first tier, for example Member from 0.
            </Text>
          ) : null}
          {error("tiers.levels") ? <InlineError message={error("tiers.levels")!} fieldID="tiers.levels" /> : null}
          {levels.rows.map((row, i) => (
            <Box key={row.key} padding="300" borderWidth="025" borderColor="border" borderRadius="200">
              <BlockStack gap="200">
                <InlineGrid columns={{ xs: 1, md: 4 }} gap="300">
                  <TextField label="Tier name" name={`tiers.levels.${i}.name`} value={row.name} onChange={(v) => levels.update(row.key, { name: v })} autoComplete="off" error={error(`tiers.levels.${i}.name`)} />
                  <TextField
                    label={thresholdLabel}
                    name={`tiers.levels.${i}.threshold`}
                    value={row.threshold}
                    onChange={(v) => levels.update(row.key, { threshold: v })}
                    autoComplete="off"
                    inputMode="decimal"
                    error={error(`tiers.levels.${i}.threshold`)}
                  />
                  <TextField
                    label="Shopify tag"
                    name={`tiers.levels.${i}.tag`}
                    value={row.tag}
                    onChange={(v) => levels.update(row.key, { tag: v })}
                    autoComplete="off"
                    placeholder="crm:vip"
                    error={error(`tiers.levels.${i}.tag`)}
                  />
                  <TextField
                    label="Earn multiplier"
                    name={`tiers.levels.${i}.multiplier`}
                    value={row.multiplier}
                    onChange={(v) => levels.update(row.key, { multiplier: v })}
                    autoComplete="off"
                    inputMode="decimal"
                    prefix="×"
                    error={error(`tiers.levels.${i}.multiplier`)}
                  />
                </InlineGrid>
                <InlineStack align="end">
                  <Button onClick={() => levels.remove(row.key)} variant="tertiary" tone="critical" accessibilityLabel={`Remove the tier ${row.name || i + 1}`}>
                    Remove tier
                  </Button>
                </InlineStack>
              </BlockStack>
            </Box>
          ))}
          <InlineStack>
            <Button onClick={() => levels.add({ name: "", threshold: levels.rows.length === 0 ? "0" : "", tag: "", multiplier: "1" })} disabled={levels.rows.length >= MAX_TIER_LEVELS}>
              Add tier
            </Button>
          </InlineStack>
          <Text as="p" variant="bodySm" tone="subdued">
            Tags are namespaced (crm:vip). The app adds a tier's tag to its members in Shopify and removes it when they leave the tier.
          </Text>
        </BlockStack>
      ) : null}
    </Section>
  );
}

function RewardsSection({
  rewards,
  currency,
  error,
}: {
  rewards: ReturnType<typeof useRows<RewardValues>>;
  currency: string;
  error: (path: string) => string | undefined;
}) {
  return (
    <Section title="Rewards" description="What points buy. Each redemption creates a single-use Shopify discount code for that customer.">
      {rewards.rows.length === 0 ? (
        <Text as="p" tone="subdued">
          No rewards yet. A fixed-amount reward also gives points a money value on the dashboard.
        </Text>
      ) : null}
      {error("rewards") ? <InlineError message={error("rewards")!} fieldID="rewards" /> : null}
      {rewards.rows.map((row, i) => (
        <Box key={row.key} padding="300" borderWidth="025" borderColor="border" borderRadius="200">
          <BlockStack gap="200">
            <input type="hidden" name={`rewards.${i}.id`} value={row.id} />
            <InlineGrid columns={{ xs: 1, md: 3 }} gap="300">
              <TextField label="Reward name" name={`rewards.${i}.name`} value={row.name} onChange={(v) => rewards.update(row.key, { name: v })} autoComplete="off" error={error(`rewards.${i}.name`) ?? error(`rewards.${i}.id`)} />
              <Select
                label="Kind"
                name={`rewards.${i}.kind`}
                options={options(REWARD_KINDS, REWARD_KIND_LABELS)}
                value={row.kind}
                onChange={(v) => rewards.update(row.key, { kind: v, value: "" })}
                error={error(`rewards.${i}.kind`)}
              />
              {row.kind === "free_shipping" ? (
                <input type="hidden" name={`rewards.${i}.value`} value="" />
              ) : (
                <TextField
                  label={row.kind === "percentage" ? "Percent off" : `Amount off (${currency})`}
                  name={`rewards.${i}.value`}
                  value={row.value}
                  onChange={(v) => rewards.update(row.key, { value: v })}
                  autoComplete="off"
                  inputMode="decimal"
                  suffix={row.kind === "percentage" ? "%" : undefined}
                  error={error(`rewards.${i}.value`)}
                />
              )}
              <TextField
                label="Points cost"
                name={`rewards.${i}.pointsCost`}
                value={row.pointsCost}
                onChange={(v) => rewards.update(row.key, { pointsCost: v })}
                autoComplete="off"
                inputMode="numeric"
                suffix="points"
                error={error(`rewards.${i}.pointsCost`)}
              />
              <TextField
                label={`Minimum order (${currency})`}
                name={`rewards.${i}.minimumOrder`}
                value={row.minimumOrder}
                onChange={(v) => rewards.update(row.key, { minimumOrder: v })}
                autoComplete="off"
                inputMode="decimal"
                placeholder="None"
                error={error(`rewards.${i}.minimumOrder`)}
              />
              <TextField
                label="Code valid for"
                name={`rewards.${i}.validityDays`}
                value={row.validityDays}
                onChange={(v) => rewards.update(row.key, { validityDays: v })}
                autoComplete="off"
                inputMode="numeric"
                suffix="days"
                error={error(`rewards.${i}.validityDays`)}
              />
            </InlineGrid>
            <InlineStack align="space-between" blockAlign="center">
              <Text as="span" variant="bodySm" tone="subdued">
                {row.id ? `Id ${row.id}: kept when the reward is renamed or repriced.` : "New reward: its id is made from the name when saved."}
              </Text>
              <Button onClick={() => rewards.remove(row.key)} variant="tertiary" tone="critical" accessibilityLabel={`Remove the reward ${row.name || i + 1}`}>
                Remove reward
              </Button>
            </InlineStack>
          </BlockStack>
        </Box>
      ))}
      <Divider />
      <InlineStack>
        <Button onClick={() => rewards.add({ id: "", name: "", kind: "fixed_amount", value: "", pointsCost: "", minimumOrder: "", validityDays: "30" })} disabled={rewards.rows.length >= MAX_REWARDS}>
          Add reward
        </Button>
      </InlineStack>
    </Section>
  );
}
