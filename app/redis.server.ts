// ioredis connections. BullMQ workers need maxRetriesPerRequest: null. Producers and
// plain clients wait briefly for a (re)connecting Redis but give up within a second,
// so a Redis outage never holds a webhook acknowledgement for long.
import { Redis, type RedisOptions } from "ioredis";
import { getEnv } from "./env.server";

export function createRedis(purpose: "producer" | "worker" | "client", extra: RedisOptions = {}): Redis {
  const options: RedisOptions =
    purpose === "worker"
      ? { maxRetriesPerRequest: null }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 2_000, commandTimeout: 1_000 };
  return new Redis(getEnv().REDIS_URL, { ...options, ...extra });
}
