// History import benchmark (issue 13, decision 045): a store of N orders (2 or 3 lines each,
// N/5 customers, refunds and cancellations) as bulk query result files, imported by the real
// import (app/services/history-import: streamed JSONL -> COPY into staging -> chunked
// set-based merge -> aggregates, RFM) in a child process whose peak RSS is reported, against
// a raw COPY of the same final rows (customers, orders, line items, refunds) into tables of
// the same definition and indexes. The ratio import / COPY is the figure (target <= 3).
//   npm run bench:import -- [--orders 20000] [--customers orders/5] [--seed 13]
// The full size: npm run bench:import -- --orders 1000000 --customers 200000
//
// The result files are written in the shape the twin's bulk runner writes for the app's
// IMPORT_*_QUERY documents (tests/twin/bulk-operations.ts: one line per node, an order's line
// items as separate lines with __parentId right after it) and served by the twin itself: the
// bench registers completed bulk operations in the twin whose url points at them, and the
// import finds them as it would after bulkOperationRunQuery (its runs and objects are
// created `running` with those operation ids).
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { pipeline } from "node:stream/promises";
import { spawn } from "node:child_process";
import pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { startAdminTwin } from "../twin/admin-graphql";
import { appEnv, finishBench, freshDatabase, numberFlag, parseFlags, prng, report, round, ROOT } from "./lib/common";

const SHOP = "crm-bench-import.myshopify.com";
const TOKEN = "shpat_bench_import";

// ---------------------------------------------------------------- child: the importing process

if (process.argv.includes("--child")) {
  const { runImport } = await import("../../app/services/history-import/import.server");
  const { closeDb } = await import("../../app/db.server");
  const started = performance.now();
  let rssPeakSampled = 0;
  const sampler = setInterval(() => (rssPeakSampled = Math.max(rssPeakSampled, process.memoryUsage.rss())), 100);
  const marks: Record<string, number> = {};
  let phase = "";
  const result = await runImport(SHOP, {
    pollMs: 50,
    beforeStep: (step) => {
      const name = step.split(":")[0]!;
      if (name !== phase) {
        marks[name] ??= performance.now() - started;
        phase = name;
      }
    },
  });
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `${JSON.stringify({ outcome: result.outcome, status: result.status, seconds, marks, maxRssMb: process.resourceUsage().maxRSS / 1024, sampledRssMb: rssPeakSampled / 1048576 })}\n`,
  );
  await closeDb();
  process.exit(0);
}

// ---------------------------------------------------------------- the store as JSONL files

const flags = parseFlags();
const orders = numberFlag(flags, "orders", 20_000);
const customers = numberFlag(flags, "customers", Math.max(1, Math.round(orders / 5)));
const seed = numberFlag(flags, "seed", 13);
const PRODUCTS = 200;
const DAY = 86_400_000;
const START = Date.parse("2023-01-01T00:00:00Z");
const SPAN = 3 * 365 * DAY;

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const money = (cents: number) => ({ shopMoney: { amount: (cents / 100).toFixed(2), currencyCode: "USD" } });

async function writeLines(path: string, lines: (write: (line: string) => Promise<void>) => Promise<void>): Promise<number> {
  const out = createWriteStream(path);
  let buffer = "";
  let n = 0;
  const write = async (line: string) => {
    buffer += `${line}\n`;
    n++;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, "drain");
      buffer = "";
    }
  };
  await lines(write);
  out.end(buffer);
  await once(out, "finish");
  return n;
}

async function writeStore(dir: string) {
  const rand = prng(seed);
  const pick = (n: number) => Math.floor(rand() * n);
  const products = await writeLines(join(dir, "products.jsonl"), async (write) => {
    for (let p = 1; p <= PRODUCTS; p++) {
      await write(
        JSON.stringify({ id: `gid://shopify/Product/${9_000_000 + p}`, title: `Product ${p}`, productType: ["Socks", "Hats", "Yarn", "Gloves"][p % 4], vendor: `Vendor ${p % 7}`, status: "ACTIVE", tags: [`t${p % 5}`], createdAt: iso(START), updatedAt: iso(START + p * 1000) }),
      );
    }
  });
  const customerLines = await writeLines(join(dir, "customers.jsonl"), async (write) => {
    for (let c = 1; c <= customers; c++) {
      const created = START + pick(SPAN / 2);
      const subscribed = rand() < 0.4;
      await write(
        JSON.stringify({
          id: `gid://shopify/Customer/${7_000_000 + c}`,
          email: `customer${c}@example.com`,
          firstName: `First${c % 97}`,
          lastName: `Last${c % 89}`,
          phone: null,
          state: "ENABLED",
          note: null,
          verifiedEmail: true,
          tags: c % 3 === 0 ? ["vip"] : [],
          createdAt: iso(created),
          updatedAt: iso(created + DAY),
          amountSpent: { amount: "0.00", currencyCode: "USD" },
          numberOfOrders: "0",
          emailMarketingConsent: { marketingState: subscribed ? "SUBSCRIBED" : "NOT_SUBSCRIBED", marketingOptInLevel: "SINGLE_OPT_IN", consentUpdatedAt: subscribed ? iso(created) : null },
          defaultAddress: { id: `gid://shopify/MailingAddress/${5_000_000 + c}?model_name=CustomerAddress` },
          addresses: [{ id: `gid://shopify/MailingAddress/${5_000_000 + c}?model_name=CustomerAddress`, countryCodeV2: "US", provinceCode: "OR", province: "Oregon", city: "Portland", zip: "97204", address1: `${c} Main St`, address2: null }],
        }),
      );
    }
  });
  let lineItems = 0;
  let refunds = 0;
  const orderLines = await writeLines(join(dir, "orders.jsonl"), async (write) => {
    for (let o = 1; o <= orders; o++) {
      const id = `gid://shopify/Order/${6_000_000 + o}`;
      const created = START + Math.floor((o / orders) * SPAN);
      const lines = 2 + pick(2);
      const items: { price: number; quantity: number; product: number }[] = [];
      for (let l = 0; l < lines; l++) items.push({ price: 900 + pick(9000), quantity: 1 + pick(3), product: 1 + pick(PRODUCTS) });
      const subtotal = items.reduce((s, i) => s + i.price * i.quantity, 0);
      const shipping = 500;
      const tax = Math.round(subtotal * 0.08);
      const total = subtotal + shipping + tax;
      const cancelled = rand() < 0.03;
      const refund = !cancelled && rand() < 0.1 ? Math.round(total / 3) : 0;
      if (refund) refunds++;
      await write(
        JSON.stringify({
          id,
          name: `#${1000 + o}`,
          email: `customer${1 + (o % customers)}@example.com`,
          createdAt: iso(created),
          updatedAt: iso(created + (refund ? 5 * DAY : DAY)),
          processedAt: iso(created),
          closedAt: null,
          cancelledAt: cancelled ? iso(created + DAY) : null,
          cancelReason: cancelled ? "CUSTOMER" : null,
          test: false,
          displayFinancialStatus: refund ? "PARTIALLY_REFUNDED" : cancelled ? "VOIDED" : "PAID",
          displayFulfillmentStatus: "UNFULFILLED",
          sourceName: "web",
          tags: [],
          discountCodes: [],
          currencyCode: "USD",
          presentmentCurrencyCode: "USD",
          customer: { id: `gid://shopify/Customer/${7_000_000 + 1 + pick(customers)}` },
          totalPriceSet: money(total),
          subtotalPriceSet: money(subtotal),
          totalTaxSet: money(tax),
          totalDiscountsSet: money(0),
          totalShippingPriceSet: money(shipping),
          refunds: refund
            ? [{ id: `gid://shopify/Refund/${8_000_000 + o}`, legacyResourceId: String(8_000_000 + o), createdAt: iso(created + 5 * DAY), processedAt: iso(created + 5 * DAY), note: null, totalRefundedSet: money(refund) }]
            : [],
        }),
      );
      for (const [l, item] of items.entries()) {
        lineItems++;
        await write(
          JSON.stringify({
            id: `gid://shopify/LineItem/${60_000_000 + o * 4 + l}`,
            title: `Product ${item.product}`,
            variantTitle: null,
            sku: `SKU-${item.product}`,
            vendor: `Vendor ${item.product % 7}`,
            quantity: item.quantity,
            isGiftCard: false,
            product: { id: `gid://shopify/Product/${9_000_000 + item.product}` },
            variant: { id: `gid://shopify/ProductVariant/${9_500_000 + item.product}` },
            originalUnitPriceSet: money(item.price),
            totalDiscountSet: money(0),
            __parentId: id,
          }),
        );
      }
    }
  });
  return { products, customers: customerLines, orders, orderFileLines: orderLines, lineItems, refunds };
}

// ---------------------------------------------------------------- the run

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - t) / 1000 };
}

async function main() {
  // --keep-files leaves the JSONL files (to look into, or to profile the mapping alone).
  const dir = mkdtempSync(join(tmpdir(), "crm-bench-import-"));
  const keepFiles = "keep-files" in flags;
  const db = await freshDatabase("import");
  const twin = await startAdminTwin({ accessTokens: { [SHOP]: TOKEN } });
  // The result files, served the way Shopify's storage serves them (a plain GET).
  const files = createServer((req, res) => {
    const name = /^\/([a-z]+\.jsonl)$/.exec(req.url ?? "")?.[1];
    if (!name) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/jsonl" });
    createReadStream(join(dir, name)).pipe(res);
  });
  files.listen(0, "127.0.0.1");
  await once(files, "listening");
  const filesUrl = `http://127.0.0.1:${(files.address() as { port: number }).port}`;
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    process.stderr.write(`writing ${orders} orders, ${customers} customers ...\n`);
    const written = await timed(() => writeStore(dir));
    const sizeMb = ["products", "customers", "orders"].reduce((s, n) => s + statSync(join(dir, `${n}.jsonl`)).size, 0) / 1048576;
    process.stderr.write(`wrote ${round(sizeMb, 1)} MB in ${round(written.seconds, 1)} s\n`);

    // Completed bulk operations in the twin, their urls at the files; the run waits for them.
    const shop = twin.shop(SHOP);
    const opIds: Record<string, string> = {};
    for (const type of ["products", "customers", "orders"]) {
      const id = shop.nextId();
      opIds[type] = id;
      shop.bulkOperations.set(id, {
        id, type: "QUERY", status: "COMPLETED", errorCode: null, query: type, createdAt: shop.nowIso(), completedAt: shop.nowIso(),
        objectCount: 0, rootObjectCount: 0, fileSize: statSync(join(dir, `${type}.jsonl`)).size, url: `${filesUrl}/${type}.jsonl`, partialDataUrl: null,
      });
    }
    await client.query(`INSERT INTO "Session" (id, shop, state, "isOnline", scope, "accessToken") VALUES ($1, $2, '', false, $3, $4)`, [
      `offline_${SHOP}`, SHOP, "read_customers,read_orders,read_all_orders,read_products", TOKEN,
    ]);
    const { rows } = await client.query<{ id: string }>(`INSERT INTO import_runs (shop) VALUES ($1) RETURNING id`, [SHOP]);
    for (const type of ["products", "customers", "orders"]) {
      await client.query(`INSERT INTO import_run_objects (run_id, object_type, status, bulk_operation_gid, attempts) VALUES ($1, $2, 'running', $3, 1)`, [
        rows[0]!.id, type, `gid://shopify/BulkOperation/${opIds[type]}`,
      ]);
    }

    process.stderr.write("importing (child process) ...\n");
    const env: NodeJS.ProcessEnv = { ...appEnv(db.url), NODE_ENV: "test", SHOPIFY_TWIN_URL: twin.url, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn" };
    // --heap-mb N caps the importing process's V8 heap: it must still finish (memory bounded, not just collected late).
    const heap = "heap-mb" in flags ? [`--max-old-space-size=${numberFlag(flags, "heap-mb", 0)}`] : [];
    const child = spawn(process.execPath, [...heap, "--import", "tsx", "tests/bench/import.ts", "--child"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    if (code !== 0) throw new Error(`the importing process exited with ${code}: ${out}`);
    // With BENCH_LOG_LEVEL=info the importing process's log (its steps, timed) comes before its result line.
    if (process.env.BENCH_LOG_LEVEL) process.stderr.write(out);
    const imported = JSON.parse(out.trim().split("\n").pop()!) as { outcome: string; status: Record<string, unknown>; seconds: number; marks: Record<string, number>; maxRssMb: number; sampledRssMb: number };
    if (imported.outcome !== "done") throw new Error(`import ${imported.outcome}: ${JSON.stringify(imported.status)}`);

    // Raw COPY of the same final rows into tables of the same definition (indexes included).
    const tables = ["customers", "orders", "line_items", "refunds"];
    const exported: Record<string, string> = {};
    const columns: Record<string, string> = {};
    for (const t of tables) {
      // Stored columns only (customers.search_text is generated: COPY cannot write it, PostgreSQL computes it).
      const { rows: cols } = await client.query<{ c: string }>(
        `SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) AS c FROM information_schema.columns WHERE table_name = $1 AND is_generated = 'NEVER'`,
        [t],
      );
      columns[t] = cols[0]!.c;
      exported[t] = join(dir, `${t}.copy`);
      await pipeline(client.query(copyTo(`COPY (SELECT ${columns[t]} FROM ${t} WHERE shop = '${SHOP}') TO STDOUT`)), createWriteStream(exported[t]));
      await client.query(`CREATE TABLE bench_copy_${t} (LIKE ${t} INCLUDING ALL)`);
    }
    await client.query("CHECKPOINT");
    const copied = await timed(async () => {
      for (const t of tables) await pipeline(createReadStream(exported[t]!), client.query(copyFrom(`COPY bench_copy_${t} (${columns[t]}) FROM STDIN`)));
    });
    const counts: Record<string, number> = {};
    for (const t of tables) counts[t] = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM bench_copy_${t}`)).rows[0]!.n);

    const ratio = imported.seconds / copied.seconds;
    const result = {
      orders, customers, lineItems: written.value.lineItems, refunds: written.value.refunds, jsonlMb: round(sizeMb, 1),
      importSeconds: round(imported.seconds, 2), phases: imported.marks, copySeconds: round(copied.seconds, 2), ratio: round(ratio, 2),
      peakRssMb: round(imported.maxRssMb, 1), sampledPeakRssMb: round(imported.sampledRssMb, 1), copiedRows: counts, status: imported.status,
    };
    report("import", result, [
      `store: ${orders} orders (${written.value.lineItems} line items, ${written.value.refunds} refunds), ${customers} customers, ${round(sizeMb, 1)} MB of JSONL`,
      `import (stream + stage + merge + aggregates/RFM): ${round(imported.seconds, 2)} s; raw COPY of the same rows: ${round(copied.seconds, 2)} s; ratio ${round(ratio, 2)} (target <= 3)`,
      `peak RSS of the importing process: ${round(imported.maxRssMb, 1)} MB (goal < 300 MB)`,
    ]);
  } finally {
    await client.end();
    files.close();
    await twin.close();
    await db.drop();
    await finishBench();
    if (keepFiles) process.stderr.write(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
