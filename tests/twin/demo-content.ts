// Part of `npm run demo`: the example content a merchant sees on opening the demo, created
// through the services the CLI uses (crm segments create, crm loyalty program set, crm
// feedback rules set, crm automations set), idempotently: what exists already (by name, or
// an identical program) is left as it is, so running it again duplicates nothing.
// Run by demo.ts with the app's environment: node --import tsx tests/twin/demo-content.ts <shop>
// Prints one JSON line: { segments: { created, existing }, loyalty: "created" | "existing",
// feedbackRules: "created" | "existing", automations: { created, existing } }.
import { closeDb } from "../../app/db.server";
import { closeQueues } from "../../app/queues.server";
import { AUTOMATION_TEMPLATES } from "../../app/domain/automations/templates";
import { saveProgramSettingsJson } from "../../app/services/admin-loyalty.server";
import { listRules, setRule } from "../../app/services/automations/rules.server";
import { listFeedbackRules, setFeedbackRules } from "../../app/services/feedback/rules.server";
import { getProgram } from "../../app/services/loyalty/program.server";
import { createSegment, listSegments } from "../../app/services/segments/segments.server";

/** Example segments in Shopify's segment syntax (docs/segments.md). */
export const DEMO_SEGMENTS: { name: string; query: string }[] = [
  { name: "VIPs (spent over 500)", query: "amount_spent > 500" },
  { name: "At risk (RFM)", query: "rfm_group = 'AT_RISK' OR rfm_group = 'ALMOST_LOST'" },
  { name: "Bought in the last 30 days", query: "last_order_date > -30d" },
  { name: "Repeat buyers", query: "number_of_orders >= 3" },
];

/** Example loyalty program (docs/loyalty.md): tiers by net spend, so imported history places customers at once. */
export const DEMO_LOYALTY_PROGRAM = {
  enabled: true,
  earn: { pointsPerUnit: 1, basis: "net_merchandise", rounding: "floor", on: "paid" },
  pendingDays: 14,
  expiry: { inactivityDays: 365 },
  bonuses: { firstOrder: 50, birthday: 100 },
  tiers: {
    metric: "net_spend",
    window: "lifetime",
    levels: [
      { name: "Member", threshold: 0 },
      { name: "Silver", threshold: 20_000 },
      { name: "Gold", threshold: 50_000, tag: "crm:gold" },
    ],
  },
  rewards: [
    { id: "five-off", name: "$5 off", kind: "fixed_amount", value: "5.00", pointsCost: 500, minimumOrder: "25.00" },
    { id: "ship", name: "Free shipping", kind: "free_shipping", pointsCost: 300 },
  ],
};

/** Example feedback rules (docs/feedback.md). */
export const DEMO_FEEDBACK_RULES = {
  settings: { tagNegative: true, staffAlert: false },
  rules: [
    {
      name: "Review request after delivery",
      enabled: true,
      trigger: "order_fulfilled",
      delayDays: 5,
      orders: { minimumTotal: "20.00", productTypes: { include: [], exclude: ["Gift Card"] } },
      reminders: { count: 1, spacingDays: 4 },
    },
  ],
};

export type DemoContentReport = {
  segments: { created: number; existing: number };
  loyalty: "created" | "existing";
  feedbackRules: "created" | "existing";
  automations: { created: number; existing: number };
};

export async function createDemoContent(shop: string): Promise<DemoContentReport> {
  const report: DemoContentReport = { segments: { created: 0, existing: 0 }, loyalty: "existing", feedbackRules: "existing", automations: { created: 0, existing: 0 } };
  const segmentNames = new Set((await listSegments(shop)).map((s) => s.name));
  for (const s of DEMO_SEGMENTS) {
    if (segmentNames.has(s.name)) {
      report.segments.existing++;
      continue;
    }
    await createSegment({ shop, name: s.name, query: s.query });
    report.segments.created++;
  }
  if (!(await getProgram(shop))) {
    const saved = await saveProgramSettingsJson({ shop, input: DEMO_LOYALTY_PROGRAM, actor: "demo" });
    if (!saved.ok) throw new Error(`demo loyalty program refused: ${saved.errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`);
    report.loyalty = "created";
  }
  if ((await listFeedbackRules(shop)).rules.length === 0) {
    await setFeedbackRules(shop, DEMO_FEEDBACK_RULES);
    report.feedbackRules = "created";
  }
  // The shipped templates, saved as they ship (switched off until the merchant enables them).
  const ruleNames = new Set((await listRules(shop)).map((r) => r.name));
  for (const template of Object.values(AUTOMATION_TEMPLATES)) {
    if (ruleNames.has(template.name)) {
      report.automations.existing++;
      continue;
    }
    await setRule(shop, template);
    report.automations.created++;
  }
  return report;
}

async function main() {
  const shop = process.argv[2];
  if (!shop) throw new Error("usage: demo-content.ts <shop>");
  process.stdout.write(`${JSON.stringify(await createDemoContent(shop))}\n`);
}

if (process.argv[1] && /demo-content\.ts$/.test(process.argv[1])) {
  main()
    .catch((error: Error) => {
      process.stderr.write(`demo-content: ${error.message}\n`);
      process.exitCode = 1;
    })
    .finally(async () => {
      await closeQueues();
      await closeDb();
    });
}
