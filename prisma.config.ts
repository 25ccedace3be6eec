// Prisma CLI configuration. Prisma's native engines are downloaded from Prisma's own
// host, which our machines cannot reach; the WASM engines shipped in the npm packages
// run instead, through the pg driver adapter. See docs/decisions/004-prisma-offline.md.
import { defineConfig } from "prisma/config";
import { createCliAdapter } from "./prisma/cli-adapter";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  engine: "js",
  experimental: { adapter: true },
  adapter: async () => createCliAdapter(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/crm"),
});
