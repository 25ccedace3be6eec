// The twin on its own, for development:
//
//   npm run twin -- --port 4100 --shop my-store --store-file tests/fixtures/store-small.json --access-token shpat_dev
//   npm run twin -- --port 4100 --shop my-store --customers 2000 --seed 7 --access-token shpat_dev
//
// Then point the app at it with SHOPIFY_TWIN_URL=http://127.0.0.1:4100 and connect the shop
// with the token (`crm shop connect --shop my-store.myshopify.com --access-token shpat_dev`).
// Prints one JSON line on stdout when it listens: { url, shop, accessToken, customers, orders, products, historyEndsAt }.
// Stops on SIGINT / SIGTERM.
import { parseArgs } from "node:util";
import { startAdminTwin } from "./admin-graphql";
import { readStoreFile, loadStoreFile, StoreFileError } from "./store-file";
import { generateStore } from "./store-generator";

export const TWIN_HELP = `Usage: npm run twin -- [options]

  --port <n>             port to listen on (default 4100; 0 picks a free one)
  --host <addr>          address to listen on (default 127.0.0.1)
  --shop <name>          shop name or {name}.myshopify.com (default crm-twin)
  --store-file <path>    load the store from a JSON file (tests/twin/README.md, "Store files")
  --customers <n>        otherwise generate a store of n customers (10..1,000,000; default 200)
  --seed <s>             seed of the generated store (default 1)
  --repeat-factor <f>    repeat buying of the generated store (default 1)
  --access-token <tok>   accept this Admin API token for the shop (a custom app's token)
  --scopes <list>        scopes of that token, comma-separated (default: all; leave out
                         read_all_orders to see only the last 60 days of orders)
  --api-secret <secret>  the custom app's API secret: signs the webhooks the app registers
                         (default $SHOPIFY_API_SECRET)
  --bulk-delay-ms <n>    delay before a bulk operation starts (default 20)
  --help                 this text

The generated store's history ends at the moment the twin starts.`;

export type TwinServerArgs = {
  port: number;
  host: string;
  shop: string;
  storeFile?: string;
  customers: number;
  seed: number;
  repeatFactor: number;
  accessToken?: string;
  scopes?: string[];
  apiSecret?: string;
  bulkDelayMs: number;
};

export function parseTwinArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): TwinServerArgs | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      shop: { type: "string" },
      "store-file": { type: "string" },
      customers: { type: "string" },
      seed: { type: "string" },
      "repeat-factor": { type: "string" },
      "access-token": { type: "string" },
      scopes: { type: "string" },
      "api-secret": { type: "string" },
      "bulk-delay-ms": { type: "string" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) return "help";
  const int = (name: string, v: string | undefined, dflt: number, min: number, max: number) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got ${v}`);
    return n;
  };
  const shopName = (values.shop ?? "crm-twin").trim().toLowerCase();
  if (!/^[a-z0-9][a-z0-9-]*(\.myshopify\.com)?$/.test(shopName)) throw new Error(`--shop must be a shop name or {name}.myshopify.com, got ${values.shop}`);
  if (values["store-file"] && (values.customers || values.seed)) throw new Error("--store-file and --customers / --seed are exclusive");
  return {
    port: int("port", values.port, 4100, 0, 65535),
    host: values.host ?? "127.0.0.1",
    shop: shopName.endsWith(".myshopify.com") ? shopName : `${shopName}.myshopify.com`,
    storeFile: values["store-file"],
    customers: int("customers", values.customers, 200, 10, 1_000_000),
    seed: int("seed", values.seed, 1, 0, 2 ** 32 - 1),
    repeatFactor: values["repeat-factor"] === undefined ? 1 : Number(values["repeat-factor"]),
    accessToken: values["access-token"],
    scopes: values.scopes?.split(",").map((s) => s.trim()).filter(Boolean),
    apiSecret: values["api-secret"] ?? env.SHOPIFY_API_SECRET,
    bulkDelayMs: int("bulk-delay-ms", values["bulk-delay-ms"], 20, 0, 3_600_000),
  };
}

export async function startTwinServer(args: TwinServerArgs, now = Date.now()) {
  const twin = await startAdminTwin({
    port: args.port,
    host: args.host,
    defaultShop: args.shop,
    accessTokens: args.accessToken ? { [args.shop]: args.accessToken } : undefined,
    accessTokenScopes: args.accessToken && args.scopes ? { [args.shop]: args.scopes } : undefined,
    customAppSecret: args.apiSecret,
    bulkDelayMs: args.bulkDelayMs,
  });
  const shop = twin.shop(args.shop);
  let historyEndsAt: string | null = null;
  try {
    if (args.storeFile) loadStoreFile(shop, readStoreFile(args.storeFile));
    else {
      const store = generateStore({ seed: args.seed, customers: args.customers, shopDomain: args.shop, repeatFactor: args.repeatFactor, now });
      shop.loadStore(store);
      historyEndsAt = new Date(store.endMs).toISOString();
    }
  } catch (e) {
    await twin.close();
    throw e;
  }
  const summary = {
    url: twin.url,
    shop: args.shop,
    accessToken: args.accessToken ?? null,
    customers: shop.customers.size,
    orders: shop.orders.size,
    products: shop.products.size,
    historyEndsAt,
  };
  return { twin, summary };
}

async function main() {
  let args: TwinServerArgs | "help";
  try {
    args = parseTwinArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`twin: ${(e as Error).message}\n\n${TWIN_HELP}\n`);
    process.exit(2);
  }
  if (args === "help") {
    process.stdout.write(`${TWIN_HELP}\n`);
    return;
  }
  let started;
  try {
    started = await startTwinServer(args);
  } catch (e) {
    process.stderr.write(`twin: ${e instanceof StoreFileError ? e.message : (e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify(started.summary)}\n`);
  if (!args.accessToken) process.stderr.write("twin: no --access-token: any non-empty token is accepted for the shop\n");
  const stop = () => {
    void started.twin.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] && /twin-server\.ts$/.test(process.argv[1])) void main();
