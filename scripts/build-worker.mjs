// Compiles the worker entry (jobs/worker.ts and the app code it imports) into build/worker.js,
// so production runs compiled code in both processes (`npm start`, `npm run worker`).
// Packages stay external (loaded from node_modules at run time, as the web build does).
import { build } from "esbuild";

await build({
  entryPoints: ["jobs/worker.ts"],
  outfile: "build/worker.js",
  bundle: true,
  packages: "external",
  platform: "node",
  format: "esm",
  target: "node22",
  jsx: "automatic",
  sourcemap: true,
  logLevel: "warning",
});
