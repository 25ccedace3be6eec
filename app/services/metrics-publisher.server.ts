// Shares a process's metrics with the web process's GET /metrics through Redis.
import { hostname } from "node:os";
import { logger } from "../logger.server";
import { registry, type MetricsSnapshot } from "../metrics.server";
import { createRedis } from "../redis.server";

const PREFIX = "crm:metrics:";
const INDEX = "crm:metrics-publishers";
const TTL_SECONDS = 30;

export function startMetricsPublisher({ intervalMs = 5_000 } = {}) {
  const redis = createRedis("client");
  redis.on("error", () => undefined);
  const key = `${PREFIX}${process.env.CRM_SERVICE ?? "process"}:${hostname()}:${process.pid}`;
  const publish = async () => {
    const snapshot = await registry.getMetricsAsJSON();
    await redis.multi().set(key, JSON.stringify(snapshot), "EX", TTL_SECONDS).sadd(INDEX, key).exec();
  };
  const timer = setInterval(() => {
    publish().catch((error) => logger.debug({ err: (error as Error).message }, "metrics.publish_failed"));
  }, intervalMs);
  void publish().catch(() => undefined);
  return {
    stop: () => {
      clearInterval(timer);
      void redis.multi().del(key).srem(INDEX, key).exec().catch(() => undefined).finally(() => redis.disconnect());
    },
  };
}

/** Snapshots other processes published (workers), for merging into this registry. */
export async function readPublishedSnapshots(redis: ReturnType<typeof createRedis>): Promise<MetricsSnapshot[]> {
  const keys = await redis.smembers(INDEX);
  if (keys.length === 0) return [];
  const values = await redis.mget(...keys);
  const expired = keys.filter((_, i) => values[i] === null);
  if (expired.length > 0) await redis.srem(INDEX, ...expired);
  return values.filter((v): v is string => typeof v === "string").map((v) => JSON.parse(v) as MetricsSnapshot);
}

