// Preloaded (node --import) into the app server that the e2e tests start: any outgoing
// TCP/TLS connection to a host other than loopback is refused and reported on stderr
// as a line "EGRESS-BLOCKED <host>:<port>", which the test turns into a failure.
// (undici's fetch, node:http/https, pg and ioredis all connect through net.Socket.)
import net from "node:net";

const isLoopback = (host) =>
  host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host) || /^::ffff:127\./.test(host);

const originalConnect = net.Socket.prototype.connect;

net.Socket.prototype.connect = function connect(...args) {
  let options = args[0];
  if (Array.isArray(options)) options = options[0]; // net.connect passes its normalised [options, callback]
  let host;
  let port;
  let path;
  if (options && typeof options === "object") {
    host = options.host;
    port = options.port;
    path = options.path;
  } else if (typeof options === "number" || (typeof options === "string" && /^\d+$/.test(options))) {
    port = options;
    host = typeof args[1] === "string" ? args[1] : undefined;
  } else if (typeof options === "string") {
    path = options;
  }
  if (!path) {
    const target = host ?? "localhost";
    if (!isLoopback(String(target))) {
      process.stderr.write(`EGRESS-BLOCKED ${target}:${port}\n`);
      const error = Object.assign(new Error(`connection to ${target}:${port} blocked by the e2e egress guard`), { code: "ECONNREFUSED" });
      process.nextTick(() => this.destroy(error));
      return this;
    }
  }
  return originalConnect.apply(this, args);
};
