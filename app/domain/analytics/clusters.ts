// Customer clusters (issue 15, decision 059): k-means++ (seeded, so a refit of the same data
// gives the same clusters) on standardised features, k chosen by the mean silhouette on a
// sample (k in 2..8), and each cluster described in plain words from its centroid relative to
// the overall mean. Pure: no I/O. The service (app/services/analytics/clusters.server.ts)
// computes the features in SQL and stores the model.

/** Raw features of one customer, before scaling (see featureVector for the order). */
export type CustomerFeatures = {
  /** Days since the last order. */
  recencyDays: number;
  /** Orders (neither test nor cancelled). */
  orders: number;
  /** Net spend (totals minus refunds), minor units. */
  netMinor: number;
  /** Days from the first order to the last (0 for one order). */
  spanDays: number;
  /** Share of line spend in each of the shop's top product types (aligned to the model's productTypes). */
  typeShares: number[];
  /** Share of orders with a discount. */
  discountRate: number;
  /** Share of orders with a refund. */
  refundRate: number;
};

/** The vector k-means runs on: RFM log-scaled, then type shares, discount rate, refund rate. */
export function featureVector(f: CustomerFeatures): number[] {
  return [Math.log1p(Math.max(0, f.recencyDays)), Math.log1p(Math.max(0, f.orders)), Math.log1p(Math.max(0, f.netMinor) / 100), ...f.typeShares, f.discountRate, f.refundRate];
}

export type Scaling = { mean: number[]; scale: number[] };

/** Mean and standard deviation per column (a constant column gets scale 1, so it contributes 0). */
export function fitScaling(rows: readonly number[][]): Scaling {
  const d = rows[0]?.length ?? 0;
  const mean = new Array<number>(d).fill(0);
  const scale = new Array<number>(d).fill(0);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j]! += r[j]! / rows.length;
  for (const r of rows) for (let j = 0; j < d; j++) scale[j]! += (r[j]! - mean[j]!) ** 2 / rows.length;
  for (let j = 0; j < d; j++) scale[j] = Math.sqrt(scale[j]!) > 1e-9 ? Math.sqrt(scale[j]!) : 1;
  return { mean, scale };
}

export function standardise(row: readonly number[], s: Scaling): number[] {
  return row.map((v, j) => (v - s.mean[j]!) / s.scale[j]!);
}

/** A small seeded generator (mulberry32): the same seed gives the same clusters. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function dist2(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j]! - b[j]!) ** 2;
  return s;
}

/** Index of the nearest centroid (ties to the lowest index). */
export function nearest(point: readonly number[], centroids: readonly number[][]): number {
  let best = 0;
  let bestD = Infinity;
  for (let c = 0; c < centroids.length; c++) {
    const d = dist2(point, centroids[c]!);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

export type KMeansResult = { centroids: number[][]; labels: number[]; inertia: number; iterations: number };

/**
 * k-means with k-means++ seeding (Arthur and Vassilvitskii 2007) and Lloyd iterations until no
 * label changes, best of `restarts` seeded runs (lowest within-cluster sum of squares): one
 * run can still put two seeds in one group.
 */
export function kMeans(points: readonly number[][], k: number, { seed = 1, maxIterations = 100, restarts = 5 }: { seed?: number; maxIterations?: number; restarts?: number } = {}): KMeansResult {
  let best: KMeansResult | null = null;
  for (let r = 0; r < Math.max(1, restarts); r++) {
    const run = kMeansOnce(points, k, seed * 7919 + r, maxIterations);
    if (!best || run.inertia < best.inertia - 1e-9) best = run;
  }
  return best!;
}

function kMeansOnce(points: readonly number[][], k: number, seed: number, maxIterations: number): KMeansResult {
  if (points.length === 0) return { centroids: [], labels: [], inertia: 0, iterations: 0 };
  const n = points.length;
  const kk = Math.min(k, n);
  const rand = seededRandom(seed);
  const centroids: number[][] = [[...points[Math.floor(rand() * n)]!]];
  const d2 = points.map((p) => dist2(p, centroids[0]!));
  while (centroids.length < kk) {
    const total = d2.reduce((s, v) => s + v, 0);
    let pick = 0;
    if (total > 0) {
      let target = rand() * total;
      for (pick = 0; pick < n - 1; pick++) {
        target -= d2[pick]!;
        if (target <= 0) break;
      }
    } else pick = Math.floor(rand() * n);
    const c = [...points[pick]!];
    centroids.push(c);
    for (let i = 0; i < n; i++) d2[i] = Math.min(d2[i]!, dist2(points[i]!, c));
  }
  const labels = new Array<number>(n).fill(-1);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    let changed = false;
    for (let i = 0; i < n; i++) {
      const l = nearest(points[i]!, centroids);
      if (l !== labels[i]) {
        labels[i] = l;
        changed = true;
      }
    }
    if (!changed) break;
    const d = points[0]!.length;
    const sums = centroids.map(() => new Array<number>(d).fill(0));
    const counts = new Array<number>(centroids.length).fill(0);
    for (let i = 0; i < n; i++) {
      counts[labels[i]!]!++;
      for (let j = 0; j < d; j++) sums[labels[i]!]![j]! += points[i]![j]!;
    }
    for (let c = 0; c < centroids.length; c++) if (counts[c]! > 0) centroids[c] = sums[c]!.map((s) => s / counts[c]!);
  }
  const inertia = points.reduce((s, p, i) => s + dist2(p, centroids[labels[i]!]!), 0);
  return { centroids, labels, inertia, iterations };
}

/** Mean silhouette (Rousseeuw 1987) of a labelled set; 0 when there is one cluster. */
export function silhouette(points: readonly number[][], labels: readonly number[], k: number): number {
  const n = points.length;
  if (n < 2 || k < 2) return 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const sum = new Array<number>(k).fill(0);
    const cnt = new Array<number>(k).fill(0);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      sum[labels[j]!]! += Math.sqrt(dist2(points[i]!, points[j]!));
      cnt[labels[j]!]!++;
    }
    const own = labels[i]!;
    if (cnt[own] === 0) continue; // a singleton scores 0
    const a = sum[own]! / cnt[own]!;
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && cnt[c]! > 0) b = Math.min(b, sum[c]! / cnt[c]!);
    if (!Number.isFinite(b)) continue;
    total += (b - a) / Math.max(a, b);
  }
  return total / n;
}

/** At most this many points go into the silhouette (it is quadratic). */
export const SILHOUETTE_SAMPLE = 1_500;
export const K_RANGE = { min: 2, max: 8 } as const;

export type ChosenClustering = KMeansResult & { k: number; silhouette: number; tried: Array<{ k: number; silhouette: number }> };

/**
 * Fits k = 2..8 (at most one cluster per 5 points) and keeps the k with the highest mean
 * silhouette on a deterministic sample of SILHOUETTE_SAMPLE points (ties to the smaller k).
 */
export function chooseClustering(points: readonly number[][], { seed = 1 }: { seed?: number } = {}): ChosenClustering {
  const maxK = Math.min(K_RANGE.max, Math.floor(points.length / 5));
  const rand = seededRandom(seed + 7);
  const sampleIdx: number[] = [];
  if (points.length <= SILHOUETTE_SAMPLE) for (let i = 0; i < points.length; i++) sampleIdx.push(i);
  else {
    // Partial Fisher-Yates: a seeded sample without repeats.
    const idx = points.map((_, i) => i);
    for (let i = 0; i < SILHOUETTE_SAMPLE; i++) {
      const j = i + Math.floor(rand() * (idx.length - i));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
      sampleIdx.push(idx[i]!);
    }
  }
  const sample = sampleIdx.map((i) => points[i]!);
  let best: ChosenClustering | null = null;
  const tried: Array<{ k: number; silhouette: number }> = [];
  for (let k = K_RANGE.min; k <= maxK; k++) {
    const fit = kMeans(points, k, { seed });
    const s = silhouette(sample, sampleIdx.map((i) => fit.labels[i]!), k);
    tried.push({ k, silhouette: s });
    if (!best || s > best.silhouette + 1e-12) best = { ...fit, k, silhouette: s, tried };
  }
  if (!best) {
    const fit = kMeans(points, 1, { seed });
    return { ...fit, k: 1, silhouette: 0, tried };
  }
  return best;
}

export type ClusterFigures = {
  size: number;
  /** Mean net spend per customer, minor units. */
  meanNetMinor: number;
  meanOrders: number;
  /** Mean days between orders of the cluster's repeat customers (null without repeat customers). */
  meanGapDays: number | null;
  meanTypeShares: number[];
  meanDiscountRate: number;
  meanRefundRate: number;
};

/** The raw means of a cluster's members (what the description quotes). */
export function clusterFigures(members: readonly CustomerFeatures[]): ClusterFigures {
  const n = members.length || 1;
  const types = members[0]?.typeShares.length ?? 0;
  const repeat = members.filter((m) => m.orders > 1);
  return {
    size: members.length,
    meanNetMinor: members.reduce((s, m) => s + m.netMinor, 0) / n,
    meanOrders: members.reduce((s, m) => s + m.orders, 0) / n,
    meanGapDays: repeat.length === 0 ? null : repeat.reduce((s, m) => s + m.spanDays / (m.orders - 1), 0) / repeat.length,
    meanTypeShares: Array.from({ length: types }, (_, j) => members.reduce((s, m) => s + m.typeShares[j]!, 0) / n),
    meanDiscountRate: members.reduce((s, m) => s + m.discountRate, 0) / n,
    meanRefundRate: members.reduce((s, m) => s + m.refundRate, 0) / n,
  };
}

/** |z| of a centroid coordinate above this reads as "high" / "low"; within it, "average". */
export const DESCRIBE_Z = 0.5;

function level(z: number): "high" | "low" | "average" {
  return z > DESCRIBE_Z ? "high" : z < -DESCRIBE_Z ? "low" : "average";
}

function cadence(gapDays: number | null, meanOrders: number): string {
  if (gapDays === null || meanOrders < 1.5) return "mostly one order";
  if (gapDays < 10) return `order every ${Math.max(1, Math.round(gapDays))} days`;
  if (gapDays < 70) return `order every ${Math.round(gapDays / 7)} weeks`;
  return `order every ${Math.round(gapDays / 30.4)} months`;
}

/**
 * Plain words from the standardised centroid (its coordinates are already relative to the
 * overall mean, in standard deviations) and the cluster's raw means:
 * "spend high, order every 6 weeks, mostly Shoes, rarely use discounts".
 */
export function describeCluster({ centroid, productTypes, figures }: { centroid: readonly number[]; productTypes: readonly string[]; figures: ClusterFigures }): string {
  const t = productTypes.length;
  const [zRecency, , zMoney] = centroid;
  const zDiscount = centroid[3 + t]!;
  const zRefund = centroid[4 + t]!;
  const parts = [`spend ${level(zMoney!)}`, cadence(figures.meanGapDays, figures.meanOrders)];
  if (level(zRecency!) === "high") parts.push("not seen lately");
  else if (level(zRecency!) === "low") parts.push("bought recently");
  // The product type with the largest share, named when it is over half of the spend or well above the mean.
  let top = -1;
  for (let j = 0; j < t; j++) if (top < 0 || figures.meanTypeShares[j]! > figures.meanTypeShares[top]!) top = j;
  if (top >= 0 && (figures.meanTypeShares[top]! >= 0.5 || centroid[3 + top]! > 1)) parts.push(`${figures.meanTypeShares[top]! >= 0.5 ? "mostly" : "often"} ${productTypes[top]}`);
  parts.push(level(zDiscount) === "high" ? "often use discounts" : level(zDiscount) === "low" || figures.meanDiscountRate < 0.1 ? "rarely use discounts" : "sometimes use discounts");
  if (level(zRefund) === "high") parts.push("refund often");
  return parts.join(", ");
}
