// The driver adapter the Prisma CLI (migrate deploy/status/diff) uses; never loaded by the app.
//
// @prisma/adapter-pg 6.19 refuses result columns of PostgreSQL's internal catalogue
// types (`name`, `char`, `regclass`, ...) with "Column type 'name' could not be
// deserialized", which breaks `migrate deploy` when the schema engine reads
// pg_catalog. The values of those types arrive as plain strings in pg's text
// protocol, so presenting them to the adapter as `text` (or `text[]`) is exact.
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";

const TEXT = 25;
const TEXT_ARRAY = 1009;
// pg_catalog types that the adapter does not map but the schema engine selects.
const CATALOGUE_SCALARS = new Set([18, 19, 22, 24, 28, 30, 194, 2205, 2206, 1033, 2275]);
const CATALOGUE_ARRAYS = new Set([1002, 1003, 1006, 1013, 1034, 1008]);

type Field = { dataTypeID: number };

function presentCatalogueTypesAsText<T>(result: T): T {
  const fields = (result as { fields?: Field[] } | undefined)?.fields;
  if (Array.isArray(fields)) {
    for (const field of fields) {
      if (CATALOGUE_SCALARS.has(field.dataTypeID)) field.dataTypeID = TEXT;
      else if (CATALOGUE_ARRAYS.has(field.dataTypeID)) field.dataTypeID = TEXT_ARRAY;
    }
  }
  return result;
}

class CatalogueTolerantClient extends pg.Client {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    // pg.Pool calls query with a callback; the adapter's own calls use the promise.
    const last = args.length - 1;
    if (typeof args[last] === "function") {
      const callback = args[last];
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      args[last] = (error: unknown, result: any) => callback(error, error ? result : presentCatalogueTypesAsText(result));
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const outcome = (super.query as any)(...args);
    return outcome && typeof outcome.then === "function" ? outcome.then(presentCatalogueTypesAsText) : outcome;
  }
}

export function createCliAdapter(connectionString: string) {
  const url = new URL(connectionString);
  // Discrete fields (not a connection string), so a shadow database created from
  // this configuration really points at the shadow database.
  const pool = new pg.Pool({
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || "postgres"),
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database: url.pathname.replace(/^\//, "") || "postgres",
    Client: CatalogueTolerantClient,
    // Lets the CLI exit as soon as its work is done instead of idling 10 s.
    allowExitOnIdle: true,
  });
  return new PrismaPg(pool, { disposeExternalPool: true });
}
