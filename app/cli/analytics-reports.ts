// `crm analytics overview|cohorts`: the Analytics reports (docs/analytics-reports.md).
// Called from app/cli/crm.ts; bad options throw a ZodError, which crm.ts prints on stderr
// with exit code 2.
import { z } from "zod";
import { isReportDate } from "../domain/analytics/reports";
import { getCohorts, getOverview } from "../services/analytics/reports.server";

export const ANALYTICS_REPORT_COMMANDS = ["analytics overview", "analytics cohorts"] as const;

export const ANALYTICS_REPORT_USAGE = `  analytics overview --shop <domain> --from <YYYY-MM-DD> --to <YYYY-MM-DD> [--compare-from <date> --compare-to <date>]
                                                                   revenue net of refunds, orders, AOV, new vs returning customers,
                                                                   repeat purchase rate, median days to second order (shop's time zone)
  analytics cohorts --shop <domain>                                one JSON per first-order-month cohort: size, retention by month, revenue per customer
`;

/** The options these commands add to crm.ts's parseArgs. */
export const ANALYTICS_REPORT_OPTIONS = {
  from: { type: "string" },
  to: { type: "string" },
  "compare-from": { type: "string" },
  "compare-to": { type: "string" },
} as const;

const date = (flag: string) => z.string({ message: `${flag} must be a date YYYY-MM-DD` }).refine(isReportDate, `${flag} must be a date YYYY-MM-DD`);

const OverviewOptions = z
  .object({
    from: date("--from"),
    to: date("--to"),
    "compare-from": date("--compare-from").optional(),
    "compare-to": date("--compare-to").optional(),
  })
  .refine((o) => o.from <= o.to, "--from must not be after --to")
  .refine((o) => (o["compare-from"] === undefined) === (o["compare-to"] === undefined), "--compare-from and --compare-to go together")
  .refine((o) => !o["compare-from"] || !o["compare-to"] || o["compare-from"] <= o["compare-to"], "--compare-from must not be after --compare-to");

export async function runAnalyticsReport({ command, shop, values, write }: {
  command: (typeof ANALYTICS_REPORT_COMMANDS)[number];
  shop: string;
  values: Record<string, unknown>;
  write: (value: unknown) => void;
}): Promise<void> {
  if (command === "analytics overview") {
    const o = OverviewOptions.parse(values);
    const compare = o["compare-from"] && o["compare-to"] ? { from: o["compare-from"], to: o["compare-to"] } : undefined;
    write(await getOverview({ shop, from: o.from, to: o.to, compare }));
    return;
  }
  for (const row of await getCohorts({ shop, now: new Date() })) write(row);
}
