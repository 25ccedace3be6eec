// A small seeded PRNG for the twin's store generator. Every entity draws from its own
// stream, derived from (seed, kind, index), so any customer or order can be rebuilt
// on its own without replaying the whole store: that is what keeps the generator
// lazy and deterministic at 1,000,000 customers.

/** 32-bit avalanche mix (murmur3 fmix32). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

/** Mix any number of integers (each taken modulo 2^53) into a 32-bit seed. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    const lo = p >>> 0;
    const hi = Math.floor(p / 2 ** 32) >>> 0;
    h = fmix32(h ^ lo) + 0x6d2b79f5;
    h = fmix32(h ^ hi);
  }
  return h >>> 0;
}

/** Random stream: mulberry32 plus the helpers the generator needs. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  static for(seed: number, kind: string, index: number): Rng {
    return new Rng(mixSeed(seed, hashString(kind), index));
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Pick by weights given as [item, weight] pairs. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items[items.length - 1]![0];
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** 16 lowercase hex characters. */
  hex(length = 16): string {
    let s = "";
    while (s.length < length) s += Math.floor(this.next() * 0x100000000).toString(16).padStart(8, "0");
    return s.slice(0, length);
  }
}

/** Index into a cumulative-weights array (binary search for the first cum > r). */
export function pickCumulative(cumulative: Float64Array, r: number): number {
  const target = r * cumulative[cumulative.length - 1]!;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid]! > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
