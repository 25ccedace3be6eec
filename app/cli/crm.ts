// Operator CLI: `npm run --silent crm -- <command> [options]`.
// JSON on stdout; errors on stderr with exit code 2.
import { parseArgs } from "node:util";
import { ZodError, z } from "zod";
import { closeDb, getPool } from "../db.server";
import { getEnv } from "../env.server";
import { buildCustomerExport, exportAllCustomers } from "../services/customer-export.server";
import { getEventStats } from "../services/operations.server";
import { replayEvents } from "../services/event-replay.server";
import { isShopDomain } from "../shopify/shop-domain";
import { closeQueues } from "../queues.server";
import { formatSegmentErrors } from "../services/segments/definition";
import {
  SegmentServiceError,
  createSegment,
  getSegment,
  listSegments,
  previewAll,
  recomputeSegment,
  refreshRelativeSegments,
} from "../services/segments/segments.server";
import { LoyaltyError } from "../services/loyalty/errors";
import { getBalance, ledger } from "../services/loyalty/balance.server";
import { redeemReward } from "../services/loyalty/rewards.server";
import { getProgram } from "../services/loyalty/program.server";
import { saveProgramSettingsJson } from "../services/admin-loyalty.server";
import { rekeySessions } from "../services/sessions.server";
import { FeedbackError, listFeedbackRules, setFeedbackRules } from "../services/feedback/rules.server";
import { getFeedbackStats, listCustomerRequests } from "../services/feedback/stats.server";
import { readFile } from "node:fs/promises";
import { ShopConnectionError, connectShop, showShop } from "../services/shop-connection.server";
import { ReconcileBusyError, reconcileShop } from "../services/sync/reconcile.server";
import { crossCheckShop } from "../services/sync/cross-check.server";
import { ShopifyAdminError } from "../shopify/admin-api.server";
import { ANALYTICS_REPORT_OPTIONS, ANALYTICS_REPORT_USAGE, runAnalyticsReport } from "./analytics-reports";
import { AutomationError, listRules, setRule } from "../services/automations/rules.server";
import { dryRunRule } from "../services/automations/dry-run.server";
import { firingLog, ruleStats } from "../services/automations/log.server";
import { ImportFailedError, importStart, importStatus } from "./import-commands";
import { getClvModel, getCustomerPrediction, refitClv } from "../services/analytics/clv.server";
import { listAffinity, listClusters, refitAffinity, refitClusters } from "../services/analytics/clusters.server";

class UsageError extends Error {}

const USAGE = `usage: npm run --silent crm -- <command> [options]

commands:
  customer export --shop <domain> --customer <gid or numeric id>   one customer's full export
  customers export --shop <domain>                                 every customer's export, one JSON per line
  events stats --shop <domain>                                     inbox counts by outcome
  events replay --shop <domain> --status dead                      re-run dead-lettered events
  segments preview --shop <domain> --query '<text>'                 count and ids of the customers matching a segment query
  segments list --shop <domain>                                    segments with members and the change over 7 days
  segments create --shop <domain> --name <name> --query '<text>' [--tag <tag>]
                                                                   define a segment (a tag turns on tag sync)
  segments recompute --shop <domain> [--segment <id or name>]      recompute one segment, or RFM and every segment
  loyalty balance --shop <domain> --customer <gid or numeric id>   points balance, pending points and tier
  loyalty ledger --shop <domain> --customer <gid or numeric id>    the customer's points ledger, one JSON row per line
  loyalty redeem --shop <domain> --customer <gid or numeric id> --reward <reward id> [--request-key <key>]
                                                                   spend points on a reward: prints the redemption (its code)
  loyalty program show --shop <domain>                             the program in force: { version, updatedAt, settings } (settings JSON of docs/loyalty.md)
  loyalty program set --shop <domain> --file <program.json>        validate and save settings JSON as the program's next version
  sessions rekey                                                   re-encrypt stored Shopify tokens with SESSION_ENCRYPTION_KEY (key rotation)
  feedback rules set --shop <domain> --file <rules.json>           replace the shop's feedback rules (format: docs/feedback.md)
  feedback rules list --shop <domain>                              the shop's feedback rules and settings
  feedback stats --shop <domain>                                   requests sent and answered, NPS, average rating, open cases
  feedback requests --shop <domain> --customer <gid or numeric id> the customer's feedback requests with their status
  shop connect --shop <domain> --access-token <token>             self-hosting: connect your store with a custom app's Admin API token
                                                                   (stores it encrypted, verifies it, subscribes webhooks, stores settings, starts the import)
  shop show --shop <domain>                                        the stored shop: settings, time zone, session (never the token)
  sync reconcile --shop <domain>                                   compare customers and orders updated since the last run with Shopify
                                                                   and repair what webhooks missed: { "checked": N, "repaired": N }
  sync check --shop <domain>                                       customers whose order count or net spent differs from Shopify's, one JSON per line
  automations list --shop <domain>                                 the shop's automation rules, fired in 7 days, failures
  automations set --shop <domain> --file <rule.json>               save one automation rule by name (format: docs/automations.md)
  automations dry-run --shop <domain> --rule <id> [--days 30]      how often the rule would have fired, for which customers
  automations log --shop <domain> [--customer <gid or numeric id>] [--rule <id>]
                                                                   the firing log, one JSON per firing
  import start --shop <domain>                                     import the shop's history (bulk operations); progress on stderr,
                                                                   the final status on stdout; exit 0 when done
  import status --shop <domain>                                    { state, customers, orders, products, startedAt, finishedAt, error, warning }
  analytics clv --shop <domain> [--refit]                          the shop's fitted BG/NBD + Gamma-Gamma model (--refit: fit on the data held now first)
  analytics customer --shop <domain> --customer <gid or numeric id>
                                                                   the customer's predicted orders, 12-month value, next order and churn risk
  analytics clusters --shop <domain> [--refit]                     one JSON per customer cluster of the model in force (--refit: fit first)
  analytics affinity --shop <domain> [--product <gid or id>] [--refit]  one JSON per product / product-type pair (support, confidence, lift)

${ANALYTICS_REPORT_USAGE}`;

const shopOption = z.string().refine(isShopDomain, "--shop must be a *.myshopify.com domain");
const customerOption = z
  .string()
  .regex(/^(gid:\/\/shopify\/Customer\/)?\d+$/, "--customer must be a customer gid or numeric id")
  .transform((value) => (value.startsWith("gid://") ? value : `gid://shopify/Customer/${value}`));

const productOption = z
  .string()
  .regex(/^(gid:\/\/shopify\/Product\/)?\d+$/, "--product must be a product gid or numeric id")
  .transform((value) => (value.startsWith("gid://") ? value : `gid://shopify/Product/${value}`));

function write(value: unknown) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

async function run(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      shop: { type: "string" },
      customer: { type: "string" },
      status: { type: "string" },
      query: { type: "string" },
      name: { type: "string" },
      tag: { type: "string" },
      segment: { type: "string" },
      reward: { type: "string" },
      "request-key": { type: "string" },
      file: { type: "string" },
      "access-token": { type: "string" },
      rule: { type: "string" },
      days: { type: "string" },
      refit: { type: "boolean" },
      product: { type: "string" },
      help: { type: "boolean", short: "h" },
      ...ANALYTICS_REPORT_OPTIONS,
    },
  });
  const command = positionals.join(" ");
  if (values.help || command === "") {
    process.stdout.write(USAGE);
    return;
  }
  const shop = () => shopOption.parse(values.shop ?? "");
  getEnv();
  switch (command) {
    case "customer export": {
      const customerGid = customerOption.parse(values.customer ?? "");
      const data = await buildCustomerExport(getPool(), shop(), customerGid);
      if (!data) throw new UsageError(`customer ${customerGid} not found in ${values.shop} (the app holds nothing about it)`);
      write(data);
      return;
    }
    case "customers export": {
      for await (const data of exportAllCustomers(getPool(), shop())) write(data);
      return;
    }
    case "events stats":
      write(await getEventStats(shop()));
      return;
    case "events replay": {
      const status = z.enum(["dead", "ignored", "failed"], { message: "--status must be dead, ignored or failed" }).parse(values.status ?? "");
      write(await replayEvents({ shop: shop(), status }));
      return;
    }
    case "segments preview": {
      const query = values.query ?? "";
      if (query.trim() === "") throw new UsageError("--query must be a segment query, e.g. --query 'amount_spent > 100'");
      const result = await previewAll(shop(), query);
      if (!result.ok) throw new UsageError(formatSegmentErrors(query, result.errors));
      write({ count: result.customerIds.length, customerIds: result.customerIds });
      return;
    }
    case "segments list":
      write(await listSegments(shop()));
      return;
    case "segments create": {
      if (values.name === undefined || values.query === undefined) throw new UsageError("segments create needs --name and --query");
      write(await createSegment({ shop: shop(), name: values.name, query: values.query, tag: values.tag ?? null }));
      return;
    }
    case "segments recompute": {
      const domain = shop();
      if (values.segment === undefined) {
        write(await refreshRelativeSegments({ shop: domain, all: true }));
        return;
      }
      const segment = await getSegment(domain, values.segment);
      if (!segment) throw new UsageError(`segment "${values.segment}" not found in ${domain}`);
      write(await recomputeSegment(domain, segment.id, "refresh"));
      return;
    }
    case "loyalty balance":
      write(await getBalance(shop(), customerOption.parse(values.customer ?? "")));
      return;
    case "loyalty ledger":
      for (const row of await ledger(shop(), customerOption.parse(values.customer ?? ""))) write(row);
      return;
    case "loyalty redeem": {
      const domain = shop();
      const customerGid = customerOption.parse(values.customer ?? "");
      if (!values.reward?.trim()) throw new UsageError("--reward must be the id of a reward in the program");
      write(await redeemReward({ shop: domain, customerGid, rewardId: values.reward, requestKey: values["request-key"] }));
      return;
    }
    case "loyalty program show": {
      const program = await getProgram(shop());
      write(program ? { version: program.version, updatedAt: program.updatedAt.toISOString(), settings: program.settings } : { version: null, updatedAt: null, settings: null });
      return;
    }
    case "loyalty program set": {
      const domain = shop();
      if (!values.file) throw new UsageError("loyalty program set needs --file <program.json>");
      const text = await readFile(values.file, "utf8").catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read ${values.file}: ${error.code === "ENOENT" ? "no such file" : error.message}`);
      });
      let input: unknown;
      try {
        input = JSON.parse(text);
      } catch (error) {
        throw new UsageError(`${values.file} is not JSON: ${(error as Error).message}`);
      }
      const saved = await saveProgramSettingsJson({ shop: domain, input, actor: "cli" });
      if (!saved.ok) throw new UsageError(saved.errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join("\n"));
      write({ version: saved.version });
      return;
    }
    case "sessions rekey":
      write(await rekeySessions());
      return;
    case "feedback rules set": {
      const domain = shop();
      if (!values.file) throw new UsageError("--file must name a rules JSON file (format: docs/feedback.md)");
      let text: string;
      try {
        text = await readFile(values.file, "utf8");
      } catch (error) {
        throw new UsageError(`cannot read --file ${values.file}: ${(error as Error).message}`);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new UsageError(`--file ${values.file} is not JSON: ${(error as Error).message}`);
      }
      write(await setFeedbackRules(domain, json));
      return;
    }
    case "feedback rules list":
      write(await listFeedbackRules(shop()));
      return;
    case "feedback stats":
      write(await getFeedbackStats(shop()));
      return;
    case "feedback requests":
      write(await listCustomerRequests(shop(), customerOption.parse(values.customer ?? "")));
      return;
    case "shop connect": {
      const domain = shop();
      const token = values["access-token"] ?? "";
      if (token === "") throw new UsageError("shop connect needs --access-token <the custom app's Admin API access token>");
      write(await connectShop({ shop: domain, accessToken: token }));
      return;
    }
    case "shop show": {
      const domain = shop();
      const view = await showShop(domain);
      if (!view) throw new UsageError(`shop ${domain} is not known (connect it with crm shop connect, or install the app)`);
      write(view);
      return;
    }
    case "sync reconcile": {
      const report = await reconcileShop({ shop: shop(), trigger: "manual" });
      process.stderr.write(`${JSON.stringify({ run: report.runId, customers: report.customers, orders: report.orders, since: report.watermarkFrom })}\n`);
      write({ checked: report.checked, repaired: report.repaired });
      return;
    }
    case "sync check": {
      const progress = { checked: 0 };
      let mismatches = 0;
      for await (const mismatch of crossCheckShop(shop(), progress)) {
        mismatches++;
        write(mismatch);
      }
      process.stderr.write(`${JSON.stringify({ checked: progress.checked, mismatches })}\n`);
      return;
    }
    case "analytics overview":
    case "analytics cohorts":
      await runAnalyticsReport({ command, shop: shop(), values, write });
      return;
    case "automations list": {
      const domain = shop();
      const stats = await ruleStats(domain);
      write(
        (await listRules(domain)).map((r) => ({ id: r.id, name: r.name, enabled: r.enabled, version: r.version, trigger: r.rule.trigger.kind, fired7d: stats.get(r.id)?.fired7d ?? 0, failed: stats.get(r.id)?.failed ?? 0, rule: r.rule })),
      );
      return;
    }
    case "automations set": {
      const domain = shop();
      if (!values.file) throw new UsageError("--file must name a rule JSON file (format: docs/automations.md)");
      const text = await readFile(values.file, "utf8").catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read --file ${values.file}: ${error.code === "ENOENT" ? "no such file" : error.message}`);
      });
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new UsageError(`--file ${values.file} is not JSON: ${(error as Error).message}`);
      }
      const saved = await setRule(domain, json);
      write({ id: saved.id, created: saved.created, version: saved.version, enabled: saved.rule.enabled });
      return;
    }
    case "automations dry-run": {
      const domain = shop();
      const ruleId = z.string().regex(/^\d+$/, "--rule must be a rule id (automations list)").parse(values.rule ?? "");
      const days = z.coerce.number().int("--days must be a whole number").min(1, "--days must be from 1 to 365").max(365, "--days must be from 1 to 365").parse(values.days ?? "30");
      write(await dryRunRule({ shop: domain, ruleId, days }));
      return;
    }
    case "automations log": {
      const domain = shop();
      const customerGid = values.customer === undefined ? undefined : customerOption.parse(values.customer);
      const ruleId = values.rule === undefined ? undefined : z.string().regex(/^\d+$/, "--rule must be a rule id").parse(values.rule);
      for (const entry of await firingLog({ shop: domain, customerGid, ruleId })) write(entry);
      return;
    }
    case "import start":
      await importStart(shop(), write);
      return;
    case "import status":
      await importStatus(shop(), write);
      return;
    case "analytics clv": {
      const domain = shop();
      if (values.refit) await refitClv({ shop: domain });
      const model = await getClvModel(domain);
      if (!model) throw new UsageError(`no model fitted for ${domain} yet: run with --refit (a fit needs at least one customer with an order)`);
      const { model: name, params, spend, timeUnit, customers, fittedAt, ...detail } = model;
      write({ model: name, params, spend, timeUnit, customers, fittedAt, ...detail });
      return;
    }
    case "analytics customer": {
      const domain = shop();
      const customerGid = customerOption.parse(values.customer ?? "");
      const prediction = await getCustomerPrediction(domain, customerGid);
      if (!prediction) throw new UsageError(`customer ${customerGid} not found in ${domain}`);
      write(prediction);
      return;
    }
    case "analytics clusters": {
      const domain = shop();
      if (values.refit) await refitClusters({ shop: domain });
      for (const cluster of await listClusters(domain)) write(cluster);
      return;
    }
    case "analytics affinity": {
      const domain = shop();
      const product = values.product === undefined ? undefined : productOption.parse(values.product);
      if (values.refit) await refitAffinity({ shop: domain });
      for (const pair of await listAffinity(domain, { product })) write(pair);
      return;
    }
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

async function main() {
  let code = 0;
  try {
    await run(process.argv.slice(2));
  } catch (error) {
    code = 2;
    const message =
      error instanceof ZodError
        ? error.issues.map((issue) => issue.message).join("\n")
        : error instanceof Error && error.message.startsWith("Invalid environment")
          ? error.message
          : error instanceof UsageError || error instanceof ImportFailedError || error instanceof ShopConnectionError || error instanceof ReconcileBusyError || error instanceof ShopifyAdminError || error instanceof SegmentServiceError || error instanceof LoyaltyError || error instanceof FeedbackError || error instanceof AutomationError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
            ? (error as Error).message
            : `error: ${(error as Error).message}`;
    process.stderr.write(`${message}\n`);
  } finally {
    await Promise.allSettled([closeDb(), closeQueues()]);
  }
  process.exit(code);
}

void main();
