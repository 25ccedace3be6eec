// The firing log: each firing with its trigger, condition result, status and every action's outcome.
import { getPool, type Queryable } from "../../db.server";

export type FiringLogEntry = {
  id: string;
  ruleId: string;
  ruleName: string;
  customerGid: string;
  eventKey: string;
  trigger: Record<string, unknown>;
  occurredAt: string;
  firedAt: string;
  status: string;
  skipReason: string | null;
  conditionResult: boolean | null;
  nextStep: number;
  attempts: number;
  lastError: string | null;
  actions: { step: number; kind: string; status: string; attempts: number; detail: Record<string, unknown>; error: string | null }[];
};

export async function firingLog({ shop, customerGid, ruleId, limit = 500 }: { shop: string; customerGid?: string; ruleId?: string; limit?: number }, db: Queryable = getPool()): Promise<FiringLogEntry[]> {
  const { rows } = await db.query<FiringLogEntry>(
    `SELECT f.id::text AS id, f.rule_id::text AS "ruleId", r.name AS "ruleName", f.customer_gid AS "customerGid", f.event_key AS "eventKey", f.trigger,
            to_json(f.occurred_at) #>> '{}' AS "occurredAt", to_json(f.created_at) #>> '{}' AS "firedAt", f.status, f.skip_reason AS "skipReason",
            f.condition_result AS "conditionResult", f.next_step AS "nextStep", f.attempts, f.last_error AS "lastError",
            COALESCE((SELECT json_agg(json_build_object('step', a.step, 'kind', a.kind, 'status', a.status, 'attempts', a.attempts, 'detail', a.detail, 'error', a.error) ORDER BY a.step)
                        FROM automation_action_results a WHERE a.firing_id = f.id), '[]'::json) AS actions
       FROM automation_firings f JOIN automation_rules r ON r.id = f.rule_id
      WHERE f.shop = $1 AND ($2::text IS NULL OR f.customer_gid = $2) AND ($3::bigint IS NULL OR f.rule_id = $3)
      ORDER BY f.id LIMIT $4`,
    [shop, customerGid ?? null, ruleId ?? null, limit],
  );
  return rows;
}

/** Per rule: firings in the last 7 days and failures (the rules list). */
export async function ruleStats(shop: string, now: Date = new Date(), db: Queryable = getPool()): Promise<Map<string, { fired7d: number; failed: number }>> {
  const { rows } = await db.query<{ rule_id: string; fired: number; failed: number }>(
    `SELECT rule_id::text AS rule_id, count(*) FILTER (WHERE created_at > $2 AND status <> 'skipped')::int AS fired, count(*) FILTER (WHERE status = 'failed')::int AS failed
       FROM automation_firings WHERE shop = $1 GROUP BY rule_id`,
    [shop, new Date(now.getTime() - 7 * 86_400_000)],
  );
  return new Map(rows.map((r) => [r.rule_id, { fired7d: r.fired, failed: r.failed }]));
}
