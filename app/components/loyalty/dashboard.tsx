// The loyalty program dashboard: members, points activity per week, outstanding liability and
// tier distribution; or, before a program exists, how to set one up.
import { Badge, Banner, BlockStack, Box, Card, EmptyState, InlineGrid, InlineStack, Layout, Text } from "@shopify/polaris";
import { useFormat } from "../format-context";
import { EMPTY_STATE_IMAGE } from "../empty-state-image";
import { ActivityChart } from "./activity-chart";
import type { LoyaltyDashboardView } from "../../domain/admin/loyalty-view-models";

export const SETTINGS_URL = "/app/loyalty/settings";

export function NoProgram() {
  return (
    <Card>
      <EmptyState heading="Reward customers for every order" action={{ content: "Set up the program", url: SETTINGS_URL }} image={EMPTY_STATE_IMAGE}>
        <p>
          Choose how many points an order earns, how long they stay pending, tiers with their own Shopify tags, and the rewards points buy. Orders placed
          from then on earn points automatically.
        </p>
      </EmptyState>
    </Card>
  );
}

function Metric({ label, value, detail, testId }: { label: string; value: string; detail?: string; testId: string }) {
  return (
    <Card>
      <BlockStack gap="100">
        <Text as="h2" variant="headingSm" tone="subdued">
          {label}
        </Text>
        <span data-loyalty-metric={testId}>
          <Text as="p" variant="heading2xl" numeric>
            {value}
          </Text>
        </span>
        {detail ? (
          <Text as="p" variant="bodySm" tone="subdued">
            {detail}
          </Text>
        ) : null}
      </BlockStack>
    </Card>
  );
}

function LiabilityCard({ liability }: { liability: LoyaltyDashboardView["liability"] }) {
  const fmt = useFormat();
  const { money } = liability;
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Outstanding liability
        </Text>
        {money ? (
          <span data-loyalty-liability="">
            <Text as="p" variant="heading2xl" numeric>
              {money.total}
            </Text>
          </span>
        ) : null}
        <BlockStack gap="100">
          <InlineStack align="space-between">
            <Text as="span">Spendable</Text>
            <Text as="span" numeric>
              {fmt.count(liability.spendablePoints)} points{money ? ` · ${money.spendable}` : ""}
            </Text>
          </InlineStack>
          <InlineStack align="space-between">
            <Text as="span">Pending</Text>
            <Text as="span" numeric>
              {fmt.count(liability.pendingPoints)} points{money ? ` · ${money.pending}` : ""}
            </Text>
          </InlineStack>
          {liability.owedPoints > 0 ? (
            <InlineStack align="space-between">
              <Text as="span" tone="subdued">
                Owed by members below zero
              </Text>
              <Text as="span" tone="subdued" numeric>
                {fmt.count(liability.owedPoints)} points
              </Text>
            </InlineStack>
          ) : null}
        </BlockStack>
        <Text as="p" variant="bodySm" tone="subdued">
          {money
            ? `A point is valued at ${money.perPoint}, the best rate of the fixed-amount rewards (${money.basis}).`
            : "Add a fixed-amount reward to the program to put a money value on points."}
        </Text>
      </BlockStack>
    </Card>
  );
}

function TiersCard({ tiers, members }: { tiers: NonNullable<LoyaltyDashboardView["tiers"]>; members: number }) {
  const fmt = useFormat();
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Tiers
        </Text>
        <BlockStack gap="200">
          {tiers.map((t) => (
            <BlockStack gap="100" key={t.label}>
              <InlineStack align="space-between" blockAlign="center">
                <Text as="span" tone={t.tier === null || t.retired ? "subdued" : undefined} fontWeight={t.tier ? "semibold" : undefined}>
                  {t.label}
                </Text>
                <span data-loyalty-tier={t.tier ?? ""}>
                  <Text as="span" numeric>
                    {fmt.countOf(t.members, "member")} · {t.share}
                  </Text>
                </span>
              </InlineStack>
              <Box background="bg-fill-secondary" borderRadius="100" minHeight="6px">
                <div style={{ width: members > 0 ? `${(t.members * 100) / members}%` : 0, height: 6, borderRadius: 4, background: t.tier ? "#2c6ecb" : "#b5b5b5" }} />
              </Box>
            </BlockStack>
          ))}
        </BlockStack>
      </BlockStack>
    </Card>
  );
}

export function LoyaltyDashboard({ data }: { data: LoyaltyDashboardView }) {
  const fmt = useFormat();
  return (
    <Layout>
      {!data.program.enabled ? (
        <Layout.Section variant="fullWidth">
          <Banner tone="warning" title="The program is paused">
            <p>Orders placed while it is paused earn no points. Refunds and cancellations still reverse points earned before.</p>
          </Banner>
        </Layout.Section>
      ) : null}
      <Layout.Section variant="fullWidth">
        <InlineGrid columns={{ xs: 1, md: 3 }} gap="400">
          <Metric label="Members" value={fmt.count(data.members)} detail="Customers with points activity" testId="members" />
          <Metric label="Points issued" value={fmt.count(data.totals.issued)} detail={`Last ${data.weeks.length} weeks`} testId="issued" />
          <Metric label="Points redeemed" value={fmt.count(data.totals.redeemed)} detail={`Last ${data.weeks.length} weeks`} testId="redeemed" />
        </InlineGrid>
      </Layout.Section>
      <Layout.Section>
        <BlockStack gap="400">
          <Card>
            <BlockStack gap="300">
              <InlineStack align="space-between" blockAlign="center">
                <Text as="h2" variant="headingMd">
                  Points per week
                </Text>
                <Badge>{data.program.timeZone}</Badge>
              </InlineStack>
              <ActivityChart weeks={data.weeks} totals={data.totals} />
            </BlockStack>
          </Card>
          <Card>
            <BlockStack gap="200">
              <Text as="h2" variant="headingMd">
                Program
              </Text>
              <Text as="p">
                {data.program.pointsPerUnit}, pending for {data.program.pendingDays} {data.program.pendingDays === 1 ? "day" : "days"}. Version{" "}
                {data.program.version}, saved {data.program.updatedAt}.
              </Text>
            </BlockStack>
          </Card>
        </BlockStack>
      </Layout.Section>
      <Layout.Section variant="oneThird">
        <BlockStack gap="400">
          <LiabilityCard liability={data.liability} />
          {data.tiers ? <TiersCard tiers={data.tiers} members={data.members} /> : null}
        </BlockStack>
      </Layout.Section>
    </Layout>
  );
}
