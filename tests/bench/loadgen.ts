// Load generator, run in its own process by the benchmarks:
//   node --import tsx tests/bench/loadgen.ts '<LoadgenConfig JSON>'
// HTTP/1.1 keep-alive over a fixed set of raw TCP connections to 127.0.0.1 (no client
// library on the hot path: requests are pre-built and signed before timing starts).
// closed loop: each connection sends its next delivery as soon as the previous one is
//   answered (throughput at a fixed concurrency).
// open loop: deliveries are scheduled at a fixed arrival rate; latency is measured from
//   the scheduled send time, so a slow server cannot hide its queueing (no coordinated
//   omission). A delivery waits for a free connection if all are busy.
// Prints one JSON line (LoadResult) on stdout.
import { connect, type Socket } from "node:net";
import { randomUUID } from "node:crypto";
import { hmacOf } from "../support/webhooks";
import { BENCH_SECRET, percentiles, prng, round, type LoadResult, type LoadgenConfig } from "./lib/common";
import { BENCH_SHOP, buildScenario, orderCreate } from "./lib/deliveries";

const config = JSON.parse(process.argv[2] ?? "{}") as LoadgenConfig;

type Prepared = { head: Buffer; body: Buffer; webhookId: string | null };

/** The subscription URI for a topic, as in shopify.app.toml. */
function topicPath(topic: string): string {
  const resource = topic.split(/[/.]/)[0]!;
  if (resource === "orders" || resource === "refunds") return "/webhooks/orders";
  if (resource === "products") return "/webhooks/products";
  if (resource === "app" || resource === "bulk_operations") return "/webhooks/app";
  if (topic === "customers/data_request" || topic === "customers/redact" || topic === "shop/redact") return "/webhooks/compliance";
  return "/webhooks/customers";
}

function prepare(topic: string, body: string, webhookId: string | null): Prepared {
  const bytes = Buffer.from(body);
  const head =
    `POST ${config.path ?? topicPath(topic)} HTTP/1.1\r\n` +
    `host: 127.0.0.1:${config.port}\r\n` +
    `content-type: application/json\r\n` +
    `content-length: ${bytes.length}\r\n` +
    `x-shopify-topic: ${topic}\r\n` +
    `x-shopify-hmac-sha256: ${hmacOf(bytes, BENCH_SECRET)}\r\n` +
    `x-shopify-shop-domain: ${BENCH_SHOP}\r\n` +
    `x-shopify-api-version: 2026-07\r\n` +
    `x-shopify-event-id: ${randomUUID()}\r\n` +
    `x-shopify-triggered-at: ${new Date().toISOString()}\r\n` +
    (webhookId ? `x-shopify-webhook-id: ${webhookId}\r\n\r\n` : "");
  return { head: Buffer.from(head, "latin1"), body: bytes, webhookId };
}

// The deliveries, before any timing.
const source = config.source;
const prepared: Prepared[] = [];
let uniqueIdPrefix = "";
if (source.kind === "orders") {
  const rand = prng(source.seed);
  const count = Math.min(source.distinct, config.maxRequests);
  for (let i = 0; i < count; i++) prepared.push(prepare("orders/create", orderCreate(i, rand, source).body, null));
  uniqueIdPrefix = source.webhookPrefix;
} else {
  for (const d of buildScenario(source.seed, source.deliveries).deliveries) prepared.push(prepare(d.topic, d.body(), d.webhookId));
}

/** The i-th request: the prepared delivery, plus a unique webhook id when cycling. */
function chunksFor(i: number, prefix: string): Buffer[] {
  const p = prepared[i % prepared.length]!;
  if (p.webhookId !== null) return [p.head, p.body];
  return [p.head, Buffer.from(`x-shopify-webhook-id: ${prefix}-${i}\r\n\r\n`, "latin1"), p.body];
}

const CRLF2 = Buffer.from("\r\n\r\n");
const CHUNKED_END = Buffer.from("0\r\n\r\n");

/** One keep-alive connection that carries one request at a time. */
class Connection {
  private socket!: Socket;
  private buffer: Buffer | null = null;
  private onResponse: ((status: number) => void) | null = null;
  private pending: Buffer[] | null = null;
  private closeAfter = false;
  private closing = false;
  busy = false;

  constructor(private readonly port: number) {
    this.open();
  }

  private open() {
    this.buffer = null;
    const socket = connect({ host: "127.0.0.1", port: this.port, noDelay: true });
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => this.data(chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      if (this.closing) return;
      this.closeAfter = false;
      this.open();
      if (this.pending) {
        // A request waiting for the server to close the previous connection.
        const chunks = this.pending;
        this.pending = null;
        this.write(chunks);
        return;
      }
      const callback = this.onResponse;
      this.onResponse = null;
      this.busy = false;
      callback?.(0); // the request in flight failed: counted as an error
    });
  }

  send(chunks: Buffer[], callback: (status: number) => void) {
    this.busy = true;
    this.onResponse = callback;
    if (this.closeAfter) {
      this.pending = chunks;
      return;
    }
    this.write(chunks);
  }

  private write(chunks: Buffer[]) {
    this.socket.cork();
    for (const chunk of chunks) this.socket.write(chunk);
    this.socket.uncork();
  }

  private data(chunk: Buffer) {
    this.buffer = this.buffer ? Buffer.concat([this.buffer, chunk]) : chunk;
    const buf = this.buffer;
    const headerEnd = buf.indexOf(CRLF2);
    if (headerEnd < 0) return;
    const head = buf.toString("latin1", 0, headerEnd).toLowerCase();
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/.exec(head);
    let complete = false;
    if (length) complete = buf.length >= headerEnd + 4 + Number(length[1]);
    else if (/\r\ntransfer-encoding: *chunked/.test(head)) complete = buf.indexOf(CHUNKED_END, headerEnd + 4) >= 0;
    else complete = true;
    if (!complete) return;
    this.buffer = null;
    if (/\r\nconnection: *close/.test(head)) {
      this.closeAfter = true;
      this.socket.end();
    }
    const callback = this.onResponse;
    this.onResponse = null;
    this.busy = false;
    callback?.(status);
  }

  close() {
    this.closing = true;
    this.socket.destroy();
  }
}

async function run(mode: "closed" | "open", durationMs: number, maxRequests: number, prefix: string, record: boolean): Promise<LoadResult> {
  const connections = Array.from({ length: config.connections }, () => new Connection(config.port));
  await new Promise((resolve) => setTimeout(resolve, 200)); // let the connections open
  const latencies = new Float64Array(maxRequests);
  const statuses: Record<string, number> = {};
  let sent = 0;
  let completed = 0;
  let errors = 0;
  let ok = 0;
  let maxLagMs = 0;
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const deadline = started + durationMs;
  let lastCompletion = started;

  return new Promise<LoadResult>((resolve) => {
    const queue: { index: number; scheduled: number }[] = [];
    let queueHead = 0;
    let scheduledCount = 0;
    let finished = false;

    const finish = () => {
      if (finished) return;
      finished = true;
      const elapsed = (Math.max(lastCompletion, started + 1) - started) / 1000;
      const cpu = process.cpuUsage(cpuStart);
      for (const c of connections) c.close();
      resolve({
        mode,
        connections: config.connections,
        rate: mode === "open" ? config.rate ?? null : null,
        sent,
        completed,
        errors,
        statuses,
        elapsedSeconds: round(elapsed, 3),
        ackPerSecond: round(ok / elapsed, 1),
        latencyMs: percentiles(record ? latencies.subarray(0, completed) : []),
        ...(mode === "open" ? { maxLagMs: round(maxLagMs) } : {}),
        loadgenCpuPercent: round(((cpu.user + cpu.system) / 1000 / (elapsed * 1000)) * 100, 0),
      });
    };

    const dispatch = (connection: Connection, index: number, scheduled: number) => {
      sent++;
      connection.send(chunksFor(index, prefix), (status) => {
        const now = performance.now();
        if (status === 0) errors++;
        else statuses[status] = (statuses[status] ?? 0) + 1;
        if (status >= 200 && status < 300) ok++;
        latencies[completed++] = now - scheduled;
        lastCompletion = now;
        next(connection);
      });
    };

    const next = (connection: Connection) => {
      if (mode === "closed") {
        if (sent < maxRequests && performance.now() < deadline) dispatch(connection, sent, performance.now());
        else if (completed >= sent) finish();
        return;
      }
      if (queueHead < queue.length) {
        const item = queue[queueHead++]!;
        dispatch(connection, item.index, item.scheduled);
      } else if (scheduledCount >= totalOpen && completed >= scheduledCount) finish();
    };

    // Open loop: fixed arrival rate, bounded by count and duration.
    const rate = config.rate ?? 1000;
    const interval = 1000 / rate;
    const totalOpen = Math.min(maxRequests, Math.floor((durationMs / 1000) * rate));
    const tick = () => {
      const now = performance.now();
      while (scheduledCount < totalOpen && started + scheduledCount * interval <= now) {
        const scheduled = started + scheduledCount * interval;
        maxLagMs = Math.max(maxLagMs, now - scheduled);
        const index = scheduledCount++;
        const idle = connections.find((c) => !c.busy);
        if (idle) dispatch(idle, index, scheduled);
        else queue.push({ index, scheduled });
      }
      if (scheduledCount < totalOpen) setTimeout(tick, Math.max(0, Math.min(1, started + scheduledCount * interval - now)));
      else if (completed >= scheduledCount) finish();
    };

    if (mode === "closed") for (const c of connections) next(c);
    else tick();
    // Safety bound: whatever happens, stop 30 s after the planned end.
    setTimeout(finish, durationMs + 30_000).unref();
  });
}

async function main() {
  const prefix = uniqueIdPrefix || randomUUID();
  if (config.warmupMs && config.warmupMs > 0) {
    await run("closed", config.warmupMs, config.maxRequests, `${prefix}-warm`, false);
  }
  const result = await run(config.mode, config.durationMs, config.maxRequests, prefix, true);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

void main();
