// Part of `npm run demo`: queues a test email (the app's email layout, with the merge fields)
// to the first customers of the demo shop that have an address and an order, and wakes the
// worker's sender, which delivers them to the demo's mail catcher. Run by demo.ts with the
// app's environment: node --import tsx tests/twin/demo-email.ts <shop> [count]
import { closeDb, getPool, withTransaction } from "../../app/db.server";
import { wakeEmailSender } from "../../app/services/email/outbox.server";
import { queueTestEmail } from "../../app/services/email/test-email.server";
import { closeEmailQueue } from "../../app/queues.server";

async function main() {
  const shop = process.argv[2];
  const count = Number(process.argv[3] ?? "3");
  if (!shop) throw new Error("usage: demo-email.ts <shop> [count]");
  const { rows } = await getPool().query<{ gid: string; email: string }>(
    `SELECT c.gid, c.email FROM customers c WHERE c.shop = $1 AND c.email IS NOT NULL
        AND EXISTS (SELECT 1 FROM orders o WHERE o.shop = c.shop AND o.customer_gid = c.gid)
      ORDER BY c.id LIMIT $2`,
    [shop, count],
  );
  let queued = 0;
  for (const c of rows) {
    const r = await withTransaction((client) => queueTestEmail(client, { shop, to: c.email, customerGid: c.gid }));
    if (r.status === "queued") queued++;
  }
  await wakeEmailSender();
  process.stdout.write(`${queued}\n`);
}

main()
  .catch((error: Error) => {
    process.stderr.write(`demo-email: ${error.message}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await closeEmailQueue();
    await closeDb();
  });
