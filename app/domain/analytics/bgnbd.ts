// BG/NBD model (Fader, Hardie and Lee 2005, "Counting your customers the easy way"):
// log-likelihood, maximum likelihood fit on log-parameters, P(alive) and the expected number of
// transactions in a coming period. Pure functions: data and time units in, numbers out.
import { hyp2f1, lnGamma } from "./special";
import { boxPenalty, minimiseNelderMead } from "./nelder-mead";

export type BgNbdParams = { r: number; alpha: number; a: number; b: number };

/**
 * Customers in the standard summary, possibly grouped: frequency x (repeat transactions),
 * recency tx (first to last transaction), age T (first transaction to the end of the
 * calibration period), in one time unit, and how many customers share these values.
 */
export type RepeatSummary = { x: ArrayLike<number>; tx: ArrayLike<number>; T: ArrayLike<number>; count?: ArrayLike<number> };

/** Log-normal prior on each parameter (the mean of its logarithm and its spread). */
export type LogNormalPrior<K extends string> = { mean: Record<K, number>; sd: number; weight: number };

type Prepared = {
  xs: Float64Array;
  xi: Int32Array;
  Ts: Float64Array;
  Ti: Int32Array;
  txs: Float64Array;
  txi: Int32Array;
  w: Float64Array;
};
const preparedCache = new WeakMap<object, Prepared>();

/**
 * Indexes the rows by their distinct x, T and tx values, so that one evaluation of the
 * likelihood takes each logarithm of alpha + T (or tx) and each ln Gamma of x once: with time in
 * whole days a shop has a few thousand distinct ages whatever its number of customers.
 */
function prepare(data: RepeatSummary): Prepared {
  const cached = preparedCache.get(data);
  if (cached) return cached;
  const n = data.x.length;
  const index = (values: ArrayLike<number>) => {
    const map = new Map<number, number>();
    const at = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      let k = map.get(v);
      if (k === undefined) {
        k = map.size;
        map.set(v, k);
      }
      at[i] = k;
    }
    return { distinct: Float64Array.from(map.keys()), at };
  };
  const x = index(data.x);
  const T = index(data.T);
  const tx = index(data.tx);
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = data.count ? data.count[i]! : 1;
  const prepared = { xs: x.distinct, xi: x.at, Ts: T.distinct, Ti: T.at, txs: tx.distinct, txi: tx.at, w };
  preparedCache.set(data, prepared);
  return prepared;
}

export function bgNbdLogLikelihood({ params, data }: { params: BgNbdParams; data: RepeatSummary }): number {
  const { r, alpha, a, b } = params;
  if (!(r > 0 && alpha > 0 && a > 0 && b > 0)) return Number.NEGATIVE_INFINITY;
  const { xs, xi, Ts, Ti, txs, txi, w } = prepare(data);
  const lnGammaR = lnGamma(r);
  const lnGammaB = lnGamma(b);
  const lnGammaAB = lnGamma(a + b);
  const rLnAlpha = r * Math.log(alpha);
  const lnA = Math.log(a);
  // Per distinct x: the ln Gamma terms (head) and ln(a / (b + x - 1)) (tail).
  const head = new Float64Array(xs.length);
  const tail = new Float64Array(xs.length);
  for (let k = 0; k < xs.length; k++) {
    const x = xs[k]!;
    head[k] = lnGamma(r + x) - lnGammaR + rLnAlpha + lnGammaAB + lnGamma(b + x) - lnGammaB - lnGamma(a + b + x);
    tail[k] = x > 0 ? lnA - Math.log(b + x - 1) : Number.NEGATIVE_INFINITY;
  }
  const lnT = new Float64Array(Ts.length);
  for (let j = 0; j < Ts.length; j++) lnT[j] = Math.log(alpha + Ts[j]!);
  const lnTx = new Float64Array(txs.length);
  for (let j = 0; j < txs.length; j++) lnTx[j] = Math.log(alpha + txs[j]!);
  let total = 0;
  for (let i = 0; i < xi.length; i++) {
    const k = xi[i]!;
    const x = xs[k]!;
    const a3 = -(r + x) * lnT[Ti[i]!]!;
    let ll = head[k]! + a3;
    if (x > 0) {
      // log(exp(a3) + exp(a4)) = a3 + log1p(exp(a4 - a3)), a4 - a3 = tail - (r + x)(ln(alpha + tx) - ln(alpha + T)) >= tail - 0
      const d = tail[k]! - (r + x) * (lnTx[txi[i]!]! - lnT[Ti[i]!]!);
      ll += d > 0 ? d + Math.log1p(Math.exp(-d)) : Math.log1p(Math.exp(d));
    }
    total += w[i]! * ll;
  }
  return total;
}

const KEYS = ["r", "alpha", "a", "b"] as const;

/** Starting point and fallback prior centre: the published CDNOW fit, alpha scaled to the time unit. */
export function defaultBgNbdCentre(unitsPerWeek: number): BgNbdParams {
  return { r: 0.243, alpha: 4.414 * unitsPerWeek, a: 0.793, b: 2.426 };
}

export type BgNbdFit = { params: BgNbdParams; logLikelihood: number; iterations: number; converged: boolean };

/**
 * Maximum likelihood (or, with a prior of positive weight, maximum a posteriori with log-normal
 * priors: the penalty weight * sum((ln theta - mean)^2) / (2 sd^2) is added to -LL).
 */
export function fitBgNbd({ data, start, prior }: { data: RepeatSummary; start?: BgNbdParams; prior?: LogNormalPrior<keyof BgNbdParams> }): BgNbdFit {
  const from = start ?? defaultBgNbdCentre(1);
  const toParams = (v: number[]): BgNbdParams => ({ r: Math.exp(v[0]!), alpha: Math.exp(v[1]!), a: Math.exp(v[2]!), b: Math.exp(v[3]!) });
  const objective = (v: number[]) => {
    const nll = boxPenalty(v) - bgNbdLogLikelihood({ params: toParams(v), data });
    if (!prior || prior.weight <= 0) return nll;
    let penalty = 0;
    KEYS.forEach((k, i) => {
      const d = v[i]! - prior.mean[k];
      penalty += (d * d) / (2 * prior.sd * prior.sd);
    });
    return nll + prior.weight * penalty;
  };
  const result = minimiseNelderMead(objective, KEYS.map((k) => Math.log(from[k])), { step: 0.5, fTolerance: 1e-12, xTolerance: 1e-9, flatTolerance: 1e-8, maxIterations: 2_000, restarts: 2 });
  const params = toParams(result.x);
  return { params, logLikelihood: bgNbdLogLikelihood({ params, data }), iterations: result.iterations, converged: result.converged };
}

/** P(alive | x, tx, T): the probability that the customer has not dropped out (FHL 2005, eq. 11). */
export function probabilityAlive({ params, x, tx, T }: { params: BgNbdParams; x: number; tx: number; T: number }): number {
  if (x === 0) return 1;
  const { r, alpha, a, b } = params;
  const lnRatio = Math.log(a) - Math.log(b + x - 1) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx));
  return 1 / (1 + Math.exp(lnRatio));
}

/**
 * E[Y(t) | x, tx, T]: expected transactions in the next t time units (FHL 2005, eq. 10).
 * Undefined at a = 1 exactly; nudged there.
 */
export function conditionalExpectedTransactions({ params, x, tx, T, t }: { params: BgNbdParams; x: number; tx: number; T: number; t: number }): number {
  const { r, alpha, b } = params;
  const a = Math.abs(params.a - 1) < 1e-9 ? 1 + 1e-9 : params.a;
  if (t <= 0) return 0;
  const z = t / (alpha + T + t);
  const lead = (a + b + x - 1) / (a - 1);
  const decay = Math.exp((r + x) * (Math.log(alpha + T) - Math.log(alpha + T + t)));
  const bracket = 1 - decay * hyp2f1(r + x, b + x, a + b + x - 1, z);
  const denominator = x > 0 ? 1 + (a / (b + x - 1)) * Math.exp((r + x) * (Math.log(alpha + T) - Math.log(alpha + tx))) : 1;
  return Math.max(0, (lead * bracket) / denominator);
}

/** E[X(t)]: expected transactions of a new customer in t time units after the first (FHL 2005, eq. 9). */
export function expectedTransactions({ params, t }: { params: BgNbdParams; t: number }): number {
  const { r, alpha, b } = params;
  const a = Math.abs(params.a - 1) < 1e-9 ? 1 + 1e-9 : params.a;
  if (t <= 0) return 0;
  const decay = Math.exp(r * (Math.log(alpha) - Math.log(alpha + t)));
  return ((a + b - 1) / (a - 1)) * (1 - decay * hyp2f1(r, b, a + b - 1, t / (alpha + t)));
}

/**
 * The median wait until the next transaction of a customer who is still active. In BG/NBD a
 * customer drops out only right after a transaction, so an active customer's wait is exponential
 * with the posterior Gamma(r + x, alpha + T) rate: P(wait > s) = ((alpha + T) / (alpha + T + s))^(r + x).
 */
export function medianWaitIfActive({ params, x, T }: { params: BgNbdParams; x: number; T: number }): number {
  const { r, alpha } = params;
  return (alpha + T) * (Math.pow(2, 1 / (r + x)) - 1);
}

/** Group a per-customer summary by (x, tx, T): the likelihood needs each distinct triple once. */
export function groupSummary(rows: Iterable<{ x: number; tx: number; T: number }>): Required<RepeatSummary> & { x: number[]; tx: number[]; T: number[]; count: number[] } {
  const index = new Map<string, number>();
  const out = { x: [] as number[], tx: [] as number[], T: [] as number[], count: [] as number[] };
  for (const row of rows) {
    const key = `${row.x}|${row.tx}|${row.T}`;
    const at = index.get(key);
    if (at === undefined) {
      index.set(key, out.x.length);
      out.x.push(row.x);
      out.tx.push(row.tx);
      out.T.push(row.T);
      out.count.push(1);
    } else {
      out.count[at]!++;
    }
  }
  return out;
}
