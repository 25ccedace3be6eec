// The HTTP server: express serving the Remix build. `npm start` runs the compiled
// build/index.js. Listens on HOST:PORT (127.0.0.1 by default).
// Webhook deliveries have ONE entry: any request to a subscribed webhook path
// (app/shopify/webhook-routes.ts, kept equal to shopify.app.toml by a contract test) goes
// straight to the ingress (handleDelivery: verify, persist, enqueue, answer), before express
// and Remix, whose request conversion cost more CPU than the ingress itself
// (docs/performance.md). There are no Remix routes for webhooks.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import express from "express";
import { createRequestHandler } from "@remix-run/express";
import * as build from "@remix-run/dev/server-build";
import { WEBHOOK_ROUTE_TOPICS, webhookRouteOf } from "./shopify/webhook-routes";
import { ZodError } from "zod";
import { formatEnvIssues, getEnv } from "./env.server";
import { logger } from "./logger.server";
import { closeDb } from "./db.server";
import { closeQueues } from "./queues.server";
import { BodyTooLarge, handleDelivery, type DeliveryRequest } from "./services/webhook-ingress.server";

/** The subscribed webhook paths, matched as Remix would (any case, optional trailing slash). */
const WEBHOOK_PATHS = new Set(Object.keys(WEBHOOK_ROUTE_TOPICS));

/** True for any request to /webhooks/{orders,customers,...}: the ingress answers (405 for other methods than POST). */
function isWebhookRequest(req: IncomingMessage): boolean {
  return req.url !== undefined && WEBHOOK_PATHS.has(webhookRouteOf(req.url));
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
    if (isWebhookRequest(req)) void serveWebhook(req, res);
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
