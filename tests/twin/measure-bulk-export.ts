// How fast the twin writes a history import's bulk JSONL (customers, orders):
//   npx tsx tests/twin/measure-bulk-export.ts [customers]   (default 20,000)
// Prints one line per query: time, objects, bytes; then the process's peak RSS.
import { startAdminTwin } from "./admin-graphql";
import { BULK_CUSTOMERS_QUERY, BULK_OPERATION_POLL_QUERY, BULK_ORDERS_QUERY, RUN_BULK_QUERY_MUTATION } from "./import-queries";
import { generateStore } from "./store-generator";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function main() {
  const customers = Number(process.argv[2] ?? 20_000);
  const SHOP = "bench.myshopify.com";
  const twin = await startAdminTwin({ defaultShop: SHOP, accessTokens: { [SHOP]: "t" }, bulkDelayMs: 0 });
  let t = Date.now();
  twin.shop(SHOP).loadStore(generateStore({ seed: 1, customers, shopDomain: SHOP, now: Date.now() }));
  console.log(`load: ${Date.now() - t} ms, ${customers} customers, ${twin.shop(SHOP).orders.size} orders`);
  for (const [name, query] of [["customers", BULK_CUSTOMERS_QUERY], ["orders", BULK_ORDERS_QUERY]] as const) {
    t = Date.now();
    const run = twin.executeRequest(SHOP, { query: RUN_BULK_QUERY_MUTATION, variables: { query } }, { chargeCost: false }) as Json;
    const id = run.data.bulkOperationRunQuery.bulkOperation.id as string;
    for (;;) {
      const poll = twin.executeRequest(SHOP, { query: BULK_OPERATION_POLL_QUERY, variables: { id } }, { chargeCost: false }) as Json;
      if (!["CREATED", "RUNNING"].includes(poll.data.node.status)) {
        console.log(`${name}: ${poll.data.node.status} in ${Date.now() - t} ms, ${poll.data.node.objectCount} objects, ${poll.data.node.fileSize} bytes`);
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  console.log(`peak rss: ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
  await twin.close();
}

void main();
