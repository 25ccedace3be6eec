// A deterministic synthetic Shopify store of any size (10 to 1,000,000 customers).
//
// Same seed + size => identical output. Nothing is held for the whole store: every
// product, customer and order is rebuilt from its own random stream (prng.ts), and
// the chronological streams keep only compact heaps of "what happens next"
// (typed arrays, a few bytes per pending event), never the orders themselves.
//
// Shape of the store:
// - products with product types, variants and prices (most exist at the start, some
//   are added over time);
// - customers created over time (growth x seasonality x weekday), with country, email
//   marketing consent, and a few with ids above 2^53 (imported legacy accounts);
// - orders: a customer's first order at sign-up (most customers), then repeat orders
//   by buyer type (one-off, occasional, heavy); guest orders, test orders; line items
//   drawn from products by popularity; discounts, shipping;
// - each order's life: paid at creation, fulfilled days later, sometimes cancelled
//   (voided or fully refunded), sometimes refunded later (partially or fully).
//
// Records are domain-neutral (money in integer cents, ids as bigint, ISO times in UTC);
// webhook-payloads.ts turns them into Shopify 2026-07 webhook payloads.
import { Rng, pickCumulative } from "./prng";

export type StoreOptions = {
  seed: number;
  /** Number of customers, 10 to 1,000,000. */
  customers: number;
  /** First day of trading (UTC, inclusive). */
  start?: string;
  /** Last day of trading (UTC, exclusive). */
  end?: string;
  /**
   * The moment the store's history ends (ms or ISO): trading runs from `now` minus the
   * default span (3.5 years, the span of the fixed default dates) up to `now`, so the
   * newest orders are minutes to days old. Same seed + size + `now` => identical store.
   * Ignored when `end` is given.
   */
  now?: number | string;
  shopDomain?: string;
  /**
   * Scales repeat buying (default 1: about 1.9 orders per customer, a typical store). Repeat
   * buyers place `repeatFactor` times as many repeat orders, at gaps `repeatFactor` times
   * shorter; one-off buyers are unchanged. 4 gives about 5 orders per customer.
   */
  repeatFactor?: number;
};

export type GenVariant = { id: bigint; title: string; sku: string; priceCents: number; grams: number };
export type GenProduct = {
  id: bigint;
  index: number;
  title: string;
  handle: string;
  productType: string;
  vendor: string;
  tags: string[];
  status: "active";
  createdAt: string;
  updatedAt: string;
  variants: GenVariant[];
};

export type MarketingState = "subscribed" | "not_subscribed" | "unsubscribed" | "pending";
export type BuyerType = "none" | "one-off" | "occasional" | "heavy";
export type GenAddress = {
  id: bigint;
  address1: string;
  city: string;
  province: string;
  provinceCode: string;
  country: string;
  countryCode: string;
  zip: string;
  phone: string | null;
};
export type GenCustomer = {
  id: bigint;
  index: number;
  firstName: string;
  lastName: string;
  email: string;
  phone: string | null;
  locale: string;
  currency: "USD";
  state: "enabled" | "disabled";
  verifiedEmail: boolean;
  createdAt: string;
  updatedAt: string;
  address: GenAddress;
  emailMarketing: { state: MarketingState; optInLevel: "single_opt_in" | "confirmed_opt_in" | null; consentUpdatedAt: string | null };
  buyerType: BuyerType;
  tags: string[];
  note: string;
};

export type GenLineItem = {
  id: bigint;
  productId: bigint;
  variantId: bigint;
  title: string;
  variantTitle: string;
  sku: string;
  vendor: string;
  productType: string;
  quantity: number;
  unitPriceCents: number;
  grams: number;
};
export type GenRefund = {
  id: bigint;
  orderId: bigint;
  createdAt: string;
  note: string;
  kind: "partial" | "full";
  /** Refunded line quantities and amounts. */
  lines: { id: bigint; lineItemId: bigint; quantity: number; subtotalCents: number }[];
  shippingCents: number;
  amountCents: number;
  transactionId: bigint;
};
export type GenFulfillment = { id: bigint; orderId: bigint; createdAt: string; status: "success"; trackingNumber: string };
export type FinancialStatus = "paid" | "partially_refunded" | "refunded" | "voided";
export type GenOrder = {
  id: bigint;
  index: number;
  number: number;
  name: string;
  token: string;
  customerId: bigint | null;
  customerIndex: number | null;
  email: string;
  createdAt: string;
  updatedAt: string;
  test: boolean;
  sourceName: "web" | "pos" | "shopify_draft_order";
  currency: "USD";
  lines: GenLineItem[];
  subtotalCents: number;
  discountCents: number;
  discountCode: string | null;
  shippingCents: number;
  taxCents: number;
  totalCents: number;
  /** Life of the order (final state; events() replays it in time). */
  /** Billing and shipping address of a guest checkout (customer is null). */
  guestAddress: (GenAddress & { firstName: string; lastName: string }) | null;
  cancel: { at: string; reason: "customer" | "inventory" | "fraud"; mode: "voided" | "refunded" } | null;
  fulfillment: GenFulfillment | null;
  refunds: GenRefund[];
  financialStatus: FinancialStatus;
  tags: string[];
};

export type StoreEvent =
  | { kind: "product.created"; at: string; product: GenProduct }
  | { kind: "customer.created"; at: string; customer: GenCustomer }
  | { kind: "order.created"; at: string; order: GenOrder; customer: GenCustomer | null }
  | { kind: "order.fulfilled"; at: string; order: GenOrder; customer: GenCustomer | null }
  | { kind: "order.cancelled"; at: string; order: GenOrder; customer: GenCustomer | null }
  | { kind: "refund.created"; at: string; order: GenOrder; refund: GenRefund; customer: GenCustomer | null };

const DAY = 86_400_000;
const DEFAULT_START_MS = Date.parse("2023-01-01T00:00:00Z");
const DEFAULT_END_MS = Date.parse("2026-07-01T00:00:00Z");
const MAX_SAFE = 2n ** 53n;

// ------------------------------------------------------------------ vocabulary

const PRODUCT_TYPES = [
  { type: "Socks", nouns: ["Crew Sock", "Hiking Sock", "Ankle Sock", "Boot Sock"], price: [900, 2400] },
  { type: "Sweaters", nouns: ["Crewneck Sweater", "Cardigan", "Turtleneck", "Pullover"], price: [6900, 18900] },
  { type: "Hats", nouns: ["Beanie", "Watch Cap", "Bobble Hat"], price: [2200, 4800] },
  { type: "Scarves", nouns: ["Scarf", "Snood", "Wrap"], price: [2900, 8900] },
  { type: "Gloves", nouns: ["Gloves", "Mittens", "Fingerless Gloves"], price: [2400, 5900] },
  { type: "Blankets", nouns: ["Throw", "Blanket", "Travel Rug"], price: [8900, 24900] },
  { type: "Yarn", nouns: ["Yarn Skein", "Yarn Bundle", "Knitting Kit"], price: [1200, 6900] },
  { type: "Accessories", nouns: ["Wool Care Kit", "Lint Comb", "Cedar Blocks", "Gift Box"], price: [600, 3900] },
] as const;
const MATERIALS = ["Merino", "Alpaca", "Cashmere", "Lambswool", "Organic Cotton", "Mohair", "Yak", "Recycled Wool"];
const VENDORS = ["Northwind Knits", "Fjord & Fell", "Highland Mill", "Woolly Goods"];
const SIZES = ["S", "M", "L"];
const COLORS = ["Charcoal", "Oat", "Forest", "Navy", "Rust", "Cream"];

const FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Emma", "Farah", "Gus", "Hana", "Ivan", "Jade", "Kofi", "Lena", "Marco", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Uma", "Victor", "Wen", "Xavier", "Yara", "Zoe"];
const LAST = ["Silva", "Nguyen", "Smith", "Müller", "Dubois", "Kowalski", "Okafor", "Tanaka", "García", "Johansson", "Rossi", "Patel", "Brown", "Cohen", "Ivanova", "O'Brien"];
type Country = { code: string; name: string; weight: number; locale: string; places: [string, string, string, string][] };
const COUNTRIES: Country[] = [
  { code: "US", name: "United States", weight: 60, locale: "en-US", places: [["Portland", "Oregon", "OR", "97204"], ["Austin", "Texas", "TX", "73301"], ["Boston", "Massachusetts", "MA", "02108"], ["Denver", "Colorado", "CO", "80202"]] },
  { code: "CA", name: "Canada", weight: 10, locale: "en-CA", places: [["Toronto", "Ontario", "ON", "M5H 2N2"], ["Vancouver", "British Columbia", "BC", "V6B 1A1"], ["Montréal", "Quebec", "QC", "H2Y 1C6"]] },
  { code: "GB", name: "United Kingdom", weight: 10, locale: "en-GB", places: [["London", "England", "ENG", "EC1A 1BB"], ["Edinburgh", "Scotland", "SCT", "EH1 1YZ"]] },
  { code: "DE", name: "Germany", weight: 8, locale: "de", places: [["Berlin", "Berlin", "BE", "10115"], ["München", "Bavaria", "BY", "80331"]] },
  { code: "FR", name: "France", weight: 6, locale: "fr", places: [["Paris", "Île-de-France", "IDF", "75001"], ["Lyon", "Auvergne-Rhône-Alpes", "ARA", "69001"]] },
  { code: "AU", name: "Australia", weight: 6, locale: "en-AU", places: [["Sydney", "New South Wales", "NSW", "2000"], ["Melbourne", "Victoria", "VIC", "3000"]] },
];
const COUNTRY_WEIGHTS = COUNTRIES.map((c) => [c, c.weight] as const);
const STREETS = ["Market St", "High Street", "Main St", "King St", "Hauptstraße", "Rue de la Paix", "George St", "Elm Ave"];

// Month multipliers (Jan..Dec): quiet late winter, peak in November and December.
const SEASON = [0.8, 0.72, 0.85, 0.9, 0.95, 0.88, 0.82, 0.9, 0.97, 1.08, 1.55, 1.75];
// Weekday multipliers (Sun..Sat).
const WEEKDAY = [1.12, 0.95, 0.96, 0.98, 1.0, 1.02, 1.1];

// ------------------------------------------------------------------ helpers

export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const slug = (s: string) =>
  s
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/(^-|-$)/g, "");

/**
 * A binary min-heap of (time, a, b, c) tuples in typed arrays: the generator's only
 * growing state. Entries are numbers, never records.
 */
class EventHeap {
  private t = new Float64Array(1024);
  private a = new Float64Array(1024);
  private b = new Float64Array(1024);
  private c = new Float64Array(1024);
  size = 0;

  push(t: number, a: number, b: number, c: number) {
    if (this.size === this.t.length) this.grow();
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(t, a, p)) break;
      this.copy(p, i);
      i = p;
    }
    this.t[i] = t;
    this.a[i] = a;
    this.b[i] = b;
    this.c[i] = c;
  }

  peekTime(): number {
    return this.size > 0 ? this.t[0]! : Infinity;
  }

  pop(): [number, number, number, number] {
    const top: [number, number, number, number] = [this.t[0]!, this.a[0]!, this.b[0]!, this.c[0]!];
    const last = --this.size;
    if (last > 0) {
      const t = this.t[last]!;
      const a = this.a[last]!;
      const b = this.b[last]!;
      const c = this.c[last]!;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= last) break;
        const r = l + 1;
        const m = r < last && this.entryLess(r, this.t[l]!, this.a[l]!) ? r : l;
        if (!this.entryLess(m, t, a)) break;
        this.copy(m, i);
        i = m;
      }
      this.t[i] = t;
      this.a[i] = a;
      this.b[i] = b;
      this.c[i] = c;
    }
    return top;
  }

  /** (t, a) sorts before entry j. */
  private less(t: number, a: number, j: number): boolean {
    const tj = this.t[j]!;
    return t < tj || (t === tj && a < this.a[j]!);
  }

  /** Entry j sorts before (t, a). */
  private entryLess(j: number, t: number, a: number): boolean {
    const tj = this.t[j]!;
    return tj < t || (tj === t && this.a[j]! < a);
  }

  private copy(from: number, to: number) {
    this.t[to] = this.t[from]!;
    this.a[to] = this.a[from]!;
    this.b[to] = this.b[from]!;
    this.c[to] = this.c[from]!;
  }

  private grow() {
    const n = this.t.length * 2;
    for (const k of ["t", "a", "b", "c"] as const) {
      const next = new Float64Array(n);
      next.set(this[k]);
      this[k] = next;
    }
  }
}

// ------------------------------------------------------------------ the store

export class SyntheticStore {
  readonly seed: number;
  readonly customerCount: number;
  readonly shopDomain: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly productCount: number;
  private readonly days: number;
  /** cumulative new-customer weight per day boundary (length days+1). */
  private readonly cumulative: Float64Array;
  /** product popularity (cumulative weights). */
  private readonly productWeights: Float64Array;
  private readonly productCache = new Map<number, GenProduct>();

  readonly repeatFactor: number;

  constructor(options: StoreOptions) {
    if (!Number.isInteger(options.customers) || options.customers < 10 || options.customers > 1_000_000)
      throw new RangeError("customers must be an integer from 10 to 1,000,000");
    this.seed = options.seed >>> 0;
    this.customerCount = options.customers;
    this.repeatFactor = options.repeatFactor ?? 1;
    if (!(this.repeatFactor >= 1 && this.repeatFactor <= 20)) throw new RangeError("repeatFactor must be from 1 to 20");
    this.shopDomain = options.shopDomain ?? "crm-twin.myshopify.com";
    const nowMs = options.now === undefined ? undefined : typeof options.now === "number" ? options.now : Date.parse(options.now);
    if (nowMs !== undefined && !Number.isFinite(nowMs)) throw new RangeError("now must be a time");
    this.endMs = options.end !== undefined ? Date.parse(options.end) : nowMs !== undefined ? Math.floor(nowMs / 1000) * 1000 : DEFAULT_END_MS;
    this.startMs = options.start !== undefined ? Date.parse(options.start) : this.endMs - (DEFAULT_END_MS - DEFAULT_START_MS);
    if (!(this.endMs > this.startMs + 30 * DAY)) throw new RangeError("the store needs at least 30 days of trading");
    this.days = Math.floor((this.endMs - this.startMs) / DAY);
    this.cumulative = new Float64Array(this.days + 1);
    for (let d = 0; d < this.days; d++) {
      const date = new Date(this.startMs + d * DAY);
      const growth = 1 + (2 * d) / this.days;
      const bfcm = date.getUTCMonth() === 10 && date.getUTCDate() >= 24 && date.getUTCDate() <= 30 ? 2.2 : 1;
      this.cumulative[d + 1] = this.cumulative[d]! + growth * SEASON[date.getUTCMonth()]! * WEEKDAY[date.getUTCDay()]! * bfcm;
    }
    this.productCount = Math.max(12, Math.min(400, Math.round(Math.sqrt(this.customerCount) * 1.5)));
    this.productWeights = new Float64Array(this.productCount);
    let acc = 0;
    for (let i = 0; i < this.productCount; i++) {
      acc += 1 / Math.pow(i + 1, 0.9); // Zipf-like popularity
      this.productWeights[i] = acc;
    }
  }

  // ---------------------------------------------------------------- products

  product(index: number): GenProduct {
    const cached = this.productCache.get(index);
    if (cached) return cached;
    const r = Rng.for(this.seed, "product", index);
    const kind = PRODUCT_TYPES[index % PRODUCT_TYPES.length]!;
    const material = r.pick(MATERIALS);
    const noun = r.pick(kind.nouns);
    const title = `${material} ${noun}${index >= PRODUCT_TYPES.length * MATERIALS.length ? ` ${index}` : ""}`;
    const id = 8_000_000_000_000n + BigInt(index) * 4_099n + 17n;
    const base = r.int(kind.price[0] / 100, kind.price[1] / 100) * 100 - (r.chance(0.7) ? 5 : 0);
    // 70% of the catalogue exists before the store opens; the rest arrives over time.
    const createdMs =
      index < Math.ceil(this.productCount * 0.7)
        ? this.startMs - (1 + r.int(0, 180)) * DAY - r.int(0, DAY - 1)
        : this.startMs + Math.floor(((index - this.productCount * 0.7) / (this.productCount * 0.3)) * (this.endMs - this.startMs) * 0.9) + r.int(0, DAY - 1);
    const variantTitles =
      kind.type === "Accessories" || kind.type === "Yarn"
        ? ["Default Title"]
        : r.chance(0.5)
          ? SIZES.map((s) => `${s} / ${r.pick(COLORS)}`)
          : COLORS.slice(0, r.int(1, 3));
    const variants: GenVariant[] = variantTitles.map((vt, vi) => ({
      id: 44_000_000_000_000n + BigInt(index) * 16n + BigInt(vi),
      title: vt,
      sku: `${slug(kind.type).slice(0, 4).toUpperCase()}-${index}-${vi}`,
      priceCents: base + (vt.startsWith("L ") ? 500 : 0),
      grams: r.int(40, 1200),
    }));
    const product: GenProduct = {
      id,
      index,
      title,
      handle: `${slug(title)}-${index}`,
      productType: kind.type,
      vendor: r.pick(VENDORS),
      tags: [slug(material), slug(kind.type), ...(r.chance(0.2) ? ["bestseller"] : [])],
      status: "active",
      createdAt: iso(createdMs),
      updatedAt: iso(createdMs),
      variants,
    };
    if (this.productCache.size < 1000) this.productCache.set(index, product);
    return product;
  }

  *products(): Generator<GenProduct> {
    for (let i = 0; i < this.productCount; i++) yield this.product(i);
  }

  // ---------------------------------------------------------------- customers

  /** Day index on which customer `index` signs up (customers are numbered in sign-up order). */
  private customerDay(index: number): number {
    return pickCumulative(this.cumulative.subarray(1), (index + 0.5) / this.customerCount);
  }

  customerCreatedMs(index: number): number {
    const day = this.customerDay(index);
    const r = Rng.for(this.seed, "customer-time", index);
    // Daytime-weighted minute of the day; monotone in index within a day.
    const dayStart = this.startMs + day * DAY;
    const first = this.firstIndexOfDay(day);
    const next = this.firstIndexOfDay(day + 1);
    const slot = (index - first + r.next() * 0.9) / Math.max(1, next - first);
    const hour = 7 + slot * 16; // 07:00..23:00
    return dayStart + Math.floor(hour * 3_600_000);
  }

  private firstIndexOfDay(day: number): number {
    if (day <= 0) return 0;
    if (day >= this.days) return this.customerCount;
    const share = this.cumulative[day]! / this.cumulative[this.days]!;
    // The first index i whose (i+0.5)/N falls on or after this boundary.
    return Math.max(0, Math.ceil(share * this.customerCount - 0.5));
  }

  customer(index: number): GenCustomer {
    if (index < 0 || index >= this.customerCount) throw new RangeError(`no customer ${index}`);
    const r = Rng.for(this.seed, "customer", index);
    const firstName = r.pick(FIRST);
    const lastName = r.pick(LAST);
    const country = r.weighted(COUNTRY_WEIGHTS);
    const [city, province, provinceCode, zip] = r.pick(country.places);
    // Imported legacy accounts carry ids above 2^53 (about 1 in 40 customers).
    const legacy = index % 40 === 7;
    const id = legacy ? MAX_SAFE + 1_000_003n + BigInt(index) * 7n : 7_000_000_000_000n + BigInt(index) * 1_021n + 3n;
    const createdMs = this.customerCreatedMs(index);
    const marketing = r.weighted<MarketingState>([
      ["subscribed", 40],
      ["not_subscribed", 48],
      ["unsubscribed", 9],
      ["pending", 3],
    ]);
    const buyerType = r.weighted<BuyerType>([
      ["none", 15],
      ["one-off", 58],
      ["occasional", 23],
      ["heavy", 4],
    ]);
    const phone = r.chance(0.45) ? `+1${r.int(201, 989)}555${String(r.int(0, 9999)).padStart(4, "0")}` : null;
    const emailLocal = `${slug(firstName)}.${slug(lastName)}.${index}`;
    return {
      id,
      index,
      firstName,
      lastName,
      email: `${emailLocal}@example.com`,
      phone,
      locale: country.locale,
      currency: "USD",
      state: r.chance(0.3) ? "enabled" : "disabled",
      verifiedEmail: r.chance(0.9),
      createdAt: iso(createdMs),
      updatedAt: iso(createdMs),
      address: {
        id: legacy ? id + 11n : 9_000_000_000_000n + BigInt(index) * 13n,
        address1: `${r.int(1, 999)} ${r.pick(STREETS)}`,
        city,
        province,
        provinceCode,
        country: country.name,
        countryCode: country.code,
        zip,
        phone,
      },
      emailMarketing: {
        state: marketing,
        optInLevel: marketing === "subscribed" ? (r.chance(0.3) ? "confirmed_opt_in" : "single_opt_in") : null,
        consentUpdatedAt: marketing === "not_subscribed" ? null : iso(createdMs),
      },
      buyerType,
      tags: buyerType === "heavy" ? ["wholesale-interest"] : [],
      note: legacy ? "Imported from the legacy store" : r.pick(["Signed up at checkout", "Newsletter sign-up", "Created from a wholesale enquiry", "Signed up in store"]),
    };
  }

  /** Address details of a guest checkout (orders without a customer). */
  guestAddress(orderIndex: number): GenAddress & { firstName: string; lastName: string } {
    const r = Rng.for(this.seed, "guest-address", orderIndex);
    const country = r.weighted(COUNTRY_WEIGHTS);
    const [city, province, provinceCode, zip] = r.pick(country.places);
    return {
      id: 0n,
      firstName: r.pick(FIRST),
      lastName: r.pick(LAST),
      address1: `${r.int(1, 999)} ${r.pick(STREETS)}`,
      city,
      province,
      provinceCode,
      country: country.name,
      countryCode: country.code,
      zip,
      phone: null,
    };
  }

  *customers(): Generator<GenCustomer> {
    for (let i = 0; i < this.customerCount; i++) yield this.customer(i);
  }

  /** Times of every order of a customer, from their own stream (first order at sign-up). */
  customerOrderTimes(index: number): number[] {
    const c = this.customer(index);
    if (c.buyerType === "none") return [];
    const r = Rng.for(this.seed, "customer-orders", index);
    const created = Date.parse(c.createdAt);
    const times = [created + r.int(2, 25) * 60_000];
    const baseExtra = c.buyerType === "one-off" ? 0 : c.buyerType === "occasional" ? r.int(1, 3) : r.int(5, 24);
    const extra = Math.round(baseExtra * this.repeatFactor);
    const meanGap = (c.buyerType === "heavy" ? 24 * DAY : 110 * DAY) / this.repeatFactor;
    let t = times[0]!;
    for (let k = 0; k < extra; k++) {
      t += Math.max(DAY, Math.floor(r.exponential(meanGap)));
      if (t >= this.endMs) break;
      times.push(t);
    }
    return times.filter((x) => x < this.endMs);
  }

  // ---------------------------------------------------------------- orders

  /**
   * Orders in creation order. `index` is the order's position in that order; every
   * order is rebuilt from (index, customer, time) alone.
   */
  *orders(): Generator<GenOrder> {
    for (const slot of this.orderSlots()) yield this.order(slot.index, slot.customerIndex, slot.at);
  }

  /** Creation slots (index, customer, time) in time order: first orders, repeat orders, guest orders. */
  *orderSlots(): Generator<{ index: number; customerIndex: number | null; at: number }> {
    // Heap entries: (time, push sequence, who, k) where who >= 0 is a customer index
    // (k = which of their orders) and who < 0 is guest -(who+1).
    const heap = new EventHeap();
    let pushes = 0;
    const guestCount = Math.round(this.customerCount * 0.12); // about 6% of orders
    const guestDay = (g: number) => pickCumulative(this.cumulative.subarray(1), (g + Rng.for(this.seed, "guest", g).next()) / guestCount);
    let nextCustomer = 0;
    let nextGuest = 0;
    let index = 0;
    for (;;) {
      const top = heap.peekTime();
      const lbCustomer = nextCustomer < this.customerCount ? this.customerCreatedMs(nextCustomer) : Infinity;
      const lbGuest = nextGuest < guestCount ? this.startMs + guestDay(nextGuest) * DAY : Infinity;
      if (lbCustomer !== Infinity && lbCustomer <= top && lbCustomer <= lbGuest) {
        const times = this.customerOrderTimes(nextCustomer);
        if (times.length > 0) heap.push(times[0]!, pushes++, nextCustomer, 0);
        nextCustomer++;
        continue;
      }
      if (lbGuest !== Infinity && lbGuest <= top) {
        const r = Rng.for(this.seed, "guest-time", nextGuest);
        heap.push(lbGuest + r.int(7 * 3_600_000, 23 * 3_600_000), pushes++, -(nextGuest + 1), 0);
        nextGuest++;
        continue;
      }
      if (top === Infinity) return;
      const [at, , who, k] = heap.pop();
      if (who >= 0) {
        const times = this.customerOrderTimes(who);
        if (k + 1 < times.length) heap.push(times[k + 1]!, pushes++, who, k + 1);
        yield { index: index++, customerIndex: who, at };
      } else {
        yield { index: index++, customerIndex: null, at };
      }
    }
  }

  order(index: number, customerIndex: number | null, atMs: number): GenOrder {
    const r = Rng.for(this.seed, "order", index);
    const customer = customerIndex === null ? null : this.customer(customerIndex);
    const id = 6_000_000_000_000n + BigInt(index) * 1_031n + 5n;
    const lineCount = r.weighted([
      [1, 55],
      [2, 28],
      [3, 12],
      [4, 5],
    ] as const);
    const lines: GenLineItem[] = [];
    const used = new Set<number>();
    for (let l = 0; l < lineCount; l++) {
      let pi = pickCumulative(this.productWeights, r.next());
      let product = this.product(pi);
      if (Date.parse(product.createdAt) > atMs) {
        pi = pi % Math.ceil(this.productCount * 0.7);
        product = this.product(pi);
      }
      if (used.has(pi)) continue;
      used.add(pi);
      const v = r.pick(product.variants);
      lines.push({
        id: 15_000_000_000_000n + BigInt(index) * 8n + BigInt(l),
        productId: product.id,
        variantId: v.id,
        title: product.title,
        variantTitle: v.title,
        sku: v.sku,
        vendor: product.vendor,
        productType: product.productType,
        quantity: r.weighted([
          [1, 75],
          [2, 18],
          [3, 7],
        ] as const),
        unitPriceCents: v.priceCents,
        grams: v.grams,
      });
    }
    const subtotalBeforeDiscount = lines.reduce((s, l) => s + l.unitPriceCents * l.quantity, 0);
    const discountCode = r.chance(0.15) ? r.pick(["WELCOME10", "WINTER15", "LOYAL20"]) : null;
    const discountPct = discountCode === "WINTER15" ? 15 : discountCode === "LOYAL20" ? 20 : discountCode ? 10 : 0;
    const discountCents = Math.round((subtotalBeforeDiscount * discountPct) / 100);
    const subtotalCents = subtotalBeforeDiscount - discountCents;
    const shippingCents = subtotalCents >= 7500 ? 0 : 795;
    const taxCents = 0;
    const totalCents = subtotalCents + shippingCents + taxCents;
    const test = r.chance(0.01);

    // Life of the order.
    let cancel: GenOrder["cancel"] = null;
    let fulfillment: GenFulfillment | null = null;
    const refunds: GenRefund[] = [];
    let financialStatus: FinancialStatus = "paid";
    let updatedMs = atMs;
    if (r.chance(0.03)) {
      const at = atMs + r.int(10, 36 * 60) * 60_000;
      const mode = r.chance(0.5) ? "voided" : "refunded";
      const reason = r.weighted([["customer", 70], ["inventory", 20], ["fraud", 10]] as const);
      // A cancellation after the end of the history has not happened yet.
      if (at < this.endMs) {
        cancel = { at: iso(at), reason, mode };
        financialStatus = mode;
        updatedMs = at;
        if (mode === "refunded") refunds.push(this.refund(r, id, lines, shippingCents, totalCents, at, "full", 0));
      }
    } else {
      const fAt = atMs + r.int(12, 96) * 3_600_000;
      if (fAt < this.endMs) {
        fulfillment = { id: 5_100_000_000_000n + BigInt(index) * 3n, orderId: id, createdAt: iso(fAt), status: "success", trackingNumber: `1Z${r.hex(12).toUpperCase()}` };
        updatedMs = fAt;
      }
      if (r.chance(0.08)) {
        const rAt = (fulfillment ? Date.parse(fulfillment.createdAt) : atMs) + r.int(3, 30) * DAY;
        if (rAt < this.endMs) {
          const kind = r.chance(0.6) ? "partial" : "full";
          const refund = this.refund(r, id, lines, shippingCents, totalCents, rAt, kind, 0);
          refunds.push(refund);
          financialStatus = refund.amountCents >= totalCents ? "refunded" : "partially_refunded";
          updatedMs = rAt;
        }
      }
    }
    const number = 1001 + index;
    return {
      id,
      index,
      number,
      name: `#${number}`,
      token: r.hex(32),
      customerId: customer?.id ?? null,
      customerIndex,
      email: customer?.email ?? `guest.${index}@example.net`,
      guestAddress: customer ? null : this.guestAddress(index),
      createdAt: iso(atMs),
      updatedAt: iso(updatedMs),
      test,
      sourceName: r.weighted([["web", 88], ["pos", 9], ["shopify_draft_order", 3]] as const),
      currency: "USD",
      lines,
      subtotalCents,
      discountCents,
      discountCode,
      shippingCents,
      taxCents,
      totalCents,
      cancel,
      fulfillment,
      refunds,
      financialStatus,
      tags: test ? ["test-order"] : [],
    };
  }

  private refund(
    r: Rng,
    orderId: bigint,
    lines: GenLineItem[],
    shippingCents: number,
    totalCents: number,
    atMs: number,
    kind: "partial" | "full",
    seq: number,
  ): GenRefund {
    const id = orderId * 2n + 1_000_000_000_000n + BigInt(seq);
    const refundLines =
      kind === "full"
        ? lines.map((l, i) => ({ id: id * 4n + BigInt(i), lineItemId: l.id, quantity: l.quantity, subtotalCents: l.unitPriceCents * l.quantity }))
        : [lines[r.int(0, lines.length - 1)]!].map((l) => {
            const q = r.int(1, l.quantity);
            return { id: id * 4n, lineItemId: l.id, quantity: q, subtotalCents: l.unitPriceCents * q };
          });
    const lineTotal = refundLines.reduce((s, l) => s + l.subtotalCents, 0);
    // A full refund returns what was paid (after discount, with shipping); a partial one
    // returns the lines' share of the discounted subtotal.
    const amountCents = kind === "full" ? totalCents : Math.min(totalCents, lineTotal);
    return {
      id,
      orderId,
      createdAt: iso(atMs),
      note: kind === "full" ? "Returned" : r.pick(["Damaged in transit", "Wrong size", "Changed mind"]),
      kind,
      lines: refundLines,
      shippingCents: kind === "full" ? shippingCents : 0,
      amountCents,
      transactionId: id + 77n,
    };
  }

  // ---------------------------------------------------------------- events

  /**
   * Everything that happens in the store, in time order: products and customers
   * created, orders created (paid), fulfilled, cancelled and refunded. Pending
   * follow-ups are kept as numbers in a heap and their orders rebuilt when due.
   */
  *events(): Generator<StoreEvent> {
    const pending = new EventHeap(); // (time, sequence, orderIndex, kind)
    const orderSlots = new Map<number, { customerIndex: number | null; at: number; remaining: number; order?: GenOrder }>();
    const KIND_FULFILLED = 1;
    const KIND_CANCELLED = 2;
    const KIND_REFUND = 3;
    let seq = 0;
    let nextProduct = 0;
    const productsByTime = [...Array(this.productCount).keys()].sort(
      (a, b) => Date.parse(this.product(a).createdAt) - Date.parse(this.product(b).createdAt) || a - b,
    );
    let nextCustomer = 0;
    const slots = this.orderSlots();
    let slot = slots.next();
    for (;;) {
      const tProduct = nextProduct < productsByTime.length ? Date.parse(this.product(productsByTime[nextProduct]!).createdAt) : Infinity;
      const tCustomer = nextCustomer < this.customerCount ? this.customerCreatedMs(nextCustomer) : Infinity;
      const tOrder = slot.done ? Infinity : slot.value.at;
      const tPending = pending.peekTime();
      const t = Math.min(tProduct, tCustomer, tOrder, tPending);
      if (t === Infinity) return;
      if (t === tProduct) {
        const p = this.product(productsByTime[nextProduct++]!);
        yield { kind: "product.created", at: p.createdAt, product: p };
      } else if (t === tCustomer) {
        const c = this.customer(nextCustomer++);
        yield { kind: "customer.created", at: c.createdAt, customer: c };
      } else if (t === tOrder && !slot.done) {
        const s = slot.value;
        const order = this.order(s.index, s.customerIndex, s.at);
        const customer = s.customerIndex === null ? null : this.customer(s.customerIndex);
        const followUps: [number, number][] = [];
        if (order.cancel) followUps.push([Date.parse(order.cancel.at), KIND_CANCELLED]);
        if (order.fulfillment) followUps.push([Date.parse(order.fulfillment.createdAt), KIND_FULFILLED]);
        order.refunds.forEach((rf, i) => followUps.push([Date.parse(rf.createdAt), KIND_REFUND + i * 8]));
        // Keep the order object for its follow-ups while few are pending; rebuild it otherwise.
        if (followUps.length > 0)
          orderSlots.set(s.index, { customerIndex: s.customerIndex, at: s.at, remaining: followUps.length, order: orderSlots.size < 20_000 ? order : undefined });
        for (const [ft, kind] of followUps) pending.push(ft, seq++, s.index, kind);
        yield { kind: "order.created", at: order.createdAt, order, customer };
        slot = slots.next();
      } else {
        const [, , orderIndex, kind] = pending.pop();
        const s = orderSlots.get(orderIndex)!;
        const order = s.order ?? this.order(orderIndex, s.customerIndex, s.at);
        const customer = s.customerIndex === null ? null : this.customer(s.customerIndex);
        if (kind === KIND_FULFILLED) yield { kind: "order.fulfilled", at: order.fulfillment!.createdAt, order, customer };
        else if (kind === KIND_CANCELLED) yield { kind: "order.cancelled", at: order.cancel!.at, order, customer };
        else {
          const refund = order.refunds[(kind - KIND_REFUND) / 8]!;
          yield { kind: "refund.created", at: refund.createdAt, order, refund, customer };
        }
        if (--s.remaining === 0) orderSlots.delete(orderIndex);
      }
    }
  }
}

export function generateStore(options: StoreOptions): SyntheticStore {
  return new SyntheticStore(options);
}
