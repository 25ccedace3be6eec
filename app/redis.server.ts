// ioredis connections. BullMQ workers need maxRetriesPerRequest: null; producers
// fail fast (enableOfflineQueue: false) so a Redis outage never blocks a webhook ack.
import { Redis, type RedisOptions } from "ioredis";
import { getEnv } from "./env.server";

export function createRedis(purpose: "producer" | "worker" | "client", extra: RedisOptions = {}): Redis {
  const options: RedisOptions =
    purpose === "worker"
      ? { maxRetriesPerRequest: null }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000, commandTimeout: 2_000 };
  return new Redis(getEnv().REDIS_URL, { lazyConnect: false, ...options, ...extra });
}
