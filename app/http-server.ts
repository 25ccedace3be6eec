// The HTTP server: express serving the Remix build. `npm start` runs the compiled
// build/index.js. Listens on HOST:PORT (127.0.0.1 by default).
import express from "express";
import { createRequestHandler } from "@remix-run/express";
import * as build from "@remix-run/dev/server-build";
import { ZodError } from "zod";
import { formatEnvIssues, getEnv } from "./env.server";
import { logger } from "./logger.server";
import { closeDb } from "./db.server";
import { closeQueues } from "../jobs/queues";

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
  const server = app.listen(env.PORT, env.HOST, () => {
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
