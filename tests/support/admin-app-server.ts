// Starts the real built app server (build/index.js, as `npm start` would) as a child
// process on a free loopback port, for browser tests. Outgoing connections to
// non-loopback hosts are refused inside it (admin-egress-guard.mjs) and reported.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { childProcessEnv } from "./env";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BUILD_ENTRY = path.join(REPO_ROOT, "build/index.js");
const EGRESS_GUARD = path.join(REPO_ROOT, "tests/support/admin-egress-guard.mjs");

/** CI builds before testing; a bare `vitest run` on a fresh clone builds here. */
export function ensureAppBuild(): void {
  if (existsSync(BUILD_ENTRY)) return;
  // Vitest sets NODE_ENV=test, under which the Remix compiler emits development JSX (jsxDEV)
  // that the production server cannot run: build as `npm run build` does from a shell.
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: "production" };
  const result = spawnSync("npm", ["run", "build"], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (result.status !== 0) throw new Error(`npm run build failed:\n${result.stdout}\n${result.stderr}`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export type AppServer = {
  origin: string;
  port: number;
  /** Non-loopback connections the server attempted (and the guard refused). */
  egressAttempts: () => string[];
  output: () => string;
  stop: () => Promise<void>;
};

/**
 * Runs `node build/index.js` with `env` on top of this process's environment. Resolves
 * once GET /healthz answers 200.
 */
export async function startAppServer({ port, env }: { port: number; env: Record<string, string> }): Promise<AppServer> {
  const origin = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, ["--enable-source-maps", "--import", EGRESS_GUARD, BUILD_ENTRY], {
    cwd: REPO_ROOT,
    env: childProcessEnv({ HOST: "127.0.0.1", PORT: String(port), SHOPIFY_APP_URL: origin, ...env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) => child.once("exit", (code) => ((exited = code), resolve())));

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`app server exited with ${exited} before it was ready:\n${output}`);
    try {
      const response = await fetch(`${origin}/healthz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`app server not healthy after 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    origin,
    port,
    egressAttempts: () => [...output.matchAll(/^EGRESS-BLOCKED (.+)$/gm)].map((m) => m[1]!),
    output: () => output,
    stop: async () => {
      if (exited !== undefined) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exit;
      clearTimeout(killer);
    },
  };
}
