// Gamma-Gamma spend model (Fader and Hardie 2013, "The Gamma-Gamma Model of Monetary Value"):
// each customer's transaction values are Gamma(p, nu) with nu ~ Gamma(q, gamma) across customers.
// Fitted on customers with at least one repeat transaction: x repeat transactions of mean zbar.
import { lnGamma } from "./special";
import { boxPenalty, minimiseNelderMead } from "./nelder-mead";
import type { LogNormalPrior } from "./bgnbd";

export type GammaGammaParams = { p: number; q: number; gamma: number };
export type SpendSummary = { x: ArrayLike<number>; zbar: ArrayLike<number>; count?: ArrayLike<number> };

/** The note's log-likelihood of (x, zbar) for customers with x >= 1 (equation 4 of the note, with the Jacobian x^(px) / zbar). */
type PreparedSpend = { xs: Float64Array; xi: Int32Array; z: Float64Array; lnZ: Float64Array; lnX: Float64Array; w: Float64Array };
const preparedCache = new WeakMap<object, PreparedSpend>();

/** Keeps the customers with x >= 1 and zbar > 0, indexes their distinct x, takes ln zbar once. */
function prepare(data: SpendSummary): PreparedSpend {
  const cached = preparedCache.get(data);
  if (cached) return cached;
  const keep: number[] = [];
  for (let i = 0; i < data.x.length; i++) if (data.x[i]! > 0 && data.zbar[i]! > 0) keep.push(i);
  const map = new Map<number, number>();
  const xi = new Int32Array(keep.length);
  const z = new Float64Array(keep.length);
  const lnZ = new Float64Array(keep.length);
  const w = new Float64Array(keep.length);
  keep.forEach((i, j) => {
    const x = data.x[i]!;
    let k = map.get(x);
    if (k === undefined) {
      k = map.size;
      map.set(x, k);
    }
    xi[j] = k;
    z[j] = data.zbar[i]!;
    lnZ[j] = Math.log(data.zbar[i]!);
    w[j] = data.count ? data.count[i]! : 1;
  });
  const xs = Float64Array.from(map.keys());
  const prepared = { xs, xi, z, lnZ, lnX: xs.map(Math.log), w };
  preparedCache.set(data, prepared);
  return prepared;
}

/** The note's log-likelihood of (x, zbar) for customers with x >= 1 (equation 4 of the note, with the Jacobian x^(px) / zbar). */
export function gammaGammaLogLikelihood({ params, data }: { params: GammaGammaParams; data: SpendSummary }): number {
  const { p, q, gamma } = params;
  if (!(p > 0 && q > 0 && gamma > 0)) return Number.NEGATIVE_INFINITY;
  const { xs, xi, z, lnZ, lnX, w } = prepare(data);
  const lnGammaQ = lnGamma(q);
  const qLnGamma = q * Math.log(gamma);
  // Per distinct x: everything but the terms in zbar.
  const head = new Float64Array(xs.length);
  for (let k = 0; k < xs.length; k++) {
    const px = p * xs[k]!;
    head[k] = lnGamma(px + q) - lnGamma(px) - lnGammaQ + qLnGamma + px * lnX[k]!;
  }
  let total = 0;
  for (let j = 0; j < xi.length; j++) {
    const k = xi[j]!;
    const x = xs[k]!;
    const px = p * x;
    total += w[j]! * (head[k]! + (px - 1) * lnZ[j]! - (px + q) * Math.log(gamma + x * z[j]!));
  }
  return total;
}

export type GammaGammaFit = { params: GammaGammaParams; logLikelihood: number; iterations: number; converged: boolean };

export function fitGammaGamma({ data, start, prior }: { data: SpendSummary; start?: GammaGammaParams; prior?: LogNormalPrior<keyof GammaGammaParams> }): GammaGammaFit {
  let from = start;
  if (!from) {
    // Start where the population mean spend gamma p / (q - 1) equals the observed mean.
    let sum = 0;
    let n = 0;
    for (let i = 0; i < data.x.length; i++) {
      if (!(data.x[i]! > 0 && data.zbar[i]! > 0)) continue;
      const w = data.count ? data.count[i]! : 1;
      sum += w * data.zbar[i]!;
      n += w;
    }
    const mean = n > 0 ? sum / n : 1;
    from = { p: 6, q: 4, gamma: (mean * 3) / 6 };
  }
  const keys = ["p", "q", "gamma"] as const;
  const toParams = (v: number[]): GammaGammaParams => ({ p: Math.exp(v[0]!), q: Math.exp(v[1]!), gamma: Math.exp(v[2]!) });
  const objective = (v: number[]) => {
    const nll = boxPenalty(v) - gammaGammaLogLikelihood({ params: toParams(v), data });
    if (!prior || prior.weight <= 0) return nll;
    let penalty = 0;
    keys.forEach((k, i) => {
      const d = v[i]! - prior.mean[k];
      penalty += (d * d) / (2 * prior.sd * prior.sd);
    });
    return nll + prior.weight * penalty;
  };
  const result = minimiseNelderMead(objective, keys.map((k) => Math.log(from[k])), { step: 0.5, fTolerance: 1e-12, xTolerance: 1e-9, flatTolerance: 1e-8, maxIterations: 2_000, restarts: 2 });
  const params = toParams(result.x);
  return { params, logLikelihood: gammaGammaLogLikelihood({ params, data }), iterations: result.iterations, converged: result.converged };
}

/**
 * E[M | x, zbar]: the expected value of this customer's future transactions, a weighted mean of
 * the population mean gamma p / (q - 1) and the customer's own mean (q > 1 needed; a customer
 * without repeat transactions gets the population mean).
 */
export function conditionalExpectedAverageValue({ params, x, zbar }: { params: GammaGammaParams; x: number; zbar: number }): number {
  const { p, q, gamma } = params;
  if (q <= 1) return x > 0 ? zbar : Number.NaN;
  if (!(x > 0)) return (gamma * p) / (q - 1);
  return (gamma * p + p * x * zbar) / (p * x + q - 1);
}
