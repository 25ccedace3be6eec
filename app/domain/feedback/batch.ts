// Which orders a batch of CRM events may trigger feedback requests for, and when (the latest
// event of each order in the batch). Pure; the apply step passes the result to
// app/services/feedback/schedule.server.ts.
import type { CrmEvent } from "../crm-events";

export function feedbackTriggers(items: readonly { event: CrmEvent; eventTime: Date }[]): Map<string, Date> {
  const times = new Map<string, Date>();
  for (const { event, eventTime } of items) {
    if (event.kind !== "order") continue;
    const previous = times.get(event.order.gid);
    if (!previous || previous < eventTime) times.set(event.order.gid, eventTime);
  }
  return times;
}
