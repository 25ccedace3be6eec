// Email sending benchmark (issue 12): emails per second from the outbox to a loopback SMTP
// server through the sender's pooled nodemailer transport.
//   npm run bench:email-send -- [--emails 500] [--runs 5] [--connections 5] [--batch 50] [--warmup 1]
//
// Per run: `emails` messages queued with queueEmail (each rendered with the React Email
// layout, in transactions of 50; not timed), then one drainEmailOutbox pass, timed from its
// start until every row is recorded sent. The SMTP server is the mail catcher
// (tests/twin/mail-catcher.ts: smtp-server + mailparser), in this process, so the figure
// includes the server's parsing on the same event loop (a conservative setup).
// Verified after each run: the catcher holds exactly `emails` messages with distinct
// Message-IDs equal to the rows', every row is `sent` with one attempt, and the SMTP
// connections opened stayed within the pool size (pooling works). Reported: the median
// emails/s of the runs, and the connections per run. `warmup` runs of 100 emails go first and
// are not counted (the first pass in a process pays for JIT compilation and module loading).
import { randomUUID } from "node:crypto";
import { finishBench, freshDatabase, median, numberFlag, parseFlags, report, round, useAppEnvInThisProcess } from "./lib/common";
import { startMailCatcher } from "../twin/mail-catcher";

const flags = parseFlags();
const count = numberFlag(flags, "emails", 500);
const runs = numberFlag(flags, "runs", 5);
const connections = numberFlag(flags, "connections", 5);
const batch = numberFlag(flags, "batch", 50);
const warmup = numberFlag(flags, "warmup", 1);

type RunResult = { seconds: number; emailsPerSecond: number; smtpConnections: number; delivered: number; mismatches: number };

async function main() {
  const db = await freshDatabase("email");
  const catcher = await startMailCatcher({ httpPort: null });
  await useAppEnvInThisProcess(db.url, { SMTP_URL: catcher.smtpUrl, SMTP_MAX_CONNECTIONS: String(connections), DATABASE_POOL_SIZE: String(batch + 4) });
  const { getPool, withTransaction, closeDb } = await import("../../app/db.server");
  const { queueEmail } = await import("../../app/services/email/outbox.server");
  const { drainEmailOutbox, closeSmtpTransport } = await import("../../app/services/email/sender.server");
  const { renderTestEmail } = await import("../../app/emails/test-email");
  const { DEFAULT_EMAIL_SETTINGS } = await import("../../app/services/email/settings.server");
  const { closeEmailQueue } = await import("../../app/queues.server");
  const results: RunResult[] = [];

  for (let run = -warmup; run < runs; run++) {
    const shop = `bench-email-${run < 0 ? `warmup${-run}` : run}.myshopify.com`;
    const emails = run < 0 ? Math.min(100, count) : count;
    catcher.clear();
    closeSmtpTransport(); // a fresh pool per run: its connections are counted
    const connectionsBefore = catcher.connections();
    for (let start = 0; start < emails; start += 50) {
      await withTransaction(async (client) => {
        for (let i = start; i < Math.min(emails, start + 50); i++) {
          await queueEmail(client, {
            shop,
            customerGid: `gid://shopify/Customer/${i + 1}`,
            to: `buyer${i + 1}@example.com`,
            category: "feedback_request",
            idempotencyKey: `bench:${randomUUID()}`,
            render: ({ unsubscribeUrl }) =>
              renderTestEmail({
                shopName: "Bench Shop",
                settings: { ...DEFAULT_EMAIL_SETTINGS, footerAddress: "1 Bench Street" },
                firstName: `Buyer ${i + 1}`,
                orderName: `#${1000 + i}`,
                products: [{ title: "Product", imageUrl: "https://cdn.example.test/p.png", url: null }],
                unsubscribeUrl,
              }),
          });
        }
      });
    }
    const started = performance.now();
    const pass = await drainEmailOutbox({ batchSize: batch, maxPassMs: 600_000 });
    const seconds = (performance.now() - started) / 1000;
    const { rows } = await getPool().query<{ message_id: string; status: string; attempts: number }>(`SELECT message_id, status, attempts FROM email_outbox WHERE shop = $1`, [shop]);
    const caught = new Set(catcher.messages.map((m) => m.messageId));
    let mismatches = Math.abs(catcher.messages.length - emails) + Math.abs(caught.size - emails) + Math.abs(pass.sent - emails);
    for (const r of rows) if (r.status !== "sent" || r.attempts !== 1 || !caught.has(r.message_id)) mismatches++;
    const smtpConnections = catcher.connections() - connectionsBefore;
    if (smtpConnections > connections) mismatches++;
    if (run < 0) {
      process.stderr.write(`warmup: ${round(emails / seconds, 1)} emails/s, mismatches ${mismatches}\n`);
      continue;
    }
    results.push({ seconds: round(seconds, 2), emailsPerSecond: round(emails / seconds, 1), smtpConnections, delivered: catcher.messages.length, mismatches });
    process.stderr.write(`run ${run + 1}/${runs}: ${JSON.stringify(results[results.length - 1])}\n`);
  }

  const summary = {
    command: `npm run bench:email-send -- --emails ${count} --runs ${runs} --connections ${connections} --batch ${batch} --warmup ${warmup}`,
    data: { emails: count, connections, batch, warmupRuns: warmup },
    median: { emailsPerSecond: round(median(results.map((r) => r.emailsPerSecond)), 1), seconds: round(median(results.map((r) => r.seconds)), 2) },
    mismatches: results.reduce((n, r) => n + r.mismatches, 0),
    runs: results,
  };
  report("email-send", summary, [
    `${count} emails per run to a loopback SMTP server (smtp-server + mailparser in this process), pool of ${connections} connections, claims of ${batch}, median of ${runs} run(s)`,
    `emails/s: ${summary.median.emailsPerSecond} (runs: ${results.map((r) => r.emailsPerSecond).join(", ")}); SMTP connections per run: ${results.map((r) => r.smtpConnections).join(", ")}`,
    `mismatches (delivered vs rows sent once with their Message-ID, connections beyond the pool): ${summary.mismatches}`,
  ]);
  closeSmtpTransport();
  await closeEmailQueue();
  await closeDb();
  await catcher.close();
  await db.drop();
  await finishBench();
  if (summary.mismatches) process.exitCode = 1;
}

main().catch(async (error: unknown) => {
  console.error(error);
  await finishBench().catch(() => undefined);
  process.exit(1);
});
