// /app/analytics/export.csv?report=overview|cohorts&range=30|90|365|custom&from&to: one of the
// Analytics page's tables as CSV (text/csv, a download named after the report and the range).
// The page fetches it with the session token (App Bridge adds it to same-origin fetches).
import type { LoaderFunctionArgs } from "@remix-run/node";
import { authenticate } from "../shopify.server";
import { ANALYTICS_CSV_REPORTS, getAnalyticsCsv, type AnalyticsCsvReport } from "../services/admin-analytics.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const params = new URL(request.url).searchParams;
  const report = params.get("report") ?? "";
  if (!(ANALYTICS_CSV_REPORTS as readonly string[]).includes(report)) {
    return new Response(`report must be one of: ${ANALYTICS_CSV_REPORTS.join(", ")}\n`, { status: 400, headers: { "Content-Type": "text/plain; charset=utf-8" } });
  }
  const { filename, body } = await getAnalyticsCsv({ shop: session.shop, report: report as AnalyticsCsvReport, params });
  return new Response(body, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${filename}"`,
      "Cache-Control": "private, no-store",
    },
  });
};
