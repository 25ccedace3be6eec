// Validation of the BG/NBD and Gamma-Gamma implementations on the public CDNOW sample
// (tests/fixtures/cdnow/README.md): 2,357 customers, time in weeks, spend in dollars.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  bgNbdLogLikelihood,
  conditionalExpectedTransactions,
  expectedTransactions,
  fitBgNbd,
  groupSummary,
  probabilityAlive,
} from "../../app/domain/analytics/bgnbd";
import { conditionalExpectedAverageValue, fitGammaGamma, gammaGammaLogLikelihood } from "../../app/domain/analytics/gamma-gamma";

const rows = readFileSync(new URL("../fixtures/cdnow/cdnow_customers_summary_with_transactions.csv", import.meta.url), "utf8")
  .trim()
  .split(/\r?\n/)
  .slice(1)
  .map((line) => {
    const [, x, tx, T, zbar] = line.split(",").map(Number);
    return { x: x!, tx: tx!, T: T!, zbar: zbar! };
  });
const data = { x: rows.map((r) => r.x), tx: rows.map((r) => r.tx), T: rows.map((r) => r.T) };
const repeaters = rows.filter((r) => r.x > 0);
const spend = { x: repeaters.map((r) => r.x), zbar: repeaters.map((r) => r.zbar) };

// Fader, Hardie and Lee (2005), section 5 and the accompanying note: r, alpha, a, b and LL.
const PUBLISHED = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426, logLikelihood: -9582.4 };
// Fader and Hardie (2013), "The Gamma-Gamma Model of Monetary Value", on the same 946 repeat buyers.
const PUBLISHED_SPEND = { p: 6.25, q: 3.74, gamma: 15.44 };

const within = (actual: number, expected: number, relative: number) => Math.abs(actual - expected) <= relative * Math.abs(expected);

describe("CDNOW sample", () => {
  it("is the published sample: 2,357 customers, 946 with repeat purchases, 2,457 repeat purchases", () => {
    expect(rows).toHaveLength(2357);
    expect(repeaters).toHaveLength(946);
    expect(rows.reduce((n, r) => n + r.x, 0)).toBe(2457);
  });

  it("BG/NBD: the log-likelihood at the published parameters is the published -9582.4", () => {
    expect(bgNbdLogLikelihood({ params: PUBLISHED, data })).toBeCloseTo(PUBLISHED.logLikelihood, 1);
  });

  it("BG/NBD: the fit finds the published parameters (1%) and log-likelihood (0.01)", () => {
    const fit = fitBgNbd({ data, start: { r: 1, alpha: 1, a: 1, b: 1 } });
    expect(fit.converged).toBe(true);
    expect(Math.abs(fit.logLikelihood - PUBLISHED.logLikelihood)).toBeLessThan(0.05);
    for (const key of ["r", "alpha", "a", "b"] as const) expect(within(fit.params[key], PUBLISHED[key], 0.01), `${key} = ${fit.params[key]}`).toBe(true);
    // Grouping identical (x, tx, T) rows changes nothing but the work.
    const grouped = groupSummary(rows);
    expect(grouped.x.length).toBeLessThan(rows.length);
    expect(bgNbdLogLikelihood({ params: fit.params, data: grouped })).toBeCloseTo(fit.logLikelihood, 8);
  });

  it("BG/NBD: published predictions (FHL 2005): E[X(39)] and a customer's conditional expectation", () => {
    // The paper: a new customer is expected to make 1.473 repeat purchases... in 52 weeks? Checked by identity instead:
    // E[Y(t) | x = 0, T = 0] equals E[X(t)] for a brand-new customer.
    const e = expectedTransactions({ params: PUBLISHED, t: 39 });
    expect(conditionalExpectedTransactions({ params: PUBLISHED, x: 0, tx: 0, T: 0, t: 39 })).toBeCloseTo(e, 8);
    // FHL 2005 (section 5): a customer with x = 2, tx = 30.43, T = 38.86 is expected to make 1.226 purchases in the next 39 weeks.
    expect(conditionalExpectedTransactions({ params: PUBLISHED, x: 2, tx: 30.43, T: 38.86, t: 39 })).toBeCloseTo(1.226, 2);
    expect(probabilityAlive({ params: PUBLISHED, x: 0, tx: 0, T: 38.86 })).toBe(1);
    const pAlive = probabilityAlive({ params: PUBLISHED, x: 2, tx: 30.43, T: 38.86 });
    expect(pAlive).toBeGreaterThan(0.5);
    expect(pAlive).toBeLessThan(1);
  });

  it("Gamma-Gamma: the fit finds the published p, q, gamma (1%)", () => {
    const fit = fitGammaGamma({ data: spend });
    expect(fit.converged).toBe(true);
    for (const key of ["p", "q", "gamma"] as const) expect(within(fit.params[key], PUBLISHED_SPEND[key], 0.01), `${key} = ${fit.params[key]}`).toBe(true);
    expect(gammaGammaLogLikelihood({ params: fit.params, data: spend })).toBeGreaterThanOrEqual(gammaGammaLogLikelihood({ params: PUBLISHED_SPEND, data: spend }) - 1e-6);
    // The note: mean spend of the population gamma p / (q - 1), and shrinkage of a customer's mean towards it.
    const population = conditionalExpectedAverageValue({ params: PUBLISHED_SPEND, x: 0, zbar: 0 });
    expect(population).toBeCloseTo((15.44 * 6.25) / 2.74, 6);
    const oneRepeat = conditionalExpectedAverageValue({ params: PUBLISHED_SPEND, x: 1, zbar: 100 });
    expect(oneRepeat).toBeGreaterThan(population);
    expect(oneRepeat).toBeLessThan(100);
  });
});
