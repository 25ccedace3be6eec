// The feedback scheduler job says how it fails: bad job data is unrecoverable (no retry), before any I/O.
import { UnrecoverableError, type Job } from "bullmq";
import { describe, expect, it } from "vitest";
import { feedbackSchedulerProcessor, type FeedbackSchedulerJob } from "../../jobs/feedback-scheduler";

describe("feedback scheduler job", () => {
  it.each([[{}], [{ reason: "whenever" }], [null]])("rejects job data %j as unrecoverable", async (data) => {
    const job = { id: "1", data, opts: { attempts: 3 }, attemptsMade: 0 } as unknown as Job<FeedbackSchedulerJob>;
    await expect(feedbackSchedulerProcessor(10)(job)).rejects.toBeInstanceOf(UnrecoverableError);
  });
});
