// The example rules shipped as templates (docs/automations.md "Templates"): each is a rule
// JSON a merchant can save with `crm automations set` (switched off until they enable it).
import type { RuleInput } from "./rules";

export const AUTOMATION_TEMPLATES: Record<string, RuleInput> = {
  "thank-you-first-order": {
    name: "Thank-you code after the first order",
    enabled: false,
    trigger: { kind: "order_placed", nthOrder: 1 },
    condition: null,
    steps: [
      {
        kind: "discount_code",
        discount: { kind: "percentage", value: 10, validityDays: 30 },
        email: { subject: "Thank you for your first order, {{first_name}}", body: "Thank you for shopping at {{shop_name}}. Here is 10% off your next order: {{code}} (valid until {{code_expires}})." },
      },
    ],
    reentry: { mode: "once" },
  },
  "win-back-at-risk": {
    name: "Win-back code after 90 days without an order (at risk)",
    enabled: false,
    trigger: { kind: "no_order_for", days: 90 },
    condition: "rfm_group = 'at_risk'",
    steps: [
      {
        kind: "discount_code",
        discount: { kind: "fixed_amount", value: "10.00", minimumOrder: "40.00", validityDays: 21 },
        email: { subject: "We miss you, {{first_name}}", body: "It has been a while. Here is 10 off your next order at {{shop_name}}: {{code}} (until {{code_expires}})." },
      },
    ],
    reentry: { mode: "once_per", days: 180 },
  },
  "vip-on-tier": {
    name: "VIP tag and bonus points on reaching a tier",
    enabled: false,
    trigger: { kind: "tier_changed", toTier: "Gold", upgradesOnly: true },
    condition: null,
    steps: [
      { kind: "add_tag", tag: "crm:vip" },
      { kind: "points", points: 200, reason: "Welcome to Gold" },
    ],
    reentry: { mode: "once" },
  },
  "points-expiry-reminder": {
    name: "Points-expiry reminder 14 days before",
    enabled: false,
    trigger: { kind: "points_expiring", daysBefore: 14 },
    condition: "loyalty_points > 0",
    steps: [{ kind: "email", subject: "Your points expire soon", body: "Hi {{first_name}}, your points at {{shop_name}} expire in 14 days. Place an order to keep them." }],
    reentry: { mode: "every_time" },
  },
};
