// The shop's loyalty program: read it, save a new version (validated by the domain's zod
// schema, audited). Orders earn under the version in force when they were placed, so a save
// never changes points already earned.
import { getPool, withTransaction, type Queryable } from "../../db.server";
import { logger } from "../../logger.server";
import { parseProgramSettings, type LoyaltyProgramSettings } from "../../domain/loyalty/program";
import { shopTimeZoneOrUtc } from "../shop-settings.server";
import { writeAudit } from "../crm-store.server";
import { LoyaltyError } from "./errors";

export type LoyaltyProgram = { shop: string; version: number; settings: LoyaltyProgramSettings; updatedAt: Date };

export async function getProgram(shop: string, db: Queryable = getPool()): Promise<LoyaltyProgram | null> {
  const { rows } = await db.query<{ version: number; settings: unknown; updated_at: Date }>({
    name: "loyalty-get-program",
    text: `SELECT version, settings, updated_at FROM loyalty_programs WHERE shop = $1`,
    values: [shop],
  });
  const row = rows[0];
  if (!row) return null;
  const parsed = parseProgramSettings(row.settings);
  if (!parsed.ok) throw new Error(`stored loyalty program of ${shop} is invalid: ${parsed.errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`);
  return { shop, version: row.version, settings: parsed.settings, updatedAt: row.updated_at };
}

/**
 * Validates and saves the program as a new version, in force from `now` (orders placed from
 * then on earn under it). `expectedVersion`, when given, makes a concurrent edit a conflict
 * instead of a silent overwrite.
 */
export async function saveProgram(args: { shop: string; settings: unknown; actor: string; expectedVersion?: number | null; now?: Date }): Promise<LoyaltyProgram> {
  const parsed = parseProgramSettings(await withShopTimeZone(args.shop, args.settings));
  if (!parsed.ok) {
    throw new LoyaltyError("invalid", `invalid loyalty program: ${parsed.errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join("; ")}`, parsed.errors);
  }
  if (args.actor.trim() === "") throw new LoyaltyError("invalid", "saving a loyalty program needs the staff member (actor)");
  const now = args.now ?? new Date();
  const saved = await withTransaction(async (db) => {
    await db.query(`SELECT pg_advisory_xact_lock(hashtextextended('loyalty-program:' || $1, 0))`, [args.shop]);
    const { rows } = await db.query<{ version: number; effective_from: Date }>(
      `SELECT p.version, v.effective_from FROM loyalty_programs p JOIN loyalty_program_versions v ON v.shop = p.shop AND v.version = p.version WHERE p.shop = $1`,
      [args.shop],
    );
    const current = rows[0] ?? null;
    if (args.expectedVersion !== undefined && (current?.version ?? null) !== args.expectedVersion) {
      throw new LoyaltyError("conflict", `the loyalty program changed meanwhile (version ${current?.version ?? "none"}, expected ${args.expectedVersion ?? "none"}): reload and try again`);
    }
    if (current && now.getTime() < current.effective_from.getTime()) {
      throw new LoyaltyError("conflict", `a version in force from ${current.effective_from.toISOString()} exists; a new one cannot take effect earlier`);
    }
    const version = (current?.version ?? 0) + 1;
    const settings = JSON.stringify(parsed.settings);
    await db.query(`INSERT INTO loyalty_program_versions (shop, version, settings, effective_from, saved_by) VALUES ($1, $2, $3::jsonb, $4, $5)`, [
      args.shop,
      version,
      settings,
      now,
      args.actor,
    ]);
    const { rows: program } = await db.query<{ updated_at: Date }>(
      `INSERT INTO loyalty_programs (shop, version, settings, updated_at) VALUES ($1, $2, $3::jsonb, $4)
       ON CONFLICT (shop) DO UPDATE SET version = EXCLUDED.version, settings = EXCLUDED.settings, updated_at = EXCLUDED.updated_at
       RETURNING updated_at`,
      [args.shop, version, settings, now],
    );
    await writeAudit(db, { shop: args.shop, actor: args.actor, action: "loyalty.program_saved", subject: `version ${version}`, details: { version, settings: parsed.settings } });
    return { shop: args.shop, version, settings: parsed.settings, updatedAt: program[0]!.updated_at };
  });
  logger.info({ shop: args.shop, version: saved.version }, "loyalty.program_saved");
  return saved;
}

/**
 * Settings that name no time zone take the shop's (shops."ianaTimezone", decision 047), not
 * UTC: tier windows, expiry and bonus days are the shop's calendar days. A zone given
 * explicitly is kept; a shop whose zone is not known yet keeps the schema's default (UTC).
 */
async function withShopTimeZone(shop: string, settings: unknown): Promise<unknown> {
  if (settings === null || typeof settings !== "object" || Array.isArray(settings) || Object.hasOwn(settings, "timeZone")) return settings;
  const { timeZone, known } = await shopTimeZoneOrUtc(getPool(), shop);
  return known ? { ...settings, timeZone } : settings;
}
