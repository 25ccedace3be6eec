import pg from "pg";
import { freshDatabase, prng, finishBench, percentiles } from "./lib/common";
const db = await freshDatabase("exp");
const { orderCreate } = await import("./lib/deliveries");
const rand = prng(1);
const bodies = Array.from({ length: 2000 }, (_, i) => orderCreate(i, rand, { customers: 100, orderIdBase: 1 }).body);
const pool = new pg.Pool({ connectionString: db.url, max: 4 });
if (process.env.ALTER) await pool.query(process.env.ALTER);
let k = 0;
const arr = `INSERT INTO webhook_events (shop, webhook_id, event_id, topic, api_version, triggered_at, payload)
 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamp(3)[], $7::text[]) ON CONFLICT (shop, webhook_id) DO NOTHING RETURNING id, shop, webhook_id`;
function values(n: number) { const parts = []; for (let i = 0; i < n; i++) { const b = i * 7; parts.push(`($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}::timestamp(3), $${b + 7})`); } return `INSERT INTO webhook_events (shop, webhook_id, event_id, topic, api_version, triggered_at, payload) VALUES ${parts.join(", ")} ON CONFLICT (shop, webhook_id) DO NOTHING RETURNING id, shop, webhook_id`; }
for (const n of [1, 50]) for (const mode of ["values"]) {
  const times: number[] = [];
  const t0 = performance.now();
  for (let r = 0; r < Math.max(20, 1000 / n); r++) {
    const rows = Array.from({ length: n }, (_, j) => ["x.myshopify.com", `w${k++}`, null, "orders/create", "2026-07", "2026-01-01T00:00:00Z", bodies[(k + j) % 2000]]);
    const t = performance.now();
    if (mode === "arrays") await pool.query(arr, [0, 1, 2, 3, 4, 5, 6].map((c) => rows.map((row) => row[c])));
    else await pool.query(values(n), rows.flat());
    times.push(performance.now() - t);
  }
  const s = (performance.now() - t0) / 1000;
  console.log(n, mode, Math.round((times.length * n) / s), "rows/s serial;", "ms/batch", JSON.stringify(percentiles(times)));
}
await pool.end(); await db.drop(); await finishBench();
