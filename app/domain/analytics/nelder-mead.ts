// A small Nelder-Mead simplex minimiser (decision 052: no maintained npm optimiser fits).
// Pure: takes the objective and a start point, returns the best point found.

export type MinimiseResult = { x: number[]; fx: number; iterations: number; evaluations: number; converged: boolean };

export type NelderMeadOptions = {
  /** Side of the first simplex along each axis (in the objective's coordinates). */
  step?: number;
  maxIterations?: number;
  /** Stop when the simplex's function values and points both lie within these tolerances. */
  fTolerance?: number;
  xTolerance?: number;
  /** A gain below this (relative) over 100 iterations ends the search even when the points have not met. */
  flatTolerance?: number;
  /** Restarts from the best point (guards against a collapsed simplex): stops when one brings no gain. */
  restarts?: number;
};

function nelderMeadOnce(f: (x: number[]) => number, start: number[], step: number, maxIterations: number, fTol: number, xTol: number, flatTol: number) {
  const n = start.length;
  const value = (x: number[]) => {
    const v = f(x);
    return Number.isFinite(v) ? v : Number.POSITIVE_INFINITY;
  };
  let evaluations = 0;
  const evaluate = (x: number[]) => {
    evaluations++;
    return value(x);
  };
  const simplex: number[][] = [start.slice()];
  for (let i = 0; i < n; i++) {
    const p = start.slice();
    p[i] = p[i]! + step;
    simplex.push(p);
  }
  const values = simplex.map(evaluate);
  let iterations = 0;
  let converged = false;
  const order = () => {
    const idx = values.map((_, i) => i).sort((i, j) => values[i]! - values[j]!);
    const s = idx.map((i) => simplex[i]!);
    const v = idx.map((i) => values[i]!);
    for (let i = 0; i <= n; i++) {
      simplex[i] = s[i]!;
      values[i] = v[i]!;
    }
  };
  const along = (from: number[], to: number[], t: number) => from.map((v, i) => v + t * (to[i]! - v));
  // The best value STALL_ITERATIONS ago: a search that gains less than flatTol (relative) over
  // that many iterations is on a flat ridge (a data set whose optimum is at infinity: the
  // points never meet, but every point on the ridge predicts the same) and stops.
  const STALL_ITERATIONS = 100;
  const history: number[] = [];
  while (iterations < maxIterations) {
    iterations++;
    order();
    history.push(values[0]!);
    if (history.length > STALL_ITERATIONS) {
      const then = history.shift()!;
      if (then - values[0]! <= flatTol * (1 + Math.abs(values[0]!))) {
        converged = true;
        break;
      }
    }
    const spreadF = Math.abs(values[n]! - values[0]!);
    let spreadX = 0;
    for (let i = 1; i <= n; i++) for (let j = 0; j < n; j++) spreadX = Math.max(spreadX, Math.abs(simplex[i]![j]! - simplex[0]![j]!));
    if (spreadF <= fTol * (1 + Math.abs(values[0]!)) && spreadX <= xTol) {
      converged = true;
      break;
    }
    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j]! += simplex[i]![j]! / n;
    const worst = simplex[n]!;
    const reflected = along(centroid, worst, -1);
    const fr = evaluate(reflected);
    if (fr < values[0]!) {
      const expanded = along(centroid, worst, -2);
      const fe = evaluate(expanded);
      if (fe < fr) {
        simplex[n] = expanded;
        values[n] = fe;
      } else {
        simplex[n] = reflected;
        values[n] = fr;
      }
      continue;
    }
    if (fr < values[n - 1]!) {
      simplex[n] = reflected;
      values[n] = fr;
      continue;
    }
    const outside = fr < values[n]!;
    const contracted = along(centroid, outside ? reflected : worst, 0.5);
    const fc = evaluate(contracted);
    if (fc < (outside ? fr : values[n]!)) {
      simplex[n] = contracted;
      values[n] = fc;
      continue;
    }
    for (let i = 1; i <= n; i++) {
      simplex[i] = along(simplex[0]!, simplex[i]!, 0.5);
      values[i] = evaluate(simplex[i]!);
    }
  }
  order();
  return { x: simplex[0]!, fx: values[0]!, iterations, evaluations, converged };
}

/** Minimises f from start. Deterministic. */
export function minimiseNelderMead(f: (x: number[]) => number, start: number[], options: NelderMeadOptions = {}): MinimiseResult {
  const step = options.step ?? 0.5;
  const maxIterations = options.maxIterations ?? 5_000;
  const fTol = options.fTolerance ?? 1e-12;
  const xTol = options.xTolerance ?? 1e-8;
  const restarts = options.restarts ?? 3;
  const flatTol = options.flatTolerance ?? fTol;
  let best = nelderMeadOnce(f, start, step, maxIterations, fTol, xTol, flatTol);
  let iterations = best.iterations;
  let evaluations = best.evaluations;
  for (let r = 0; r < restarts; r++) {
    const next = nelderMeadOnce(f, best.x, step / 4, maxIterations, fTol, xTol, flatTol);
    iterations += next.iterations;
    evaluations += next.evaluations;
    const gain = best.fx - next.fx;
    if (next.fx < best.fx) best = next;
    if (!(gain > fTol * (1 + Math.abs(best.fx)))) break;
  }
  return { ...best, iterations, evaluations };
}

/** Bounds of every log-parameter the models fit: 1e-6 to 1e8 (past them a data set has no interior maximum). */
export const LOG_PARAM_BOUNDS = [Math.log(1e-6), Math.log(1e8)] as const;

/**
 * A steep quadratic wall outside LOG_PARAM_BOUNDS. Data without heterogeneity (every customer
 * with the same dropout probability, say) have their supremum at infinity (a, b -> infinity
 * with a / (a + b) fixed): the wall stops the simplex there, at a point that predicts the same.
 */
export function boxPenalty(v: number[]): number {
  let penalty = 0;
  for (const x of v) {
    if (x < LOG_PARAM_BOUNDS[0]) penalty += 1e6 * (LOG_PARAM_BOUNDS[0] - x) ** 2;
    else if (x > LOG_PARAM_BOUNDS[1]) penalty += 1e6 * (x - LOG_PARAM_BOUNDS[1]) ** 2;
  }
  return penalty;
}
