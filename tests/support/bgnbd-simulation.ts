// Customers who buy as the BG/NBD model says (Fader, Hardie and Lee 2005): each has a Poisson
// purchase rate lambda ~ Gamma(r, alpha) per day and, after every purchase, drops out with
// probability p ~ Beta(a, b). Deterministic for a seed; used to check that the fit recovers
// known parameters through the SQL summary, and by the calibration report.
import { Rng } from "../twin/prng";

export type SimParams = { r: number; alpha: number; a: number; b: number };
export type SimCustomer = { index: number; orderDays: number[]; valuesCents: number[] };

function gamma(rng: Rng, shape: number): number {
  // Marsaglia and Tsang; shape < 1 boosted by U^(1/shape).
  if (shape < 1) return gamma(rng, shape + 1) * Math.pow(rng.next(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      // Box-Muller normal
      x = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * customers first buy on a day uniform in [0, firstDays); orders are followed until day
 * `untilDay` (exclusive). Order values: Gamma(p = 6, nu) with nu ~ Gamma(q = 4, scale 1 / gamma)
 * in cents, gamma = 600 (mean order about 12 dollars).
 */
export function simulateCustomers({ seed, customers, params, firstDays, untilDay }: { seed: number; customers: number; params: SimParams; firstDays: number; untilDay: number }): SimCustomer[] {
  const rng = new Rng(seed);
  const out: SimCustomer[] = [];
  for (let i = 0; i < customers; i++) {
    const lambda = gamma(rng, params.r) / params.alpha;
    const ga = gamma(rng, params.a);
    const dropout = ga / (ga + gamma(rng, params.b));
    const nu = gamma(rng, 4) / 600;
    let day = Math.floor(rng.next() * firstDays);
    const orderDays = [day];
    let time = day + rng.next();
    // Dropout happens right after a repeat purchase (never after the first one).
    for (;;) {
      time += -Math.log(1 - rng.next()) / lambda;
      day = Math.floor(time);
      if (day >= untilDay) break;
      orderDays.push(day);
      if (rng.next() < dropout) break;
    }
    const valuesCents = orderDays.map(() => Math.max(1, Math.round(gamma(rng, 6) / nu)));
    out.push({ index: i, orderDays, valuesCents });
  }
  return out;
}
