// Clusters (issue 15, decision 059): k-means++ recovers separable synthetic groups, k is
// chosen by the silhouette, the fit is deterministic, and the descriptions follow the centroids.
import { describe, expect, it } from "vitest";
import {
  chooseClustering,
  clusterFigures,
  describeCluster,
  featureVector,
  fitScaling,
  kMeans,
  nearest,
  seededRandom,
  silhouette,
  standardise,
  type CustomerFeatures,
} from "../../app/domain/analytics/clusters";

function gaussianBlobs(centres: number[][], perBlob: number, sd: number, seed: number) {
  const rand = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const points: number[][] = [];
  const truth: number[] = [];
  centres.forEach((c, label) => {
    for (let i = 0; i < perBlob; i++) {
      points.push(c.map((v) => v + sd * normal()));
      truth.push(label);
    }
  });
  return { points, truth };
}

/** Share of pairs on which two labellings agree (same cluster or not): 1 = the same partition. */
function randIndex(a: number[], b: number[]): number {
  let agree = 0;
  let pairs = 0;
  for (let i = 0; i < a.length; i++)
    for (let j = i + 1; j < a.length; j++) {
      pairs++;
      if ((a[i] === a[j]) === (b[i] === b[j])) agree++;
    }
  return agree / pairs;
}

describe("k-means++", () => {
  const centres = [
    [0, 0, 0],
    [8, 0, 0],
    [0, 8, 0],
    [0, 0, 8],
  ];
  const { points, truth } = gaussianBlobs(centres, 60, 0.8, 42);

  it("recovers four separated blobs exactly, with centroids near the true centres", () => {
    const fit = kMeans(points, 4, { seed: 3 });
    expect(randIndex(fit.labels, truth)).toBe(1);
    for (const c of centres) {
      const found = fit.centroids[nearest(c, fit.centroids)]!;
      for (let j = 0; j < 3; j++) expect(Math.abs(found[j]! - c[j]!)).toBeLessThan(0.4);
    }
  });

  it("is deterministic for a seed", () => {
    expect(kMeans(points, 4, { seed: 9 })).toEqual(kMeans(points, 4, { seed: 9 }));
  });

  it("chooses k = 4 by the silhouette, which is higher there than at 2 or 8", () => {
    const chosen = chooseClustering(points, { seed: 5 });
    expect(chosen.k).toBe(4);
    expect(randIndex(chosen.labels, truth)).toBe(1);
    const at = (k: number) => chosen.tried.find((t) => t.k === k)!.silhouette;
    expect(at(4)).toBeGreaterThan(at(2));
    expect(at(4)).toBeGreaterThan(at(8));
    expect(chosen.silhouette).toBeGreaterThan(0.7);
  });

  it("silhouette is near 1 for tight far groups and near 0 for a random split of one blob", () => {
    const labels = truth;
    expect(silhouette(points, labels, 4)).toBeGreaterThan(0.7);
    const one = gaussianBlobs([[0, 0]], 100, 1, 7).points;
    const rand = seededRandom(1);
    const split = one.map(() => (rand() < 0.5 ? 0 : 1));
    expect(Math.abs(silhouette(one, split, 2))).toBeLessThan(0.1);
  });
});

describe("features and descriptions", () => {
  const rand = seededRandom(11);
  // Two kinds of customers: frequent big Shoes buyers without discounts, and one-off Socks buyers with discounts.
  const shoes: CustomerFeatures[] = Array.from({ length: 40 }, () => ({
    recencyDays: 10 + rand() * 20,
    orders: 6 + Math.floor(rand() * 3),
    netMinor: 60_000 + rand() * 20_000,
    spanDays: 0,
    typeShares: [0.85 + rand() * 0.1, 0.05],
    discountRate: 0,
    refundRate: 0,
  })).map((f) => ({ ...f, spanDays: 42 * (f.orders - 1) }));
  const socks: CustomerFeatures[] = Array.from({ length: 60 }, () => ({
    recencyDays: 200 + rand() * 100,
    orders: 1,
    netMinor: 2_000 + rand() * 1_000,
    spanDays: 0,
    typeShares: [0, 0.9 + rand() * 0.1],
    discountRate: 1,
    refundRate: 0,
  }));
  const all = [...shoes, ...socks];
  const vectors = all.map(featureVector);
  const scaling = fitScaling(vectors);
  const z = vectors.map((v) => standardise(v, scaling));

  it("log-scales RFM and standardises every column to mean 0, sd 1 (a constant column to 0)", () => {
    expect(featureVector(shoes[0]!)[1]).toBeCloseTo(Math.log1p(shoes[0]!.orders), 12);
    for (let j = 0; j < z[0]!.length; j++) {
      const mean = z.reduce((s, r) => s + r[j]!, 0) / z.length;
      const sd = Math.sqrt(z.reduce((s, r) => s + (r[j]! - mean) ** 2, 0) / z.length);
      expect(Math.abs(mean)).toBeLessThan(1e-9);
      const constant = vectors.every((v) => v[j] === vectors[0]![j]);
      expect(sd).toBeCloseTo(constant ? 0 : 1, 9);
    }
  });

  it("finds the two groups and describes each from its centroid", () => {
    const chosen = chooseClustering(z, { seed: 15 });
    expect(chosen.k).toBe(2);
    const shoeLabel = chosen.labels[0]!;
    expect(chosen.labels.slice(0, 40).every((l) => l === shoeLabel)).toBe(true);
    expect(chosen.labels.slice(40).every((l) => l !== shoeLabel)).toBe(true);
    const describe = (label: number) =>
      describeCluster({ centroid: chosen.centroids[label]!, productTypes: ["Shoes", "Socks"], figures: clusterFigures(all.filter((_, i) => chosen.labels[i] === label)) });
    expect(describe(shoeLabel)).toBe("spend high, order every 6 weeks, bought recently, mostly Shoes, rarely use discounts");
    expect(describe(1 - shoeLabel)).toBe("spend low, mostly one order, not seen lately, mostly Socks, often use discounts");
  });

  it("figures are the members' raw means", () => {
    const f = clusterFigures(shoes);
    expect(f.size).toBe(40);
    expect(f.meanGapDays).toBeCloseTo(42, 9);
    expect(f.meanNetMinor).toBeCloseTo(shoes.reduce((s, m) => s + m.netMinor, 0) / 40, 6);
  });
});
