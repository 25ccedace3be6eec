import pg from "pg";
import { freshDatabase, prng } from "./lib/common";
const db = await freshDatabase("exp");
const { orderCreate } = await import("./lib/deliveries");
const rand = prng(1);
const bodies = Array.from({ length: 2000 }, (_, i) => orderCreate(i, rand, { customers: 100, orderIdBase: 1 }).body);
async function conc(name: string, n: number, c: number, fn: (i: number) => Promise<unknown>) {
  let next = 0; const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, async () => { while (next < n) { const i = next++; await fn(i); } }));
  const s = (performance.now() - t0) / 1000;
  console.log(name, Math.round(n / s), "/s");
}
let k = 0;
const sql = `INSERT INTO webhook_events (shop, webhook_id, event_id, topic, api_version, triggered_at, payload) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (shop, webhook_id) DO NOTHING RETURNING id`;
for (const [size, sync, small] of [[10, "on", false], [10, "on", true], [10, "off", false], [30, "on", false], [4, "on", false], [1, "on", false]] as const) {
  const pool = new pg.Pool({ connectionString: db.url, max: size });
  pool.on("connect", (c) => void c.query(`SET synchronous_commit = ${sync}`));
  await Promise.all(Array.from({ length: size }, () => pool.query("select 1")));
  await conc(`pool=${size} sync=${sync} small=${small}`, 4000, 50, (i) => pool.query(sql, ["x.myshopify.com", `w${k++}`, null, "orders/create", "2026-07", null, small ? "{}" : bodies[i % 2000]]));
  await pool.end();
}
// batched: 50 rows per statement
const pool = new pg.Pool({ connectionString: db.url, max: 4 });
const bsql = `INSERT INTO webhook_events (shop, webhook_id, event_id, topic, api_version, triggered_at, payload)
 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamp[], $7::text[]) ON CONFLICT (shop, webhook_id) DO NOTHING RETURNING id, webhook_id`;
await conc("batched 25 rows/stmt pool=4 (rows/s = x25)", 400, 8, (i) => { const n = 25; const a = (v: unknown) => Array(n).fill(v); return pool.query(bsql, [a("x.myshopify.com"), Array.from({ length: n }, () => `w${k++}`), a(null), a("orders/create"), a("2026-07"), a(null), Array.from({ length: n }, (_, j) => bodies[(i * n + j) % 2000])]); });
await pool.end();
await db.drop();
