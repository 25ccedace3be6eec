// Automations benchmark (issue 14): the apply step's throughput with 20 active automation rules
// on the shop against none (ratio; target >= 0.8). Each run drains the same orders/create
// deliveries through the real worker (jobs/worker.ts) twice, on fresh databases with the same
// 3 segments: once without rules, once with 20 enabled rules of every apply-step trigger kind
// (orders placed and paid with conditions, segment entered and left, tier changed, customer
// created). The automation runner is kept off during the drain (AUTOMATION_RUNNER_INTERVAL_MS
// of an hour, and no moments left for its first run): what is measured is the apply step, which
// records the moments the runner later turns into firings.
//   npm run bench:automations -- [--events 5000] [--history events] [--runs 3] [--customers events/4]
import pg from "pg";
import { appEnv, finishBench, flushBenchRedis, freshDatabase, median, numberFlag, parseFlags, prng, report, round, startWorker, waitUntil } from "./lib/common";
import { BENCH_SHOP, orderCreate } from "./lib/deliveries";
import { parseRule, type RuleInput } from "../../app/domain/automations/rules";

const flags = parseFlags();
const events = numberFlag(flags, "events", 5_000);
const runs = numberFlag(flags, "runs", 3);
const customers = numberFlag(flags, "customers", Math.max(1, Math.round(events / 4)));
const history = numberFlag(flags, "history", events);

const SEGMENTS = [
  ["Spent 100", "amount_spent >= 100"],
  ["Three orders", "number_of_orders >= 3"],
  ["Spent 500", "amount_spent >= 500"],
] as const;

function rules(): RuleInput[] {
  const tag = (n: number) => [{ kind: "add_tag" as const, tag: `crm:bench-${n}` }];
  const list: RuleInput[] = [];
  const orderConditions = [{}, { nthOrder: 1 }, { minTotal: "50.00" }, { minTotal: "150.00" }, { maxTotal: "80.00" }, { discountUsed: false }, { productTypes: ["Socks"] }, { nthOrder: 3 }];
  orderConditions.forEach((c, i) => list.push({ name: `placed ${i}`, enabled: true, trigger: { kind: "order_placed", ...c }, steps: tag(i) }));
  [{}, { minTotal: "20.00" }, { minTotal: "100.00" }, { minTotal: "300.00" }, { nthOrder: 2 }, { maxTotal: "40.00" }].forEach((c, i) =>
    list.push({ name: `paid ${i}`, enabled: true, trigger: { kind: "order_paid", ...c }, steps: tag(10 + i), reentry: { mode: "every_time" } }),
  );
  SEGMENTS.forEach(([name], i) => list.push({ name: `entered ${i}`, enabled: true, trigger: { kind: "segment_entered", segment: name }, steps: tag(20 + i) }));
  list.push({ name: "left", enabled: true, trigger: { kind: "segment_left", segment: SEGMENTS[0][0] }, steps: tag(30) });
  list.push({ name: "tier", enabled: true, trigger: { kind: "tier_changed", toTier: "Gold" }, steps: tag(31) });
  list.push({ name: "created", enabled: true, trigger: { kind: "customer_created" }, steps: tag(32) });
  if (list.length !== 20) throw new Error(`expected 20 rules, built ${list.length}`);
  return list;
}

async function setUp(client: pg.Client, withRules: boolean): Promise<void> {
  for (const [name, query] of SEGMENTS) await client.query(`INSERT INTO segments (shop, name, query) VALUES ($1, $2, $3)`, [BENCH_SHOP, name, query]);
  await client.query(`INSERT INTO segment_shop_versions (shop, version) VALUES ($1, 1)`, [BENCH_SHOP]);
  if (!withRules) return;
  for (const input of rules()) {
    const parsed = parseRule(input);
    if (!parsed.ok) throw new Error(parsed.errors.join("; "));
    await client.query(`INSERT INTO automation_rules (shop, name, enabled, trigger_kind, definition, webhook_secret) VALUES ($1, $2, true, $3, $4, 'bench')`, [
      BENCH_SHOP,
      parsed.rule.name,
      parsed.rule.trigger.kind,
      JSON.stringify(parsed.rule),
    ]);
  }
}

/** Inbox rows for deliveries from .. to - 1, each triggered a second after its order was created (so "placed" is fresh). */
async function preload(client: pg.Client, seed: number, from: number, to: number): Promise<void> {
  const rand = prng(seed * 1_000_003 + from);
  for (let start = from; start < to; start += 500) {
    const params: unknown[] = [];
    const rows: string[] = [];
    for (let i = start; i < Math.min(to, start + 500); i++) {
      const o = orderCreate(i, rand, { customers, orderIdBase: 6_000_000_000_000 });
      const p = params.length;
      rows.push(`($${p + 1}, $${p + 2}, 'orders/create', '2026-07', $${p + 3}, $${p + 4})`);
      params.push(BENCH_SHOP, `automations-${seed}-${i}`, o.body, new Date(Date.parse(o.createdAt) + 1_000));
    }
    await client.query(`INSERT INTO webhook_events (shop, webhook_id, topic, api_version, payload, triggered_at) VALUES ${rows.join(", ")}`, params);
  }
}

async function drain(run: number, withRules: boolean) {
  const db = await freshDatabase(withRules ? "automations_rules" : "automations_none");
  await flushBenchRedis();
  Object.assign(process.env, appEnv(db.url));
  const { enqueueApplyWebhooks, closeQueues } = await import("../../app/queues.server");
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const workerEnv = { AUTOMATION_RUNNER_INTERVAL_MS: "3600000" };
  let worker: ReturnType<typeof startWorker> | undefined;
  const enqueueAfter = async (afterId: string) => {
    const { rows } = await client.query<{ id: string }>(`SELECT id FROM webhook_events WHERE id > $1 ORDER BY id`, [afterId]);
    for (let i = 0; i < rows.length; i += 1000) await enqueueApplyWebhooks(rows.slice(i, i + 1000).map((r) => ({ inboxId: r.id, replays: 0 })));
  };
  const processed = async (afterId: string) => {
    const { rows } = await client.query<{ done: string; bad: string }>(`SELECT count(*) FILTER (WHERE status = 'processed') AS done, count(*) FILTER (WHERE status IN ('failed', 'dead', 'ignored')) AS bad FROM webhook_events WHERE id > $1`, [afterId]);
    if (Number(rows[0]!.bad) > 0) throw new Error(`${rows[0]!.bad} events not applied`);
    return Number(rows[0]!.done);
  };
  try {
    await setUp(client, withRules);
    if (history > 0) {
      await preload(client, 1000 + run, 0, history);
      await enqueueAfter("0");
      worker = startWorker(db.url, workerEnv);
      await waitUntil("history applied", async () => (await processed("0")) >= history, Math.max(120_000, history * 50), 200);
      await worker.stop();
      worker = undefined;
      // The runner would have turned the history's moments into firings long ago: none are left
      // for its first run at the drain's start (BullMQ runs a job scheduler's first job at once).
      await client.query(`DELETE FROM automation_moments`);
      await client.query(`VACUUM ANALYZE customers, orders, line_items, webhook_events, segment_members, segment_membership_changes, automation_moments`);
    }
    const { rows: last } = await client.query<{ id: string }>(`SELECT coalesce(max(id), 0)::text AS id FROM webhook_events`);
    const afterId = last[0]!.id;
    const { rows: firingsBefore } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM automation_moments`);
    await preload(client, 1000 + run, history, history + events);
    await enqueueAfter(afterId);
    await closeQueues();
    worker = startWorker(db.url, workerEnv);
    await waitUntil("drain", async () => (await processed(afterId)) >= events, Math.max(120_000, events * 50), 100);
    const { rows } = await client.query<{ span: number }>(`SELECT EXTRACT(EPOCH FROM max(processed_at) - min(processed_at))::float8 AS span FROM webhook_events WHERE id > $1`, [afterId]);
    const { rows: firings } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM automation_moments`);
    return { eventsPerSecond: round(events / rows[0]!.span, 1), momentsRecorded: Number(firings[0]!.n) - Number(firingsBefore[0]!.n) };
  } finally {
    await worker?.stop();
    await client.end();
    await db.drop();
  }
}

async function main() {
  const none: number[] = [];
  const withRules: number[] = [];
  const moments: number[] = [];
  for (let run = 1; run <= runs; run++) {
    // Alternating, so a change in background load affects both alike.
    const a = await drain(run, false);
    const b = await drain(run, true);
    none.push(a.eventsPerSecond);
    withRules.push(b.eventsPerSecond);
    moments.push(b.momentsRecorded);
    process.stderr.write(`run ${run}/${runs}: no rules ${a.eventsPerSecond} events/s, 20 rules ${b.eventsPerSecond} events/s (${b.momentsRecorded} moments recorded)\n`);
  }
  await finishBench();
  const ratio = round(median(withRules) / median(none), 3);
  const result = {
    size: { events, history, customers, runs, rules: 20, segments: SEGMENTS.length },
    median: { noRulesEventsPerSecond: round(median(none), 1), twentyRulesEventsPerSecond: round(median(withRules), 1), ratio, momentsRecorded: median(moments) },
    runs: { none, withRules, moments },
    targets: { ratioAtLeast: 0.8 },
    pass: { ratio: ratio >= 0.8 },
  };
  report("automations", result, [
    `size: ${events} orders/create over ${customers} customers after ${history} earlier orders, 3 segments, ${runs} runs (worker defaults, automation runner off during the drain)`,
    `apply: ${result.median.noRulesEventsPerSecond} events/s without rules, ${result.median.twentyRulesEventsPerSecond} events/s with 20 active rules (median); ratio ${ratio} [target >= 0.8: ${result.pass.ratio ? "met" : "MISSED"}]`,
    `moments recorded by the apply step per run with rules (median): ${result.median.momentsRecorded}`,
  ]);
  if (!result.pass.ratio) process.exitCode = 1;
}

main().catch(async (error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  await finishBench();
  process.exit(1);
});
