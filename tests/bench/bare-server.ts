// The ceiling for the ingress benchmark: a bare node:http server that only reads the
// body, checks X-Shopify-Hmac-Sha256 (HMAC-SHA256 of the raw bytes, timingSafeEqual)
// and answers 200 (401 on a bad signature). No database, no queue, no framework.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

const secret = process.env.SHOPIFY_API_SECRET ?? "";
const port = Number(process.env.BENCH_PORT ?? 3999);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const expected = createHmac("sha256", secret).update(body).digest();
    const header = req.headers["x-shopify-hmac-sha256"];
    const given = typeof header === "string" ? Buffer.from(header, "base64") : Buffer.alloc(0);
    const ok = given.length === expected.length && timingSafeEqual(given, expected);
    res.statusCode = ok ? 200 : 401;
    res.end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
