// The automation runner job says how it fails: bad job data is unrecoverable (no retry), before any I/O.
import { UnrecoverableError, type Job } from "bullmq";
import { describe, expect, it } from "vitest";
import { automationRunnerProcessor, type AutomationRunnerJob } from "../../jobs/automation-runner";

describe("automation runner job", () => {
  it.each([[{}], [{ reason: "whenever" }], [null]])("rejects job data %j as unrecoverable", async (data) => {
    const job = { id: "1", data, opts: { attempts: 3 }, attemptsMade: 0 } as unknown as Job<AutomationRunnerJob>;
    await expect(automationRunnerProcessor(job)).rejects.toBeInstanceOf(UnrecoverableError);
  });
});
