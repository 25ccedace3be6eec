// The birthday bonus from Shopify's standard customer metafield `facts.birth_date` (a date;
// webhooks do not carry metafields, so the daily job reads them through the Admin API): pages
// through the shop's customers, 250 per request, paced on the cost bucket (callShopify), and
// awards the bonus to those whose birthday is today or within the grace week
// (app/domain/loyalty/bonuses.ts; keyed per customer and year, so a second run awards nothing).
// A value that is not a date is counted as invalid and skipped: one bad metafield never stops
// the others. Customers the CRM does not hold (or deleted, redacted) are skipped by the ledger.
// The same run stores each customer's birth date (customers.birth_date) for the segment
// attribute anniversary() (decision 043): it also runs for a shop without the bonus when one
// of its segments uses anniversary. A birthday without a year is stored in 2000, a leap year
// (anniversary() never uses the year); a cleared metafield clears the stored date.
import { getPool } from "../../db.server";
import { buildBirthdayBonus, isBirthdayValue } from "../../domain/loyalty/bonuses";
import { logger } from "../../logger.server";
import { awardBirthdayBonuses } from "./adjust.server";
import { adminFor, callShopify, DEFAULT_RETRY } from "./rewards.server";
import { loadProgramVersions } from "./store.server";

const PAGE_SIZE = 250;
/** Requested cost of a page: the connection, and a metafield per customer. */
const PAGE_COST = 2 + PAGE_SIZE * 2;

export type BirthdayRunReport = { customers: number; withBirthday: number; invalid: number; awarded: number };

/**
 * The shops with a segment using anniversary() or an enabled automation rule with the birthday
 * trigger: their birth dates are read even without a birthday bonus.
 */
export async function listAnniversaryShops(): Promise<string[]> {
  const { rows } = await getPool().query<{ shop: string }>(
    `SELECT shop FROM segments WHERE query ~* 'anniversary' AND broken_at IS NULL
     UNION SELECT shop FROM automation_rules WHERE enabled AND trigger_kind = 'birthday'
     ORDER BY shop`,
  );
  return rows.map((r) => r.shop);
}

/** A birthday value as a calendar date: YYYY-MM-DD as written, MM-DD in 2000; null when the day does not exist. */
export function birthDateOf(value: string): string | null {
  const match = /^(?:(\d{4})-)?(\d{2})-(\d{2})$/.exec(value.trim());
  if (!match) return null;
  const [year, month, day] = [Number(match[1] ?? "2000"), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year);
  if (year < 1 || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return `${String(year).padStart(4, "0")}-${match[2]}-${match[3]}`;
}

/** Stores one page's birth dates (null clears); a redacted customer gets none back. */
async function storeBirthDates(shop: string, dates: readonly { customerGid: string; birthDate: string | null }[]): Promise<void> {
  if (dates.length === 0) return;
  await getPool().query(
    `UPDATE customers c SET birth_date = x.b, updated_at = now()
       FROM unnest($2::text[], $3::date[]) AS x(gid, b)
      WHERE c.shop = $1 AND c.gid = x.gid AND c.redacted_at IS NULL AND c.birth_date IS DISTINCT FROM x.b`,
    [shop, dates.map((d) => d.customerGid), dates.map((d) => d.birthDate)],
  );
}

export async function runBirthdayBonuses({ shop, now = new Date() }: { shop: string; now?: Date }): Promise<BirthdayRunReport> {
  const report: BirthdayRunReport = { customers: 0, withBirthday: 0, invalid: 0, awarded: 0 };
  const versions = await loadProgramVersions(getPool(), shop);
  const bonus = versions.some((v) => v.settings.bonuses.birthday > 0);
  if (!bonus && !(await listAnniversaryShops()).includes(shop)) return report;
  const admin = await adminFor(shop);
  const birthdays: { customerGid: string; birthday: string }[] = [];
  let after: string | null = null;
  do {
    const { data }: { data: { customers: { id: string; birthDate: string | null }[]; next: string | null } } = await callShopify(admin, PAGE_COST, DEFAULT_RETRY, (a) => a.customerBirthdays(PAGE_SIZE, after));
    report.customers += data.customers.length;
    await storeBirthDates(shop, data.customers.map((c) => ({ customerGid: c.id, birthDate: c.birthDate === null ? null : birthDateOf(c.birthDate) })));
    for (const customer of data.customers) {
      if (customer.birthDate === null || customer.birthDate.trim() === "") continue;
      const value = customer.birthDate.trim();
      if (!isBirthdayValue(value)) {
        report.invalid += 1;
        continue;
      }
      birthdays.push({ customerGid: customer.id, birthday: value });
    }
    after = data.next;
  } while (after);
  report.withBirthday = birthdays.length;
  if (!bonus) return report;
  // Only the birthdays in this week's window go to the ledger; an impossible date (31 April)
  // is counted and skipped, never stopping the others.
  const due = birthdays.filter((birthday) => {
    try {
      return buildBirthdayBonus({ ...birthday, versions, now }) !== null;
    } catch (error) {
      report.invalid += 1;
      logger.warn({ shop, customerGid: birthday.customerGid, err: (error as Error).message }, "loyalty.birthday_invalid");
      return false;
    }
  });
  report.awarded = (await awardBirthdayBonuses({ shop, birthdays: due, now })).awarded;
  if (report.awarded > 0 || report.invalid > 0) logger.info({ shop, ...report }, "loyalty.birthdays_awarded");
  return report;
}
