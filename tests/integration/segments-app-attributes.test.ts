// Segment membership on the feedback and loyalty attributes stays current through the real
// paths: an order through the worker (loyalty earns points and a tier, then the segments on
// loyalty_points / loyalty_tier are re-evaluated in the same batch), an answer on the public
// page's service (nps_group, feedback_count, has_open_case at once, in the answer's
// transaction), an edit of it, and a staff points adjustment.
import { describe, expect, it } from "vitest";
import { getPool } from "../../app/db.server";
import { submitAnswer } from "../../app/services/feedback/answers.server";
import { updateFeedbackCase } from "../../app/services/admin-feedback.server";
import { signFeedbackToken } from "../../app/services/feedback/links.server";
import { setFeedbackRules } from "../../app/services/feedback/rules.server";
import { runFeedbackScheduler } from "../../app/services/feedback/scheduler.server";
import { adjustPoints } from "../../app/services/loyalty/adjust.server";
import { runLoyaltyMaintenance } from "../../app/services/loyalty/maintenance.server";
import { saveProgram } from "../../app/services/loyalty/program.server";
import { createSegment } from "../../app/services/segments/segments.server";
import { orderPayload } from "../support/factories";
import { deliverAndSettle, setUpPipelineHarness } from "../support/pipeline";
import { TEST_SHOP } from "../support/webhooks";

setUpPipelineHarness();

const ana = { id: 7401n, email: "ana.segments@example.com", firstName: "Ana" };
const ANA = "gid://shopify/Customer/7401";
const DAY = 86_400_000;

async function segmentsOf(gid: string): Promise<string[]> {
  const { rows } = await getPool().query<{ name: string }>(
    `SELECT s.name FROM segment_members m JOIN segments s ON s.id = m.segment_id WHERE m.shop = $1 AND m.customer_gid = $2 ORDER BY s.name`,
    [TEST_SHOP, gid],
  );
  return rows.map((r) => r.name);
}

describe("segments on feedback and loyalty attributes follow the data", () => {
  it("an order (points, tier), an answer, its edit and a points adjustment each move membership at once", async () => {
    await saveProgram({
      shop: TEST_SHOP,
      settings: {
        earn: { pointsPerUnit: 1 },
        pendingDays: 0,
        bonuses: { feedback: 50 },
        tiers: { metric: "points_earned", window: "lifetime", levels: [{ name: "Member", threshold: 0 }, { name: "Gold", threshold: 100 }] },
      },
      actor: "owner",
      now: new Date(Date.now() - 10 * DAY),
    });
    await setFeedbackRules(TEST_SHOP, { rules: [{ name: "now", trigger: "order_paid", delayDays: 0 }] });
    for (const [name, query] of [
      ["a promoters", "nps_group = 'promoter'"],
      ["b open case", "has_open_case = true"],
      ["c points 100+", "loyalty_points >= 100"],
      ["d gold", "loyalty_tier = 'GOLD'"],
      ["e answered", "feedback_count >= 1 AND last_feedback_date >= -1d"],
      ["f detractors", "nps_score <= 6"],
    ]) {
      await createSegment({ shop: TEST_SHOP, name: name!, query: query! });
    }

    // The order: loyalty earns 150 points and the Gold tier in the worker's batch; the segments
    // on them see it in that same batch (the second pass after loyalty).
    await deliverAndSettle("orders/paid", orderPayload({ id: 74001n, customer: ana, totalPrice: "150.00", lines: [{ productId: 9401n, title: "Lamp", price: "150.00" }], createdAt: new Date(Date.now() - DAY).toISOString() }));
    expect(await segmentsOf(ANA)).toEqual(["c points 100+", "d gold"]);

    // The answer: promoter, answered; the feedback bonus keeps the points segment.
    await runFeedbackScheduler();
    const { rows } = await getPool().query<{ id: string; link_expires_at: Date }>(`SELECT id::text AS id, link_expires_at FROM feedback_requests WHERE shop = $1 AND customer_gid = $2`, [TEST_SHOP, ANA]);
    const token = signFeedbackToken({ shop: TEST_SHOP, requestId: rows[0]!.id, expiresAt: rows[0]!.link_expires_at });
    expect(await submitAnswer(token, { nps: "10", "rating-0": "5" })).toMatchObject({ ok: true, caseOpened: false });
    expect(await segmentsOf(ANA)).toEqual(["a promoters", "c points 100+", "d gold", "e answered"]);

    // The edit: now a detractor with an open case.
    expect(await submitAnswer(token, { nps: "2", "rating-0": "1" })).toMatchObject({ ok: true, edited: true, caseOpened: true });
    expect(await segmentsOf(ANA)).toEqual(["b open case", "c points 100+", "d gold", "e answered", "f detractors"]);

    // Staff take points away: below 100 at once (the tier, earned, stays).
    const { balance } = await adjustPoints({ shop: TEST_SHOP, customerGid: ANA, points: -150, reason: "correction", actor: "owner" });
    expect(balance).toBe(50);
    expect(await segmentsOf(ANA)).toEqual(["b open case", "d gold", "e answered", "f detractors"]);

    // The program raises Gold to 1,000 points: the maintenance's tier refresh demotes Ana, and
    // the segment on loyalty_tier follows in that transaction.
    await saveProgram({
      shop: TEST_SHOP,
      settings: {
        earn: { pointsPerUnit: 1 },
        pendingDays: 0,
        bonuses: { feedback: 50 },
        tiers: { metric: "points_earned", window: "lifetime", levels: [{ name: "Member", threshold: 0 }, { name: "Gold", threshold: 1000 }] },
      },
      actor: "owner",
    });
    const maintained = await runLoyaltyMaintenance({ shop: TEST_SHOP, syncTags: false });
    expect(maintained.tierChanges).toEqual([expect.objectContaining({ customerGid: ANA, fromTier: "Gold", toTier: "Member" })]);
    expect(await segmentsOf(ANA)).toEqual(["b open case", "e answered", "f detractors"]);

    // Staff resolve the case in the admin: has_open_case follows in that transaction; reopening brings it back.
    const { rows: cases } = await getPool().query<{ id: string }>(`SELECT id::text AS id FROM feedback_cases WHERE shop = $1 AND customer_gid = $2 AND status = 'open'`, [TEST_SHOP, ANA]);
    expect(cases).toHaveLength(1);
    const resolved = await updateFeedbackCase({ shop: TEST_SHOP, fields: { intent: "resolve", caseId: cases[0]!.id }, actor: "shopify-user:1" });
    expect(resolved.status).toBe(200);
    expect(await segmentsOf(ANA)).toEqual(["e answered", "f detractors"]);
    expect((await updateFeedbackCase({ shop: TEST_SHOP, fields: { intent: "reopen", caseId: cases[0]!.id }, actor: "shopify-user:1" })).status).toBe(200);
    expect(await segmentsOf(ANA)).toEqual(["b open case", "e answered", "f detractors"]);
  });
});
