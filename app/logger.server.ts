// The one structured logger. Events are named `noun.verb`; bind context with
// logger.child({ shop, eventId, jobId }). Never log tokens or full PII.
import { pino } from "pino";

export const logger = pino({
  level: process.env.LOG_LEVEL ?? "info",
  base: { service: process.env.CRM_SERVICE ?? "crm" },
  timestamp: pino.stdTimeFunctions.isoTime,
  redact: {
    paths: ["accessToken", "*.accessToken", "token", "*.token", "secret", "*.secret", "email", "*.email", "phone", "*.phone"],
    censor: "[redacted]",
  },
});

export type Logger = typeof logger;
