// The one structured logger. Events are named `noun.verb`; bind context with
// logger.child({ shop, eventId, jobId }). Never log tokens or full PII.
//
// Redaction at any depth: a key that names a secret or personal data (tokens, secrets,
// passwords, authorization, cookies, email, phone) is replaced by "[redacted]" wherever it
// appears in a log line, and errors lose the fields where PostgreSQL repeats row values
// (`detail`: "Failing row contains (...)", "Key (email)=(...) already exists", and `where`,
// `internalQuery`).
import { pino } from "pino";

const CENSOR = "[redacted]";
const SENSITIVE_KEY = /^(access_?token|refresh_?token|token|id_?token|secret|api_?secret(_?key)?|password|authorization|cookie|set-cookie|email|phone)$/i;
const ERROR_FIELDS_WITH_VALUES = ["detail", "where", "internalQuery", "parameters"];
const MAX_DEPTH = 8;

function redactErrorFields(serialized: Record<string, unknown>): Record<string, unknown> {
  for (const field of ERROR_FIELDS_WITH_VALUES) if (field in serialized) delete serialized[field];
  return serialized;
}

function serializeError(error: Error): Record<string, unknown> {
  return redactErrorFields({ ...pino.stdSerializers.err(error) } as Record<string, unknown>);
}

/** A copy of `value` with sensitive keys censored at any depth and errors serialized safely. */
export function redactLogValue(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[depth limit]";
  if (value instanceof Error) return redactLogValue(serializeError(value), depth + 1);
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map((item) => redactLogValue(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (SENSITIVE_KEY.test(key)) out[key] = CENSOR;
    // The `err` and `error` serializers handle errors logged at the top level.
    else if (depth === 0 && (key === "err" || key === "error") && item instanceof Error) out[key] = item;
    else if (ERROR_FIELDS_WITH_VALUES.includes(key) && depth > 0 && ("message" in value || "code" in value)) continue;
    else out[key] = redactLogValue(item, depth + 1);
  }
  return out;
}

export function createLogger(destination?: pino.DestinationStream) {
  return pino(
    {
      level: process.env.LOG_LEVEL ?? "info",
      base: { service: process.env.CRM_SERVICE ?? "crm" },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: serializeError, error: (value: unknown) => (value instanceof Error ? serializeError(value) : value) },
      formatters: { log: (object) => redactLogValue(object) as Record<string, unknown> },
    },
    destination,
  );
}

export const logger = createLogger();

export type Logger = typeof logger;
