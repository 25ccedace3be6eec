// One producer-side BullMQ queue per process for a queue name, created on first use and closed
// on shutdown: the plumbing every scheduled job (segment refresh, tag sync, loyalty
// maintenance) shares. Connection errors are left to the callers' own retries and logs.
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { createRedis } from "../app/redis.server";

export function sharedQueue<T>(name: string): { get: () => Queue<T>; close: () => Promise<void> } {
  let shared: { connection: Redis; queue: Queue<T> } | undefined;
  return {
    get() {
      if (!shared) {
        const connection = createRedis("producer");
        connection.on("error", () => undefined);
        const queue = new Queue<T>(name, { connection });
        queue.on("error", () => undefined);
        shared = { connection, queue };
      }
      return shared.queue;
    },
    async close() {
      const current = shared;
      shared = undefined;
      if (!current) return;
      await current.queue.close().catch(() => undefined);
      current.connection.disconnect();
    },
  };
}
