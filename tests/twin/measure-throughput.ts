// Prints the twin's throughput on this machine: Admin GraphQL requests/s and webhooks
// delivered/s to a local no-op receiver. Loopback only, bounded in time.
// Usage: npx tsx tests/twin/measure-throughput.ts [seconds=5] [concurrency=8]
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { startAdminTwin } from "./admin-graphql";
import { generateStore } from "./store-generator";
import { storeWebhooks, type WebhookMessage } from "./webhook-payloads";
import { WebhookSender } from "./webhook-sender";

const seconds = Number(process.argv[2] ?? 5);
const concurrency = Number(process.argv[3] ?? 8);
const SHOP = "bench.myshopify.com";

async function measureGraphql() {
  const store = generateStore({ seed: 1, customers: 5_000 });
  // A bucket that never empties: this measures the twin, not Shopify's rate limit.
  const twin = await startAdminTwin({ defaultShop: SHOP, requestLog: null, bucket: { maximumAvailable: 1e12, restoreRate: 1e12 } });
  twin.shop(SHOP).loadStore(store);
  const ids = [...twin.shop(SHOP).customers.keys()];
  const docs = [
    (i: number) => ({ query: "query($id: ID!) { customer(id: $id) { id email tags numberOfOrders amountSpent { amount } } }", variables: { id: `gid://shopify/Customer/${ids[i % ids.length]}` } }),
    () => ({ query: "{ customers(first: 50, sortKey: UPDATED_AT, reverse: true) { nodes { id email updatedAt } pageInfo { hasNextPage endCursor } } }", variables: {} }),
    (i: number) => ({
      query: "mutation($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } } }",
      variables: { id: `gid://shopify/Customer/${ids[(i * 7) % ids.length]}`, tags: ["crm:bench"] },
    }),
  ];
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  let errors = 0;
  const worker = async (w: number) => {
    for (let i = w; Date.now() < deadline; i += concurrency) {
      const body = docs[i % docs.length]!(i);
      const res = await fetch(`${twin.url}/admin/api/2026-07/graphql.json`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-shopify-access-token": "bench" },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as { errors?: unknown };
      if (res.status !== 200 || json.errors) errors++;
      done++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const elapsed = (Date.now() - started) / 1000;
  // The same documents without HTTP (the client above shares this process and its cores).
  const inProcessStart = performance.now();
  let inProcess = 0;
  while (performance.now() - inProcessStart < 1000) twin.executeRequest(SHOP, docs[inProcess % docs.length]!(inProcess++));
  await twin.close();
  return { requests: done, errors, seconds: elapsed, requestsPerSecond: Math.round(done / elapsed), executeOnlyPerSecond: inProcess };
}

async function measureWebhooks() {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received++;
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const store = generateStore({ seed: 2, customers: 100_000 });
  const deadline = Date.now() + seconds * 1000;
  async function* untilDeadline(): AsyncGenerator<WebhookMessage> {
    for (const m of storeWebhooks(store.events())) {
      if (Date.now() >= deadline) return;
      yield m;
    }
  }
  const sender = new WebhookSender({ targetBaseUrl: base, secret: "bench-secret", shopDomain: SHOP, concurrency, retry: { retries: 0, baseDelayMs: 0 } });
  const report = await sender.send(untilDeadline());
  await new Promise<void>((r) => server.close(() => r()));
  const elapsed = report.elapsedMs / 1000;
  return { messages: report.messages, delivered: report.delivered, failed: report.failed, received, seconds: elapsed, deliveredPerSecond: Math.round(report.delivered / elapsed) };
}

const graphql = await measureGraphql();
const webhooks = await measureWebhooks();
console.log(JSON.stringify({ node: process.version, concurrency, adminGraphql: graphql, webhooks }, null, 2));
