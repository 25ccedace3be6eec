// Profiling aid for the benches (BENCH_QUERY_PROFILE=<dir>): loaded into the worker with
// --import, it times every pg query by statement name (or its first words) and writes the
// totals to <dir>/queries-<pid>.json when the process exits.
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
const require = createRequire(import.meta.url);
const pg = require("pg");
const totals = new Map();
const original = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, values, callback) {
  const key = typeof config === "string" ? config.replace(/\s+/g, " ").slice(0, 70) : config?.name ?? String(config?.text ?? "").replace(/\s+/g, " ").slice(0, 70);
  const started = performance.now();
  const result = original.call(this, config, values, callback);
  if (result && typeof result.then === "function") {
    const done = () => {
      const t = totals.get(key) ?? { n: 0, ms: 0 };
      t.n++;
      t.ms += performance.now() - started;
      totals.set(key, t);
    };
    result.then(done, done);
  }
  return result;
};
const dump = () => {
  const rows = [...totals].map(([key, t]) => ({ key, n: t.n, ms: Math.round(t.ms) })).sort((a, b) => b.ms - a.ms);
  writeFileSync(`${process.env.BENCH_QUERY_PROFILE}/queries-${process.pid}.json`, JSON.stringify(rows, null, 1));
};
process.on("exit", dump);
