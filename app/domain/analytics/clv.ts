// Predicted customer value for one shop (issue 15, decision 051): BG/NBD for the number of
// orders and P(alive), Gamma-Gamma for the value of an order, fitted per shop. Small shops are
// shrunk towards a prior (penalised likelihood); from PLAIN_MLE_CUSTOMERS customers with orders
// the fit is plain maximum likelihood. Pure: summaries in, parameters and scores out.
import {
  conditionalExpectedTransactions,
  defaultBgNbdCentre,
  fitBgNbd,
  medianWaitIfActive,
  probabilityAlive,
  type BgNbdParams,
  type RepeatSummary,
} from "./bgnbd";
import { conditionalExpectedAverageValue, fitGammaGamma, type GammaGammaParams, type SpendSummary } from "./gamma-gamma";

export type TimeUnit = "day" | "week";
export const UNITS_PER_WEEK: Record<TimeUnit, number> = { day: 7, week: 1 };
/** Twelve months in each time unit (365.25 days). */
export const HORIZON_12M: Record<TimeUnit, number> = { day: 365.25, week: 365.25 / 7 };
/** From this many customers with orders the fit is plain maximum likelihood (issue 15). */
export const PLAIN_MLE_CUSTOMERS = 1_000;
/** Spread of the log-normal priors on each parameter's logarithm (a factor of e either way is one sd). */
export const PRIOR_SD = 1;

export type ClvPrior = { bgnbd: BgNbdParams; spend: Omit<GammaGammaParams, "gamma"> & { gamma?: number }; source: string };

/**
 * The prior's centre: the geometric mean of the parameters of shops fitted by plain maximum
 * likelihood (alpha rescaled to the time unit; gamma is in money and differs by shop, so it is
 * never pooled), or, without any such shop, the published CDNOW values.
 */
export function buildPrior({ pooled, timeUnit }: { pooled: Array<{ timeUnit: TimeUnit; bgnbd: BgNbdParams; spend: GammaGammaParams | null }>; timeUnit: TimeUnit }): ClvPrior {
  if (pooled.length === 0) {
    return { bgnbd: defaultBgNbdCentre(UNITS_PER_WEEK[timeUnit]), spend: { p: 6.25, q: 3.74 }, source: "published CDNOW values (Fader, Hardie and Lee 2005, Fader and Hardie 2013)" };
  }
  const geo = (values: number[]) => Math.exp(values.reduce((s, v) => s + Math.log(v), 0) / values.length);
  const scaled = pooled.map((m) => ({ ...m.bgnbd, alpha: (m.bgnbd.alpha / UNITS_PER_WEEK[m.timeUnit]) * UNITS_PER_WEEK[timeUnit] }));
  const spends = pooled.flatMap((m) => (m.spend ? [m.spend] : []));
  return {
    bgnbd: { r: geo(scaled.map((p) => p.r)), alpha: geo(scaled.map((p) => p.alpha)), a: geo(scaled.map((p) => p.a)), b: geo(scaled.map((p) => p.b)) },
    spend: spends.length > 0 ? { p: geo(spends.map((s) => s.p)), q: geo(spends.map((s) => s.q)) } : { p: 6.25, q: 3.74 },
    source: `pooled from ${pooled.length} shop(s) fitted by plain maximum likelihood`,
  };
}

/** The prior's weight: 1 with no customers, falling linearly to 0 at PLAIN_MLE_CUSTOMERS. */
export function priorWeight(customersWithOrders: number): number {
  return Math.max(0, 1 - customersWithOrders / PLAIN_MLE_CUSTOMERS);
}

export type ShopFit = {
  bgnbd: BgNbdParams;
  spend: GammaGammaParams | null;
  logLikelihood: number;
  spendLogLikelihood: number | null;
  method: "mle" | "shrunk";
  priorWeight: number;
  priorSource: string | null;
  customers: number;
  repeatCustomers: number;
  converged: boolean;
};

/**
 * Fits both models. data: every customer with an order (grouped or not), spend: customers with
 * repeat orders, zbar their mean repeat order value in minor units. customers: how many
 * customers with orders data stands for.
 */
export function fitShop({ data, spend, customers, repeatCustomers, timeUnit, prior }: { data: RepeatSummary; spend: SpendSummary; customers: number; repeatCustomers: number; timeUnit: TimeUnit; prior: ClvPrior }): ShopFit {
  const weight = priorWeight(customers);
  const centre = prior.bgnbd;
  const log = (p: BgNbdParams) => ({ r: Math.log(p.r), alpha: Math.log(p.alpha), a: Math.log(p.a), b: Math.log(p.b) });
  const bg = fitBgNbd({ data, start: weight > 0 ? centre : defaultBgNbdCentre(UNITS_PER_WEEK[timeUnit]), prior: weight > 0 ? { mean: log(centre), sd: PRIOR_SD, weight } : undefined });
  let spendFit: { params: GammaGammaParams; logLikelihood: number; converged: boolean } | null = null;
  let meanSpend = 0;
  let spendN = 0;
  for (let i = 0; i < spend.x.length; i++) {
    const w = spend.count ? spend.count[i]! : 1;
    if (spend.x[i]! > 0 && spend.zbar[i]! > 0) {
      meanSpend += w * spend.zbar[i]!;
      spendN += w;
    }
  }
  if (spendN > 0) {
    meanSpend /= spendN;
    // gamma's prior centre keeps the population mean spend gamma p / (q - 1) at the shop's own mean.
    const gammaCentre = prior.spend.gamma ?? (meanSpend * (prior.spend.q - 1)) / prior.spend.p;
    const spendWeight = priorWeight(repeatCustomers);
    const fit = fitGammaGamma({
      data: spend,
      start: { p: prior.spend.p, q: prior.spend.q, gamma: gammaCentre },
      prior: spendWeight > 0 ? { mean: { p: Math.log(prior.spend.p), q: Math.log(prior.spend.q), gamma: Math.log(gammaCentre) }, sd: PRIOR_SD, weight: spendWeight } : undefined,
    });
    spendFit = fit;
  }
  return {
    bgnbd: bg.params,
    spend: spendFit?.params ?? null,
    logLikelihood: bg.logLikelihood,
    spendLogLikelihood: spendFit?.logLikelihood ?? null,
    method: weight > 0 ? "shrunk" : "mle",
    priorWeight: weight,
    priorSource: weight > 0 ? prior.source : null,
    customers,
    repeatCustomers,
    converged: bg.converged && (spendFit?.converged ?? true),
  };
}

export type TripleScore = { pAlive: number; expectedOrders12m: number; medianWaitIfActive: number };

/** Scores one (x, tx, T) summary (in the model's time unit). */
export function scoreSummary({ params, x, tx, T, timeUnit }: { params: BgNbdParams; x: number; tx: number; T: number; timeUnit: TimeUnit }): TripleScore {
  return {
    pAlive: probabilityAlive({ params, x, tx, T }),
    expectedOrders12m: conditionalExpectedTransactions({ params, x, tx, T, t: HORIZON_12M[timeUnit] }),
    medianWaitIfActive: medianWaitIfActive({ params, x, T }),
  };
}

/** Expected value of one future order (minor units); the population mean without repeat orders. */
export function expectedOrderValue({ spend, x, zbar }: { spend: GammaGammaParams | null; x: number; zbar: number }): number {
  if (!spend) return x > 0 ? zbar : 0;
  const v = conditionalExpectedAverageValue({ params: spend, x, zbar });
  return Number.isFinite(v) ? v : x > 0 ? zbar : 0;
}

/**
 * The confidence label every prediction carries (docs/analytics.md): how much of the number
 * comes from this customer's own history and this shop's own data.
 *  - low: the shop's fit leans mostly on the prior (weight > 0.5), or the customer's first order
 *    is less than 30 days old;
 *  - high: plain maximum likelihood and at least 2 repeat orders;
 *  - medium otherwise.
 */
export function confidenceLabel({ method, weight, x, ageDays }: { method: "mle" | "shrunk"; weight: number; x: number; ageDays: number }): "high" | "medium" | "low" {
  if (weight > 0.5 || ageDays < 30) return "low";
  if (method === "mle" && x >= 2) return "high";
  return "medium";
}
