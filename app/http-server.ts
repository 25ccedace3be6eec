// The HTTP server: express serving the Remix build. `npm start` runs the compiled
// build/index.js. Listens on HOST:PORT (127.0.0.1 by default).
// Webhook POSTs take a direct path to the same ingress code the webhook routes call
// (handleDelivery), skipping express and Remix's request conversion and routing: that
// layer cost more CPU than the ingress itself (docs/performance.md). Status codes,
// bodies and headers are the routes' own; everything else goes through Remix.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import express from "express";
import { createRequestHandler } from "@remix-run/express";
import * as build from "@remix-run/dev/server-build";
import { ZodError } from "zod";
import { formatEnvIssues, getEnv } from "./env.server";
import { logger } from "./logger.server";
import { closeDb } from "./db.server";
import { closeQueues } from "../jobs/queues";
import { BodyTooLarge, handleDelivery, type DeliveryRequest } from "./services/webhook-ingress.server";

/** The paths of the thin webhook routes (app/routes/webhooks.*.tsx), lower case. */
const WEBHOOK_PATHS = new Set(
  Object.entries(build.routes as Record<string, { path?: string }>)
    .filter(([id]) => /^routes\/webhooks\.[a-z_]+$/.test(id))
    .map(([, route]) => `/${route.path ?? ""}`.toLowerCase()),
);

/** True for POST /webhooks/{orders,customers,...}: matched as Remix would (any case, optional trailing slash). */
function isWebhookPost(req: IncomingMessage): boolean {
  if (req.method !== "POST" || !req.url) return false;
  const query = req.url.indexOf("?");
  let path = (query < 0 ? req.url : req.url.slice(0, query)).toLowerCase();
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  return WEBHOOK_PATHS.has(path);
}

function nodeDelivery(req: IncomingMessage): DeliveryRequest {
  return {
    method: req.method ?? "GET",
    path: req.url ?? "/",
    header: (name) => {
      const value = req.headers[name];
      return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
    },
    readBody: (limit) =>
      new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const onData = (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) {
            req.off("data", onData);
            req.off("end", onEnd);
            req.resume(); // discard the rest
            reject(new BodyTooLarge());
            return;
          }
          chunks.push(chunk);
        };
        const onEnd = () => resolve(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks, size).toString("utf8"));
        req.on("data", onData);
        req.on("end", onEnd);
        req.on("error", reject);
      }),
  };
}

async function serveWebhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const result = await handleDelivery(nodeDelivery(req));
    const body = result.body ?? "";
    res.writeHead(result.status, { ...result.headers, "content-length": String(Buffer.byteLength(body)) });
    res.end(body);
  } catch (error) {
    // What Remix answers when a route throws.
    logger.error({ err: error }, "webhook.unhandled_error");
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
    res.end("Unexpected Server Error");
  }
}

function startServer() {
  let env;
  try {
    env = getEnv();
  } catch (error) {
    process.stderr.write(`${error instanceof ZodError ? formatEnvIssues(error) : (error as Error).message}\n`);
    process.exit(1);
  }
  const app = express();
  app.disable("x-powered-by");
  app.use("/build", express.static("public/build", { immutable: true, maxAge: "1y" }));
  app.use(express.static("public", { maxAge: "1h" }));
  app.all("*", createRequestHandler({ build: build as never, mode: build.mode }));
  const server = createServer((req, res) => {
    if (isWebhookPost(req)) void serveWebhook(req, res);
    else app(req, res);
  });
  server.listen(env.PORT, env.HOST, () => {
    logger.info({ url: `http://${env.HOST}:${env.PORT}`, appUrl: env.SHOPIFY_APP_URL }, "server.started");
  });
  server.keepAliveTimeout = 65_000;
  const shutdown = (signal: string) => {
    logger.info({ signal }, "server.stopping");
    server.close(() => {
      void Promise.all([closeQueues(), closeDb()]).finally(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

startServer();
