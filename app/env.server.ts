// The one place the environment is read and validated. A missing or invalid value
// stops the process at start with a message naming it.
import { z } from "zod";

const url = (protocols: string[]) =>
  z.string().refine((value) => {
    try {
      return protocols.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, `must be a ${protocols.join(" or ")} URL`);

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: url(["postgresql:", "postgres:"]),
  REDIS_URL: url(["redis:", "rediss:"]),
  SHOPIFY_API_KEY: z.string().min(1),
  SHOPIFY_API_SECRET: z.string().min(1),
  SHOPIFY_APP_URL: url(["http:", "https:"]),
  SCOPES: z
    .string()
    .default("read_customers,write_customers,read_orders,read_all_orders,read_products,write_products,read_discounts,write_discounts,write_app_proxy"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  WEBHOOK_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(2 * 1024 * 1024),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  // Waiting inbox rows a job applies together with its own, in one transaction (1 = one by one).
  WORKER_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  // Batches one worker process applies at once; rows arriving meanwhile wait for the next one.
  WORKER_BATCHES_IN_FLIGHT: z.coerce.number().int().min(1).max(64).default(2),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  // PostgreSQL's plan_cache_mode for this process's connections. `auto` (PostgreSQL's default)
  // keeps a generic plan per prepared statement: cheapest once the tables have statistics, but
  // a plan made while a table was nearly empty stays until ANALYZE (a new store's first burst;
  // autovacuum off or behind). `force_custom_plan` plans each execution: robust to that, about
  // 25% less apply throughput on a store with history (docs/performance.md). The 50-segment
  // membership statement always uses its generic plan (it sets the mode itself).
  DATABASE_PLAN_CACHE_MODE: z.enum(["auto", "force_custom_plan", "force_generic_plan"]).default("auto"),
  // An idle pooled connection is closed after this long (0 = never). Long by default: a new
  // connection re-plans every prepared statement and reloads PostgreSQL's catalogue caches, a
  // cost the first burst after a quiet spell would otherwise pay.
  DATABASE_IDLE_TIMEOUT_MS: z.coerce.number().int().min(0).default(300_000),
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(2_000),
  // Server-side limits on the main pool's connections (worker apply, admin, CLI): PostgreSQL
  // cancels a statement running longer (its transaction then rolls back) and ends a session
  // left idle inside a transaction. A transaction may set a tighter limit of its own
  // (withTransaction's statementTimeoutMs). See docs/decisions/024-pools-and-timeouts.md.
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(60_000),
  // Client-side backstop for a server that stops answering (must exceed the statement limit,
  // so PostgreSQL cancels first). A connection whose query hit it is destroyed, never reused.
  DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).default(35_000),
  // The webhook ingress has a small pool of its own (web process only), so admin or worker
  // load cannot starve acknowledgements; its inserts are limited well under Shopify's 5 s.
  DATABASE_INGRESS_POOL_SIZE: z.coerce.number().int().min(1).max(50).default(4),
  DATABASE_INGRESS_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(4_000).default(1_500),
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(15_000),
  // How often the worker analyses tables whose statistics are stale (app/services/table-statistics.server.ts).
  STATISTICS_INTERVAL_MS: z.coerce.number().int().min(1_000).default(30_000),
  // How often the worker re-evaluates time-relative segments (and RFM groups); jobs/segment-refresh.ts.
  SEGMENT_REFRESH_INTERVAL_MS: z.coerce.number().int().min(1_000).default(600_000),
  // Server-side limits on segment statements (decision 026): a preview (editor, CLI) gets this
  // long in all, a recompute this long per statement; past it PostgreSQL cancels the statement
  // and the merchant is asked to simplify the query. Keep both under DATABASE_QUERY_TIMEOUT_MS.
  SEGMENT_PREVIEW_TIMEOUT_MS: z.coerce.number().int().min(50).max(600_000).default(5_000),
  SEGMENT_RECOMPUTE_TIMEOUT_MS: z.coerce.number().int().min(50).max(3_600_000).default(25_000),
  // Previews of one shop running at once in one process; a further one waits up to a second for a slot, then gets "busy".
  SEGMENT_PREVIEW_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  // Tag sync (jobs/tag-sync-writer.ts): writes of one action at or above this count go to
  // Shopify as one bulk mutation (staged JSONL upload) instead of one call per customer.
  TAG_SYNC_BULK_THRESHOLD: z.coerce.number().int().min(1).max(1_000_000).default(1_000),
  // How often the worker looks for shops with tag writes due, and reconciles synced segments.
  TAG_SYNC_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(5_000),
  /** How often the worker looks for shops with product ratings to publish (decision 037). */
  PRODUCT_RATINGS_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  // History import (decision 045): how often the worker looks for running imports to run or
  // resume, and how often a running bulk operation is polled when no bulk_operations/finish came.
  IMPORT_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(10_000),
  IMPORT_POLL_INTERVAL_MS: z.coerce.number().int().min(50).default(5_000),
  // Predictions (docs/analytics.md): how often the worker refits every shop's CLV model.
  CLV_REFIT_INTERVAL_MS: z.coerce.number().int().min(60_000).default(86_400_000),
  TAG_SYNC_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(1_000).default(300_000),
  TAG_SYNC_EVENT_DELAY_MS: z.coerce.number().int().min(0).default(30_000),
  // Inbox retention (docs/privacy.md): processed and ignored inbox rows lose their raw body
  // this many days after processing; the worker checks every INBOX_RETENTION_INTERVAL_MS.
  INBOX_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(30),
  INBOX_RETENTION_INTERVAL_MS: z.coerce.number().int().min(1_000).default(3_600_000),
  // How often the worker runs loyalty maintenance (points expiry, tier refresh, tier tags); jobs/loyalty-maintenance.ts.
  LOYALTY_MAINTENANCE_INTERVAL_MS: z.coerce.number().int().min(1_000).default(3_600_000),
  LOYALTY_RECOVERY_INTERVAL_MS: z.coerce.number().int().min(1_000).default(300_000),
  // Reconciliation (decision 048, jobs/sync-reconcile.ts): how often the worker pages through
  // customers and orders updated since the last run and repairs what webhooks missed.
  SYNC_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(60_000).default(3_600_000),
  LOYALTY_BIRTHDAY_INTERVAL_MS: z.coerce.number().int().min(60_000).default(86_400_000),
  // Feedback requests (docs/feedback.md): the secret that signs answer links (at least 32
  // characters). Unset: derived from SHOPIFY_API_SECRET with HKDF and a purpose label
  // (decision 031); set it to rotate answer links without rotating the Shopify secret.
  FEEDBACK_LINK_SECRET: z.preprocess((value) => (value === "" ? undefined : value), z.string().min(32, "must be at least 32 characters").optional()),
  // How often the worker sends the feedback requests and reminders that are due; jobs/feedback-scheduler.ts.
  FEEDBACK_SCHEDULER_INTERVAL_MS: z.coerce.number().int().min(1_000).default(60_000),
  // Requests one scheduler transaction claims (FOR UPDATE SKIP LOCKED) and sends.
  FEEDBACK_SCHEDULER_BATCH_SIZE: z.coerce.number().int().min(1).max(5_000).default(200),
  // How often the worker runs due automation firings and scans time-based triggers; jobs/automation-runner.ts (docs/automations.md).
  AUTOMATION_RUNNER_INTERVAL_MS: z.coerce.number().int().min(500).default(2_000),
  // Email channel (docs/email.md). The SMTP server the worker sends through, e.g.
  // smtp://user:pass@smtp.example.com:587 or smtps://...:465; unset: emails stay queued
  // (the sender logs email.smtp_not_configured) until it is set.
  SMTP_URL: z.preprocess((value) => (value === "" ? undefined : value), url(["smtp:", "smtps:"]).optional()),
  // Pooled SMTP connections per worker process.
  SMTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(50).default(5),
  // The envelope and From address (the shop's sender name is its display name). Default:
  // no-reply@<host of SHOPIFY_APP_URL>.
  EMAIL_FROM_ADDRESS: z.preprocess((value) => (value === "" ? undefined : value), z.email().optional()),
  // Signs unsubscribe links (HMAC-SHA256). Default: derived from SHOPIFY_API_SECRET with a
  // purpose label. Changing it (or the API secret) invalidates links already sent.
  EMAIL_LINK_SECRET: z.preprocess((value) => (value === "" ? undefined : value), z.string().min(16).optional()),
  // How long a sender's claim on an email lasts: an email whose sender died is sent by another
  // after this long (decision 030).
  EMAIL_LEASE_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(120_000),
  // How often the worker looks for emails due (a lost wake-up or a flushed Redis waits this long at most).
  EMAIL_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(15_000),
  // Development and tests only: serve App Bridge from this URL instead of Shopify's CDN (the
  // demo's local stand-in). Refused when NODE_ENV=production.
  APP_BRIDGE_URL: z.preprocess((value) => (value === "" ? undefined : value), z.string().optional()),
  // Encrypts Shopify access and refresh tokens at rest (AES-256-GCM): 32 bytes as 64 hex
  // characters or base64 (`openssl rand -base64 32`). Required in production; development and
  // tests derive one from SHOPIFY_API_SECRET when unset. Rotation: put the old key in
  // SESSION_ENCRYPTION_PREVIOUS_KEYS (comma-separated), a new one here, run `crm sessions rekey`.
  SESSION_ENCRYPTION_KEY: z.preprocess(
    (value) => (value === "" ? undefined : value),
    z.string().refine((v) => /^[0-9a-fA-F]{64}$/.test(v.trim()) || Buffer.from(v.trim(), "base64").length === 32, "must be 32 bytes, written as 64 hex characters or base64 (e.g. `openssl rand -base64 32`)").optional(),
  ),
  SESSION_ENCRYPTION_PREVIOUS_KEYS: z.string().optional(),
  // When set, GET /metrics answers only requests with `Authorization: Bearer <this token>`.
  METRICS_BEARER_TOKEN: z.preprocess((value) => (value === "" ? undefined : value), z.string().min(16, "must be at least 16 characters").optional()),
  // /metrics serves the inbox and queue gauges from a snapshot at most this old (one count per
  // window, whatever the scrape rate).
  METRICS_CACHE_MS: z.coerce.number().int().min(0).default(15_000),
  // Development and tests only: send the Shopify library's requests for https://{shop}
  // (token exchange, refresh, Admin GraphQL) to a local Shopify twin at this origin
  // (app/shopify/twin-fetch.server.ts). Refused when NODE_ENV=production.
  SHOPIFY_TWIN_URL: z.preprocess(
    (value) => (value === "" ? undefined : value),
    url(["http:", "https:"])
      .refine((value) => !URL.canParse(value) || (new URL(value).pathname === "/" && !new URL(value).search), "must be an origin, without a path or query")
      .optional(),
  ),
}).superRefine((env, ctx) => {
  if (env.NODE_ENV === "production" && !env.SESSION_ENCRYPTION_KEY) {
    ctx.addIssue({
      code: "custom",
      path: ["SESSION_ENCRYPTION_KEY"],
      message: "is required when NODE_ENV=production: it encrypts the stored Shopify access tokens (generate one with `openssl rand -base64 32`)",
    });
  }
  if (env.NODE_ENV === "production" && env.APP_BRIDGE_URL) {
    ctx.addIssue({
      code: "custom",
      path: ["APP_BRIDGE_URL"],
      message: "must not be set when NODE_ENV=production: it replaces Shopify's App Bridge with a local stand-in (development and tests only)",
    });
  }
  if (env.DATABASE_QUERY_TIMEOUT_MS <= env.DATABASE_STATEMENT_TIMEOUT_MS) {
    ctx.addIssue({
      code: "custom",
      path: ["DATABASE_QUERY_TIMEOUT_MS"],
      message: `must be greater than DATABASE_STATEMENT_TIMEOUT_MS (${env.DATABASE_STATEMENT_TIMEOUT_MS}): PostgreSQL cancels a slow statement first, the client-side limit is only the backstop for a server that stops answering`,
    });
  }
  if (env.NODE_ENV === "production" && env.SHOPIFY_TWIN_URL) {
    ctx.addIssue({
      code: "custom",
      path: ["SHOPIFY_TWIN_URL"],
      message: "must not be set when NODE_ENV=production: it sends Shopify API calls (tokens, Admin GraphQL) to a local Shopify twin (development and tests only)",
    });
  }
});

export type Env = z.infer<typeof EnvSchema>;

let cached: Env | undefined;

export function formatEnvIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const missing = issue.code === "invalid_type" && /received undefined/.test(issue.message);
      return `  ${issue.path.join(".")}: ${missing ? "is required" : issue.message}`;
    })
    .join("\n");
}

/** Parses the environment once; throws an Error naming every invalid variable. */
export function getEnv(source: NodeJS.ProcessEnv = process.env): Env {
  if (cached && source === process.env) return cached;
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    throw new Error(`Invalid environment (see .env.example):\n${formatEnvIssues(parsed.error)}`);
  }
  if (source === process.env) cached = parsed.data;
  return parsed.data;
}
