// The automations birthday trigger (issue 14): fires on the customer's birthday in the shop's
// time zone (customers.birth_date, stored by the daily birthday job, decision 043), once a year
// (event key birthday:<customer>:<year>), found by the runner's scan like the other time-based
// triggers; 29 February is 28 February in other years; deleted customers and customers without a
// birth date never fire; a birth date stored later on the day still fires that day; the dry run
// counts the same moments.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "../../app/db.server";
import { closeQueues } from "../../app/queues.server";
import { firingLog } from "../../app/services/automations/log.server";
import { parseRule } from "../../app/domain/automations/rules";
import { setRule } from "../../app/services/automations/rules.server";
import { runAutomations } from "../../app/services/automations/runner.server";
import { dryRunRule } from "../../app/services/automations/dry-run.server";
import { listAnniversaryShops } from "../../app/services/loyalty/birthdays.server";
import { useIntegrationEnv } from "../support/env";

let env: Awaited<ReturnType<typeof useIntegrationEnv>>;

const SHOP = "birthday-auto.myshopify.com";
/** UTC+13 in February and March (daylight time): its days start 11 hours before UTC's. */
const ZONE = "Pacific/Auckland";
const gid = (name: string) => `gid://shopify/Customer/${name.length * 1000 + name.charCodeAt(0)}`;
const CUSTOMERS: Record<string, { birth: string | null; deleted?: boolean }> = {
  ana: { birth: "1990-03-10" },
  bob: { birth: "2000-02-29" },
  cy: { birth: null },
  dee: { birth: "1985-03-11" },
  eve: { birth: "1990-03-10", deleted: true },
  fay: { birth: null },
};
let ruleId: string;

/** Runs the runner (scan, then due firings) at `iso` and returns who has fired so far, with each event key. */
async function runAt(iso: string): Promise<string[]> {
  await runAutomations({ now: new Date(iso) });
  const log = await firingLog({ shop: SHOP, ruleId });
  return log.map((f) => `${Object.keys(CUSTOMERS).find((n) => gid(n) === f.customerGid)}:${f.eventKey.split(":").pop()}`).sort();
}

beforeAll(async () => {
  env = await useIntegrationEnv();
  await getPool().query(`INSERT INTO shops (domain, "ianaTimezone") VALUES ($1, $2)`, [SHOP, ZONE]);
  for (const [name, c] of Object.entries(CUSTOMERS)) {
    await getPool().query(`INSERT INTO customers (shop, gid, email, birth_date, deleted_at) VALUES ($1, $2, $3, $4, $5)`, [
      SHOP, gid(name), `${name}@example.com`, c.birth, c.deleted ? new Date("2027-01-01T00:00:00Z") : null,
    ]);
  }
}, 60_000);

afterAll(async () => {
  await closeQueues();
  await closeDb();
  await env?.dropDatabase();
});

describe("the birthday trigger", () => {
  it("is accepted in a rule (it was refused before birth dates were stored)", () => {
    const parsed = parseRule({ name: "x", trigger: { kind: "birthday" }, steps: [{ kind: "add_tag", tag: "crm:birthday" }] });
    expect(parsed.ok).toBe(true);
    expect(parseRule({ name: "x", trigger: { kind: "birthday", days: 3 }, steps: [{ kind: "add_tag", tag: "crm:birthday" }] }).ok).toBe(false);
  });

  it("fires on the local birthday, once a year; 29 February on the 28th in other years", async () => {
    ruleId = (await setRule(SHOP, { name: "happy birthday", enabled: true, reentry: { mode: "every_time" }, condition: null, trigger: { kind: "birthday" }, steps: [{ kind: "add_tag", tag: "crm:birthday" }] })).id;
    // The birthday job now reads birth dates for this shop even without a loyalty bonus.
    expect(await listAnniversaryShops()).toContain(SHOP);
    // 27 February 23:00 in Auckland: nobody's birthday yet (bob's is the 28th in 2027).
    expect(await runAt("2027-02-27T10:00:00Z")).toEqual([]);
    // 28 February 00:05 in Auckland (still the 27th in UTC).
    expect(await runAt("2027-02-27T11:05:00Z")).toEqual(["bob:2027"]);
    // 9 March 23:30 in Auckland: ana's birthday has not started.
    expect(await runAt("2027-03-09T10:30:00Z")).toEqual(["bob:2027"]);
    // 10 March 00:05 in Auckland (9 March in UTC): ana; eve is deleted, dee is tomorrow.
    expect(await runAt("2027-03-09T11:05:00Z")).toEqual(["ana:2027", "bob:2027"]);
    // Later the same day: nothing twice.
    expect(await runAt("2027-03-10T05:00:00Z")).toEqual(["ana:2027", "bob:2027"]);
    // fay's birth date is stored at noon on her birthday (after the midnight scans): still fired that day.
    await getPool().query(`UPDATE customers SET birth_date = '1999-03-11' WHERE shop = $1 AND gid = $2`, [SHOP, gid("fay")]);
    expect(await runAt("2027-03-10T11:30:00Z")).toEqual(["ana:2027", "bob:2027", "dee:2027", "fay:2027"]);
    expect(await runAt("2027-03-11T00:00:00Z")).toEqual(["ana:2027", "bob:2027", "dee:2027", "fay:2027"]);
    // 2028 is a leap year: bob's birthday is the 29th, not the 28th.
    const in2027 = ["ana:2027", "bob:2027", "dee:2027", "fay:2027"];
    expect(await runAt("2028-02-27T11:05:00Z")).toEqual(in2027);
    expect(await runAt("2028-02-28T11:05:00Z")).toEqual(["bob:2028", ...in2027].sort());
    // Next year: again, once.
    expect(await runAt("2028-03-09T11:05:00Z")).toEqual(["ana:2028", "bob:2028", ...in2027].sort());
    expect(await runAt("2028-03-09T11:10:00Z")).toEqual(["ana:2028", "bob:2028", ...in2027].sort());
    const log = await firingLog({ shop: SHOP, ruleId });
    const ana = log.find((f) => f.customerGid === gid("ana") && f.eventKey.endsWith(":2028"))!;
    expect(ana).toMatchObject({ eventKey: `birthday:${gid("ana")}:2028`, trigger: { kind: "birthday", year: 2028 }, status: "done" });
    // The moment is the start of the local day (9 March 11:00 UTC is 10 March 00:00 in Auckland, daylight time).
    expect(new Date(ana.occurredAt).toISOString()).toBe("2028-03-09T11:00:00.000Z");
    expect(ana.actions).toEqual([expect.objectContaining({ kind: "add_tag", status: "done" })]);
  });

  it("the dry run counts the birthdays of the last N days", async () => {
    const result = await dryRunRule({ shop: SHOP, ruleId, days: 30, now: new Date("2028-03-12T00:00:00Z") });
    // ana (10 March), dee and fay (11 March), bob (29 February).
    expect(result.moments).toBe(4);
    expect([...result.customers].sort()).toEqual([gid("ana"), gid("bob"), gid("dee"), gid("fay")].sort());
  });
});
