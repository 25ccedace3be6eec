// The admin's home page: what the CRM knows today about this shop (customers, segments,
// loyalty at a glance) and what needs attention (dead letters, broken segments, open
// feedback cases, emails that failed). Every query is scoped by the session's shop and
// counts through an index on (shop, ...) or (shop, status).
import { getPool } from "../db.server";
import type { Formatter } from "../domain/format";
import { getProgram } from "./loyalty/program.server";
import { loyaltyLiabilityPoints } from "./admin-loyalty.server";
import { getImportWarning } from "./admin-sync.server";

export type AttentionItem = { key: "dead_letters" | "broken_segments" | "feedback_cases" | "emails_failed"; title: string; detail: string; url: string };

export type HomeOverview = {
  customers: { total: string; withOrders: string; newThisMonth: string };
  segments: { total: string; broken: number };
  loyalty: { configured: boolean; enabled: boolean; members: string; spendablePoints: string } ;
  attention: AttentionItem[];
  /** The history import's warning (a missing read_all_orders scope), shown as a banner. */
  importWarning: string | null;
};

export async function getHomeOverview({ shop, fmt, now = new Date() }: { shop: string; fmt: Formatter; now?: Date }): Promise<HomeOverview> {
  const pool = getPool();
  const since = new Date(now.getTime() - 30 * 86_400_000);
  const [customers, segments, dead, cases, emails, program] = await Promise.all([
    pool.query<{ total: number; with_orders: number; recent: number }>(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE orders_count > 0)::int AS with_orders,
              count(*) FILTER (WHERE shopify_created_at >= $2)::int AS recent
         FROM customers WHERE shop = $1 AND deleted_at IS NULL`,
      [shop, since],
    ),
    pool.query<{ total: number; broken: number; broken_names: string[] | null }>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE broken_at IS NOT NULL)::int AS broken,
              (array_agg(name ORDER BY lower(name)) FILTER (WHERE broken_at IS NOT NULL))[1:3] AS broken_names
         FROM segments WHERE shop = $1`,
      [shop],
    ),
    pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_events WHERE shop = $1 AND status = 'dead'`, [shop]),
    pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM feedback_cases WHERE shop = $1 AND status = 'open'`, [shop]),
    pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM email_outbox WHERE shop = $1 AND status = 'failed' AND updated_at >= $2`, [shop, since]),
    getProgram(shop),
  ]);
  const c = customers.rows[0]!;
  const s = segments.rows[0]!;
  const loyalty = program ? await loyaltyLiabilityPoints({ shop, now }) : null;
  const importWarning = await getImportWarning(shop);

  const attention: AttentionItem[] = [];
  const deadCount = dead.rows[0]!.n;
  if (deadCount > 0) {
    attention.push({
      key: "dead_letters",
      title: `${fmt.countOf(deadCount, "webhook delivery", "webhook deliveries")} failed every retry`,
      detail: "Their changes are not in the CRM yet. Replay them from the Pipeline once the cause is fixed.",
      url: "/app/pipeline",
    });
  }
  if (s.broken > 0) {
    const names = (s.broken_names ?? []).map((n) => `“${n}”`).join(", ");
    attention.push({
      key: "broken_segments",
      title: `${fmt.countOf(s.broken, "segment")} cannot be evaluated`,
      detail: `${names}${s.broken > 3 ? " and others" : ""}: their members are not updated until the query is fixed.`,
      url: "/app/segments",
    });
  }
  const caseCount = cases.rows[0]!.n;
  if (caseCount > 0) {
    attention.push({
      key: "feedback_cases",
      title: `${fmt.countOf(caseCount, "open feedback case")}`,
      detail: "Customers who answered unhappily are waiting for a reply.",
      url: "/app/feedback",
    });
  }
  const failedEmails = emails.rows[0]!.n;
  if (failedEmails > 0) {
    attention.push({
      key: "emails_failed",
      title: `${fmt.countOf(failedEmails, "email")} could not be sent in the last 30 days`,
      detail: "Check the email settings (the server, the sender address) and send a test email.",
      url: "/app/settings/email",
    });
  }
  return {
    customers: { total: fmt.count(c.total), withOrders: fmt.count(c.with_orders), newThisMonth: fmt.count(c.recent) },
    segments: { total: fmt.count(s.total), broken: s.broken },
    loyalty: {
      configured: program !== null,
      enabled: program?.settings.enabled ?? false,
      members: fmt.count(loyalty?.members ?? 0),
      spendablePoints: fmt.points(loyalty?.spendablePoints ?? 0),
    },
    attention,
    importWarning,
  };
}
