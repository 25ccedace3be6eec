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
import { closeQueues } from "../../jobs/queues";
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
import { getClvModel, getCustomerPrediction, refitClv } from "../services/analytics/clv.server";

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
  analytics clv --shop <domain> [--refit]                          the shop's fitted BG/NBD + Gamma-Gamma model (--refit: fit on the data held now first)
  analytics customer --shop <domain> --customer <gid or numeric id>
                                                                   the customer's predicted orders, 12-month value, next order and churn risk
`;

const shopOption = z.string().refine(isShopDomain, "--shop must be a *.myshopify.com domain");
const customerOption = z
  .string()
  .regex(/^(gid:\/\/shopify\/Customer\/)?\d+$/, "--customer must be a customer gid or numeric id")
  .transform((value) => (value.startsWith("gid://") ? value : `gid://shopify/Customer/${value}`));

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
      refit: { type: "boolean" },
      help: { type: "boolean", short: "h" },
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
          : error instanceof UsageError || error instanceof SegmentServiceError || error instanceof LoyaltyError || error instanceof FeedbackError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
            ? (error as Error).message
            : `error: ${(error as Error).message}`;
    process.stderr.write(`${message}\n`);
  } finally {
    await Promise.allSettled([closeDb(), closeQueues()]);
  }
  process.exit(code);
}

void main();
