// The birthday bonus from Shopify's standard customer metafield `facts.birth_date` (a date;
// webhooks do not carry metafields, so the daily job reads them through the Admin API): pages
// through the shop's customers, 250 per request, paced on the cost bucket (callShopify), and
// awards the bonus to those whose birthday is today or within the grace week
// (app/domain/loyalty/bonuses.ts; keyed per customer and year, so a second run awards nothing).
// A value that is not a date is counted as invalid and skipped: one bad metafield never stops
// the others. Customers the CRM does not hold (or deleted, redacted) are skipped by the ledger.
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

export async function runBirthdayBonuses({ shop, now = new Date() }: { shop: string; now?: Date }): Promise<BirthdayRunReport> {
  const report: BirthdayRunReport = { customers: 0, withBirthday: 0, invalid: 0, awarded: 0 };
  const versions = await loadProgramVersions(getPool(), shop);
  if (!versions.some((v) => v.settings.bonuses.birthday > 0)) return report;
  const admin = await adminFor(shop);
  const birthdays: { customerGid: string; birthday: string }[] = [];
  let after: string | null = null;
  do {
    const { data }: { data: { customers: { id: string; birthDate: string | null }[]; next: string | null } } = await callShopify(admin, PAGE_COST, DEFAULT_RETRY, (a) => a.customerBirthdays(PAGE_SIZE, after));
    report.customers += data.customers.length;
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
