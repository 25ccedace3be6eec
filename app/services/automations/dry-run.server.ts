// The dry run: what a rule would have done over the last N days, from stored history (orders,
// membership history with its causes, tier changes, customers, feedback answers, the ledger),
// with re-entry applied in time order and the condition checked on each customer as they are
// now (the history of every attribute is not kept, so "at the time" is approximated by "now").
import { getPool } from "../../db.server";
import { DAY_MS, reentryAllows } from "../../domain/automations/rules";
import { customerMatches } from "./condition.server";
import { loadRuleById, AutomationError } from "./rules.server";
import { momentsInWindow } from "./scans.server";

export type DryRunResult = { rule: { id: string; name: string; trigger: string }; days: number; moments: number; wouldFire: number; customers: string[]; blockedByReentry: number; blockedByCondition: number };

export async function dryRunRule({ shop, ruleId, days, now = new Date(), customerLimit = 100 }: { shop: string; ruleId: string; days: number; now?: Date; customerLimit?: number }): Promise<DryRunResult> {
  const db = getPool();
  const stored = await loadRuleById(db, ruleId);
  if (!stored || stored.shop !== shop) throw new AutomationError("not_found", `rule ${ruleId} not found in ${shop}`);
  const moments = (await momentsInWindow(db, stored, new Date(now.getTime() - days * DAY_MS), now, "all")).sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
  const seen = new Set<string>();
  const passedAt = new Map<string, Date[]>();
  const conditionCache = new Map<string, boolean>();
  let wouldFire = 0;
  let blockedByReentry = 0;
  let blockedByCondition = 0;
  const customers = new Set<string>();
  for (const moment of moments) {
    if (seen.has(moment.eventKey)) continue;
    seen.add(moment.eventKey);
    const earlier = passedAt.get(moment.customerGid) ?? [];
    if (!reentryAllows({ reentry: stored.rule.reentry, earlier, occurredAt: moment.occurredAt })) {
      blockedByReentry += 1;
      continue;
    }
    if (stored.rule.condition !== null) {
      let ok = conditionCache.get(moment.customerGid);
      if (ok === undefined) conditionCache.set(moment.customerGid, (ok = await customerMatches(db, shop, moment.customerGid, stored.rule.condition, now)));
      if (!ok) {
        blockedByCondition += 1;
        continue;
      }
    }
    passedAt.set(moment.customerGid, [...earlier, moment.occurredAt]);
    wouldFire += 1;
    customers.add(moment.customerGid);
  }
  return { rule: { id: stored.id, name: stored.name, trigger: stored.rule.trigger.kind }, days, moments: seen.size, wouldFire, customers: [...customers].slice(0, customerLimit), blockedByReentry, blockedByCondition };
}
