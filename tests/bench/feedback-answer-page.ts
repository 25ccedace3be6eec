// The answer page under load (issue 12): --shoppers concurrent shoppers against the built app
// server (node build/index.js), each repeatedly opening its own request's page (GET) and
// answering it (POST, then the redirect's page is not fetched), for --seconds. Reports the
// latency percentiles of GET and POST and checks that every request ends with exactly one
// response (edits in place) and one loyalty bonus at most.
//   npm run bench:feedback-answer -- [--shoppers 100] [--seconds 20]
import { freePort } from "../support/admin-app-server";
import { finishBench, freshDatabase, leaseBenchRedis, numberFlag, parseFlags, percentiles, releaseBenchRedis, report, startRealServer, useAppEnvInThisProcess, waitForPort } from "./lib/common";

const flags = parseFlags();
const shoppers = numberFlag(flags, "shoppers", 100);
const seconds = numberFlag(flags, "seconds", 20);
const SHOP = "feedback-page-bench.myshopify.com";

async function main() {
  const db = await freshDatabase("feedbackpage");
  await leaseBenchRedis();
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  await useAppEnvInThisProcess(db.url, { SHOPIFY_APP_URL: origin });
  const { getPool, closeDb } = await import("../../app/db.server");
  const { setFeedbackRules } = await import("../../app/services/feedback/rules.server");
  const { signFeedbackToken } = await import("../../app/services/feedback/links.server");
  const { saveProgram } = await import("../../app/services/loyalty/program.server");
  const server = startRealServer(db.url, port, { SHOPIFY_APP_URL: origin });
  try {
    const pool = getPool();
    await pool.query(`INSERT INTO shops (domain, name, "currencyCode") VALUES ($1, 'Page Bench', 'USD')`, [SHOP]);
    await saveProgram({ shop: SHOP, settings: { earn: { pointsPerUnit: 1 }, bonuses: { feedback: 10 } }, actor: "bench", now: new Date(Date.now() - 86_400_000) });
    await setFeedbackRules(SHOP, { rules: [{ name: "bench", trigger: "order_paid", delayDays: 0 }] });
    await pool.query(`INSERT INTO customers (shop, gid, email, first_name) SELECT $1, 'gid://shopify/Customer/' || i, 'c' || i || '@bench.example', 'C' || i FROM generate_series(1, $2) i`, [SHOP, shoppers]);
    await pool.query(
      `INSERT INTO orders (shop, gid, legacy_id, customer_gid, name, currency, total_price_minor, financial_status, shopify_created_at, shopify_updated_at)
       SELECT $1, 'gid://shopify/Order/' || i, i::text, 'gid://shopify/Customer/' || i, '#' || i, 'USD', 5000, 'paid', now(), now() FROM generate_series(1, $2) i`,
      [SHOP, shoppers],
    );
    await pool.query(
      `INSERT INTO line_items (shop, gid, order_gid, product_gid, title, quantity, price_minor)
       SELECT $1, 'gid://shopify/LineItem/' || i || '-' || p, 'gid://shopify/Order/' || i, 'gid://shopify/Product/' || p, 'Product ' || p, 1, 2500
         FROM generate_series(1, $2) i, generate_series(1, 2) p`,
      [SHOP, shoppers],
    );
    const { rows } = await pool.query<{ id: string; expires: Date }>(
      `INSERT INTO feedback_requests (shop, rule_id, order_gid, customer_gid, status, triggered_at, send_at, sent_at, link_expires_at)
       SELECT $1, (SELECT id FROM feedback_rules WHERE shop = $1), 'gid://shopify/Order/' || i, 'gid://shopify/Customer/' || i, 'sent', now(), now(), now(), now() + interval '180 days'
         FROM generate_series(1, $2) i RETURNING id::text AS id, link_expires_at AS expires`,
      [SHOP, shoppers],
    );
    const links = rows.map((r) => `${origin}/feedback/${signFeedbackToken({ shop: SHOP, requestId: r.id, expiresAt: r.expires })}`);
    await pool.query(`ANALYZE`);
    await waitForPort(port, server);

    const gets: number[] = [];
    const posts: number[] = [];
    let errors = 0;
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(
      links.map(async (link, i) => {
        let n = 0;
        while (performance.now() < deadline) {
          let started = performance.now();
          const page = await fetch(link);
          await page.text();
          gets.push(performance.now() - started);
          if (page.status !== 200) errors += 1;
          started = performance.now();
          const body = new URLSearchParams({ nps: String((i + n++) % 11), comment: `Answer ${n} of shopper ${i}`, "rating-0": "4", "rating-1": "5" }).toString();
          const answer = await fetch(link, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
          await answer.text();
          posts.push(performance.now() - started);
          if (answer.status !== 303) errors += 1;
        }
      }),
    );
    const { rows: check } = await pool.query<{ responses: number; requests: number; bonuses: number }>(
      `SELECT (SELECT count(*)::int FROM feedback_responses WHERE shop = $1) AS responses,
              (SELECT count(*)::int FROM feedback_requests WHERE shop = $1 AND status = 'answered') AS requests,
              (SELECT count(*)::int FROM loyalty_ledger WHERE shop = $1 AND idempotency_key LIKE 'bonus:feedback:%') AS bonuses`,
      [SHOP],
    );
    const result = {
      shoppers,
      seconds,
      pages: gets.length,
      answers: posts.length,
      errors,
      getMs: percentiles(gets),
      postMs: percentiles(posts),
      answersPerSecond: Math.round(posts.length / seconds),
      ...check[0]!,
    };
    report("feedback-answer-page", result, [
      `${shoppers} shoppers for ${seconds} s: ${gets.length} page views, ${posts.length} answers (${result.answersPerSecond}/s), ${errors} errors`,
      `GET p50 ${result.getMs.p50} ms, p99 ${result.getMs.p99} ms; POST p50 ${result.postMs.p50} ms, p99 ${result.postMs.p99} ms`,
      `responses ${check[0]!.responses} for ${check[0]!.requests} answered requests, ${check[0]!.bonuses} bonuses (one each)`,
    ]);
    if (errors > 0 || check[0]!.responses !== shoppers || check[0]!.bonuses !== shoppers) process.exitCode = 1;
  } finally {
    await server.stop();
    await closeDb();
    await releaseBenchRedis();
    await db.drop();
    await finishBench();
  }
}

void main();
