// Differential test of the segment back ends: on random customers (with orders, line
// items, products, tags, addresses, consent and RFM groups) stored in a real PostgreSQL,
// and random valid segment texts covering every attribute, operator, date form, function,
// parameter and combinator, the compiled SQL selects exactly the customers the reference
// evaluator accepts. Also checks the SQL RFM recompute against the TypeScript one.
//
// Every run draws a new seed (printed on failure); reproduce with SEGMENTS_DIFF_SEED=<seed>.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeCustomerAggregates } from "../../app/domain/customers/aggregates";
import type { Condition } from "../../app/domain/segments/ast";
import { checkSegment } from "../../app/domain/segments/check";
import { calendarDayAt, shiftCalendarDay } from "../../app/domain/segments/dates";
import { createSegmentEvaluator, type SegmentCustomer, type SegmentOrder } from "../../app/domain/segments/evaluate";
import { ANNIVERSARY_OPERATORS } from "../../app/domain/segments/anniversary";
import { CUSTOMER_ACCOUNT_STATUSES, EMAIL_SUBSCRIPTION_STATUSES, FIELDS, NPS_GROUPS, PREDICTED_SPEND_TIERS, RFM_GROUPS, SMS_SUBSCRIPTION_STATUSES } from "../../app/domain/segments/fields";
import { FUNCTIONS, type ParameterDefinition } from "../../app/domain/segments/functions";
import { parseSegment } from "../../app/domain/segments/parser";
import { computeRfm, type RfmInput, type RfmResult } from "../../app/domain/segments/rfm";
import { compileSegmentFilter } from "../../app/domain/segments/sql";
import { recomputeShopRfm } from "../../app/services/segments/rfm.server";
import { createTestDatabase } from "../support/database";
import { Rng } from "../twin/prng";

const SEED = Number(process.env.SEGMENTS_DIFF_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CUSTOMERS = 300;
const QUERIES = 3000;
/** Segments compiled into one statement (UNION ALL), as the membership service does. */
const PER_STATEMENT = 10;

const SHOP = "diff-a.myshopify.com";
/** A second shop reusing the same customer gids: nothing of it may leak into SHOP's results. */
const OTHER_SHOP = "diff-b.myshopify.com";
const NOW = new Date(Date.UTC(2026, 5, 15, 10, 17, 23, 456));
const TIME_ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Pacific/Auckland", "America/Santiago", "Asia/Kathmandu"];
const CURRENCIES = ["USD", "JPY", "KWD"];
const DAY_MS = 86_400_000;

// ---- random store ----

const PRODUCTS = [
  { id: 101, type: "Shoes", tags: ["sale", "Summer"] },
  { id: 102, type: "shoes", tags: [] },
  { id: 103, type: "Hats", tags: ["SALE"] },
  { id: 104, type: null, tags: ["été"] },
  { id: 105, type: "Socks", tags: ["new", "sale"] },
  { id: 106, type: "Hats", tags: ["Été"] },
] as const;
/** Referenced by line items but never stored as products (the product sync lags). */
const UNKNOWN_PRODUCT = 999;
const TAGS = ["vip", "VIP", "wholesale", "Newsletter", "été", "ÉTÉ", "sale", "x'); DROP TABLE customers; --"];
const EMAILS = [null, "ana@gmail.com", "bo@GMAIL.com", "cy@example.org", "di@shop.example", "no-at-sign", "two@at@Shop.Example", "empty@"];
const COUNTRIES = ["US", "DE", "CA", "FR", "de"];
const CONSENT = [null, "subscribed", "not_subscribed", "PENDING", "unsubscribed", "redacted", "invalid"];
/** Loyalty tier names as merchants write them (null: a change that dropped the customer out of every tier). */
const TIERS = ["Gold", "gold", "Silver", "Été", "VIP Club", null];
/** Pending loyalty points become available after both NOW and the real clock (loyalty_points uses SQL now()). */
const FUTURE = new Date(Math.max(Date.now(), NOW.getTime()) + 400 * DAY_MS);

/** Places of addresses (issue 16): provinces as codes or names, cities as merchants and buyers type them. */
const PROVINCES = ["CA", "ON", "ny", null, "", "Île-de-France"];
const CITIES = ["Los Angeles", "los-angeles", "New York City", "Toronto", "Saint-Étienne", "X", null, ""];
const SMS = [null, "subscribed", "UNSUBSCRIBED", "pending", "not_subscribed", "redacted"];
const LOCALES = [null, "en", "fr-CA", "pt-BR", "EN", "en-US", "fr", "pt_BR"];

/** Account states as REST payloads (lower case) and GraphQL (upper case) write them. */
const ACCOUNT_STATES = [null, "enabled", "disabled", "invited", "declined", "ENABLED", "DISABLED"];

type StoredOrder = SegmentOrder & { gid: string; lines: { gid: string; productId: number | null; quantity: number }[] };
type StoredCustomer = {
  gid: string;
  email: string | null;
  tags: string[];
  /** Store an empty tag list as NULL (the column allows it). */
  nullTags: boolean;
  countryCode: string | null;
  province: string | null;
  city: string | null;
  addresses: unknown;
  sms: string | null;
  locale: string | null;
  birthDate: string | null;
  /** Checkouts: abandoned unless completed or turned into an order. */
  checkouts: { updatedAt: Date | null; completed: boolean; ordered: boolean }[];
  consent: string | null;
  accountState: string | null;
  createdAt: Date | null;
  deleted: boolean;
  redacted: boolean;
  orders: StoredOrder[];
  /** Feedback answers in insertion order (ids ascend with it); cases by status. */
  responses: { nps: number; submittedAt: Date; anonymous: boolean }[];
  cases: { status: "open" | "resolved"; response: number }[];
  ledger: { points: number; availableAt: Date }[];
  /** Tier changes in insertion order: the last one is the customer's tier. */
  tiers: (string | null)[];
  /** A row of customer_predictions, or none (no prediction: every prediction attribute has no value). */
  prediction: { clvMinor: bigint; churnRisk: number; expectedNextOrderAt: Date | null; spendTier: string } | null;
};

/** An instant near `NOW`, sometimes exactly at (or a millisecond off) midnight in one of the zones. */
function randomInstant(rng: Rng): Date {
  const base = NOW.getTime() - rng.int(-40, 800) * DAY_MS;
  if (rng.chance(0.3)) {
    const zone = rng.pick(TIME_ZONES);
    const day = calendarDayAt(new Date(base), zone);
    const [y, m, d] = day.split("-").map(Number) as [number, number, number];
    // Midnight in the zone: find the UTC instant whose local day starts there (search by hour offsets).
    const utcMidnight = Date.UTC(y, m - 1, d);
    for (let offsetMinutes = -14 * 60; offsetMinutes <= 14 * 60; offsetMinutes += 15) {
      const candidate = utcMidnight + offsetMinutes * 60_000;
      if (calendarDayAt(new Date(candidate), zone) === day && calendarDayAt(new Date(candidate - 1), zone) !== day) {
        return new Date(candidate + rng.pick([-1, 0, 0, 1]));
      }
    }
  }
  return new Date(base + rng.int(0, DAY_MS - 1));
}

function randomCustomer(rng: Rng, index: number, shopIndex: number): StoredCustomer {
  const gid = `gid://shopify/Customer/${1000 + index}`;
  const orders: StoredOrder[] = [];
  const orderCount = rng.weighted([
    [0, 30],
    [1, 30],
    [2, 15],
    [3, 10],
    [5, 10],
    [8, 5],
  ] as const);
  for (let o = 0; o < orderCount; o++) {
    const lines: StoredOrder["lines"] = [];
    for (let l = 0, n = rng.int(0, 3); l < n; l++) {
      const productId = rng.weighted([
        [null, 1],
        [UNKNOWN_PRODUCT, 1],
        ...PRODUCTS.map((p) => [p.id, 3] as const),
      ] as const);
      lines.push({ gid: `gid://shopify/LineItem/${shopIndex}${String(index).padStart(4, "0")}${o}${l}`, productId, quantity: rng.weighted([[0, 1], [1, 6], [2, 3], [3, 1], [4, 1]] as const) });
    }
    const totalPriceMinor = BigInt(rng.pick([0, 1, 999, 1000, 5050, 10000, 10050, 25000]) + rng.int(0, 3) * rng.int(0, 40000));
    const refundedMinor = rng.chance(0.25) ? (totalPriceMinor * BigInt(rng.int(0, 100))) / 100n : 0n;
    orders.push({
      gid: `gid://shopify/Order/${shopIndex}${String(index).padStart(4, "0")}${o}`,
      createdAt: randomInstant(rng),
      cancelled: rng.chance(0.1),
      test: rng.chance(0.05),
      totalPriceMinor,
      refundedMinor,
      lines,
      lineItems: lines.map((line) => {
        const product = PRODUCTS.find((p) => p.id === line.productId);
        return {
          productId: line.productId === null ? null : `gid://shopify/Product/${line.productId}`,
          productType: product?.type ?? null,
          productTags: product ? [...product.tags] : [],
          quantity: line.quantity,
        };
      }),
    });
  }
  const addresses = rng.weighted<unknown>([
    [[], 2],
    [Array.from({ length: rng.int(1, 3) }, () => ({ countryCode: rng.chance(0.9) ? rng.pick(COUNTRIES) : null, province: rng.pick(PROVINCES), city: rng.pick(CITIES) })), 6],
    [null, 1],
    [{ countryCode: "ZZ" }, 1], // not a list: holds no country
  ]);
  return {
    gid,
    email: rng.pick(EMAILS),
    tags: [...new Set(Array.from({ length: rng.int(0, 3) }, () => rng.pick(TAGS)))],
    nullTags: rng.chance(0.3),
    countryCode: rng.chance(0.8) ? rng.pick(COUNTRIES) : null,
    province: rng.pick(PROVINCES),
    city: rng.pick(CITIES),
    addresses,
    sms: rng.pick(SMS),
    locale: rng.pick(LOCALES),
    birthDate: randomBirthDate(rng),
    checkouts: Array.from({ length: rng.weighted([[0, 3], [1, 2], [3, 1]] as const) }, () => ({
      updatedAt: rng.chance(0.95) ? randomInstant(rng) : null,
      completed: rng.chance(0.2),
      ordered: rng.chance(0.2),
    })),
    consent: rng.pick(CONSENT),
    accountState: rng.pick(ACCOUNT_STATES),
    createdAt: rng.chance(0.9) ? randomInstant(rng) : null,
    deleted: rng.chance(0.03),
    redacted: rng.chance(0.03),
    orders,
    ...randomAppData(rng),
    prediction: randomPrediction(rng),
  };
}

/** Predictions as the refit writes them: often none, values on the probed bounds, churn risks that are not short decimals. */
function randomPrediction(rng: Rng): StoredCustomer["prediction"] {
  if (rng.chance(0.3)) return null;
  return {
    clvMinor: BigInt(rng.pick([0, 1, 999, 1000, 5050, 10000, 25000]) + rng.int(0, 2) * rng.int(0, 40000)),
    churnRisk: rng.chance(0.3) ? rng.pick([0, 0.1, 0.25, 0.5, 0.7, 1]) : rng.int(0, 1_000_000) / 1_000_003,
    expectedNextOrderAt: rng.chance(0.15) ? null : randomInstant(rng),
    spendTier: rng.pick(["HIGH", "MEDIUM", "LOW"]),
  };
}

/**
 * The customer's latest abandoned checkout: the apply step keeps customers.abandoned_checkout_at
 * so (tests/integration/segments-customer-facts.test.ts); here both back ends read the value.
 */
function latestAbandoned(c: StoredCustomer): Date | null {
  return c.checkouts
    .filter((k) => !k.completed && !k.ordered && k.updatedAt !== null)
    .reduce<Date | null>((latest, k) => (latest === null || k.updatedAt!.getTime() > latest.getTime() ? k.updatedAt : latest), null);
}

/** A birth date, often within weeks of NOW's month and day (some year), sometimes 29 February or none. */
function randomBirthDate(rng: Rng): string | null {
  if (rng.chance(0.25)) return null;
  if (rng.chance(0.1)) return rng.pick(["2000-02-29", "1996-02-29", "1990-02-28", "1985-03-01", "1970-12-31", "1999-01-01"]);
  const day = new Date(NOW.getTime() + rng.int(-60, 60) * DAY_MS);
  return `${rng.int(1940, 2010)}-${String(day.getUTCMonth() + 1).padStart(2, "0")}-${String(Math.min(day.getUTCDate(), 28)).padStart(2, "0")}`;
}

/** Feedback and loyalty rows (app data for the APP_FIELDS attributes). */
function randomAppData(rng: Rng): Pick<StoredCustomer, "responses" | "cases" | "ledger" | "tiers"> {
  const responses: StoredCustomer["responses"] = [];
  const count = rng.weighted([[0, 4], [1, 3], [2, 2], [4, 1]] as const);
  for (let i = 0; i < count; i++) {
    // Sometimes two answers submitted at the same instant: the later stored one is the latest.
    const submittedAt = i > 0 && rng.chance(0.2) ? responses[i - 1]!.submittedAt : randomInstant(rng);
    responses.push({ nps: rng.int(0, 10), submittedAt, anonymous: rng.chance(0.1) });
  }
  const cases: StoredCustomer["cases"] = responses.flatMap((_, i) => (rng.chance(0.3) ? [{ status: rng.pick(["open", "resolved"] as const), response: i }] : []));
  const ledger = Array.from({ length: rng.weighted([[0, 3], [1, 2], [3, 2], [6, 1]] as const) }, () => ({
    points: rng.pick([10, 50, 100, 250, -30, -100, 1000]) * rng.int(1, 3),
    availableAt: rng.chance(0.2) ? FUTURE : new Date(NOW.getTime() - rng.int(0, 500) * DAY_MS),
  }));
  const tiers = Array.from({ length: rng.weighted([[0, 3], [1, 2], [2, 1]] as const) }, () => rng.pick(TIERS));
  return { responses, cases, ledger, tiers };
}

function toSegmentCustomer(c: StoredCustomer, rfmGroup: string | null): SegmentCustomer {
  const aggregates = computeCustomerAggregates({ orders: c.orders });
  const countryCodes = [c.countryCode, ...(Array.isArray(c.addresses) ? c.addresses.map((a: { countryCode: string | null }) => a.countryCode) : [])];
  return {
    gid: c.gid,
    email: c.email,
    tags: c.tags,
    countryCodes: countryCodes.filter((code): code is string => code !== null),
    emailMarketingState: c.consent,
    accountState: c.accountState,
    places: [
      { countryCode: c.countryCode, province: c.province, city: c.city },
      ...(Array.isArray(c.addresses) ? (c.addresses as { countryCode: string | null; province?: string | null; city?: string | null }[]).map((a) => ({ countryCode: a.countryCode, province: a.province ?? null, city: a.city ?? null })) : []),
    ],
    smsMarketingState: c.sms,
    locale: c.locale,
    birthDate: c.birthDate,
    abandonedCheckoutAt: latestAbandoned(c),
    rfmGroup,
    createdAt: c.createdAt,
    ...aggregates,
    orders: c.orders,
    prediction: c.prediction,
    ...referenceAppData(c),
  };
}

/** What the evaluator's customer holds of the app data, computed here independently of the SQL. */
function referenceAppData(c: StoredCustomer): Pick<SegmentCustomer, "feedback" | "loyalty"> {
  // Anonymous (erased) responses have no customer any more.
  const own = c.responses.map((r, index) => ({ ...r, index })).filter((r) => !r.anonymous);
  let latest: (typeof own)[number] | null = null;
  for (const r of own) if (!latest || r.submittedAt.getTime() >= latest.submittedAt.getTime()) latest = r;
  return {
    feedback: {
      lastNps: latest?.nps ?? null,
      count: own.length,
      lastAt: latest?.submittedAt ?? null,
      openCase: c.cases.some((k) => k.status === "open" && !c.responses[k.response]!.anonymous),
    },
    loyalty: {
      points: c.ledger.filter((e) => e.availableAt.getTime() <= NOW.getTime()).reduce((sum, e) => sum + BigInt(e.points), 0n),
      tier: c.tiers.length ? (c.tiers[c.tiers.length - 1] ?? null) : null,
    },
  };
}

async function insertRows(client: pg.Client, table: string, columns: string[], rows: unknown[][]): Promise<void> {
  const perStatement = Math.floor(30_000 / columns.length);
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const values: unknown[] = [];
    const tuples = chunk.map((row) => `(${row.map((v) => `$${values.push(v)}`).join(", ")})`);
    await client.query(`INSERT INTO ${table} (${columns.join(", ")}) VALUES ${tuples.join(", ")}`, values);
  }
}

async function storeShop(client: pg.Client, shop: string, customers: StoredCustomer[]): Promise<void> {
  await insertRows(
    client,
    "customers",
    ["shop", "gid", "email", "tags", "country_code", "province", "city", "addresses", "email_marketing_state", "state", "shopify_created_at", "deleted_at", "redacted_at",
      "orders_count", "total_spent_minor", "refunded_minor", "aov_minor", "first_order_at", "last_order_at", "sms_marketing_state", "locale", "birth_date", "abandoned_checkout_at"],
    customers.map((c) => {
      const a = computeCustomerAggregates({ orders: c.orders });
      return [shop, c.gid, c.email, c.tags.length === 0 && c.nullTags ? null : c.tags, c.countryCode, c.province, c.city, JSON.stringify(c.addresses), c.consent, c.accountState, c.createdAt, c.deleted ? NOW : null, c.redacted ? NOW : null,
        a.ordersCount, a.totalSpentMinor.toString(), a.refundedMinor.toString(), a.aovMinor.toString(), a.firstOrderAt, a.lastOrderAt, c.sms, c.locale, c.birthDate,
        latestAbandoned(c)];
    }),
  );
  await insertRows(
    client,
    "checkouts",
    ["shop", "token", "customer_gid", "shopify_updated_at", "completed_at", "order_gid"],
    customers.flatMap((c) => c.checkouts.map((k, i) => [shop, `${c.gid}#${i}`, c.gid, k.updatedAt, k.completed ? NOW : null, k.ordered ? `gid://shopify/Order/k${i}` : null])),
  );
  const orders = customers.flatMap((c) => c.orders.map((o) => ({ c, o })));
  await insertRows(
    client,
    "orders",
    ["shop", "gid", "legacy_id", "customer_gid", "currency", "total_price_minor", "refunded_minor", "cancelled_at", "test", "shopify_created_at", "shopify_updated_at"],
    orders.map(({ c, o }) => [shop, o.gid, o.gid.split("/").pop(), c.gid, "USD", o.totalPriceMinor.toString(), o.refundedMinor.toString(), o.cancelled ? o.createdAt : null, o.test, o.createdAt, o.createdAt]),
  );
  // App data: feedback responses (ids ascend in insertion order), their cases, ledger entries, tier changes.
  const responses = customers.flatMap((c) => c.responses.map((r, i) => ({ c, r, i })));
  const { rows: ids } = await client.query<{ id: string }>(
    `INSERT INTO feedback_responses (shop, customer_gid, nps, submitted_at)
     SELECT $1, g, n, t FROM unnest($2::text[], $3::int[], $4::timestamptz[]) WITH ORDINALITY AS u(g, n, t, o) ORDER BY o RETURNING id::text AS id`,
    [shop, responses.map(({ c, r }) => (r.anonymous ? null : c.gid)), responses.map(({ r }) => r.nps), responses.map(({ r }) => r.submittedAt)],
  );
  const responseId = new Map(responses.map(({ c, i }, k) => [`${c.gid}#${i}`, ids[k]!.id]));
  await insertRows(
    client,
    "feedback_cases",
    ["shop", "response_id", "customer_gid", "reasons", "status"],
    customers.flatMap((c) => c.cases.map((k) => [shop, responseId.get(`${c.gid}#${k.response}`), c.responses[k.response]!.anonymous ? null : c.gid, ["detractor"], k.status])),
  );
  await insertRows(
    client,
    "loyalty_ledger",
    ["shop", "customer_gid", "points", "kind", "status", "available_at", "occurred_at", "source", "reason", "idempotency_key"],
    customers.flatMap((c) =>
      c.ledger.map((e, i) => [shop, c.gid, e.points, e.points < 0 ? "redeem" : "earn", e.availableAt > NOW ? "pending" : "available", e.availableAt, NOW, "test", "differential", `diff:${c.gid}:${i}`]),
    ),
  );
  const withPrediction = customers.filter((c) => c.prediction !== null);
  await client.query(
    `INSERT INTO customer_predictions (shop, customer_id, model_id, p_alive, expected_orders_12m, predicted_clv_12m_minor, currency, expected_next_order_at, churn_risk, spend_tier, confidence, computed_at)
     SELECT $1, c.id, 1, 1 - u.risk, 1, u.clv, 'USD', u.next_at, u.risk, u.tier, 'medium', now()
       FROM unnest($2::text[], $3::bigint[], $4::float8[], $5::timestamptz[], $6::text[]) AS u(gid, clv, risk, next_at, tier)
       JOIN customers c ON c.shop = $1 AND c.gid = u.gid`,
    [
      shop, withPrediction.map((c) => c.gid), withPrediction.map((c) => c.prediction!.clvMinor.toString()), withPrediction.map((c) => c.prediction!.churnRisk),
      withPrediction.map((c) => c.prediction!.expectedNextOrderAt), withPrediction.map((c) => c.prediction!.spendTier),
    ],
  );
  for (const c of customers) {
    // One statement per change keeps the ids in the order of the list.
    for (const [i, tier] of c.tiers.entries()) {
      await client.query(
        `INSERT INTO loyalty_tier_changes (shop, customer_gid, from_tier, to_tier, metric, window_kind, value, program_version, cause) VALUES ($1, $2, $3, $4, 'points', 'lifetime', 0, 1, 'test')`,
        [shop, c.gid, i > 0 ? c.tiers[i - 1] : null, tier],
      );
    }
  }
  await insertRows(
    client,
    "line_items",
    ["shop", "gid", "order_gid", "product_gid", "title", "quantity", "price_minor"],
    orders.flatMap(({ o }) => o.lines.map((l) => [shop, l.gid, o.gid, l.productId === null ? null : `gid://shopify/Product/${l.productId}`, "Item", l.quantity, "100"])),
  );
}

// ---- random segment texts ----

type Coverage = Map<string, number>;

class QueryGenerator {
  constructor(
    private readonly rng: Rng,
    private readonly customers: readonly SegmentCustomer[],
    readonly coverage: Coverage,
  ) {}

  private mark(key: string): void {
    this.coverage.set(key, (this.coverage.get(key) ?? 0) + 1);
  }

  private cased(word: string): string {
    const r = this.rng.int(0, 2);
    return r === 0 ? word : r === 1 ? word.toUpperCase() : word.toLowerCase();
  }

  private quote(s: string): string {
    return `'${s.replaceAll("'", "''")}'`;
  }

  /** A date literal: absolute (often a day some customer's order falls on) or one of the relative forms. */
  date(zone: string, allowRelative = true, allowDateTime = true): string {
    const rng = this.rng;
    if (!allowRelative || rng.chance(0.45)) {
      this.mark("date:absolute");
      const someone = rng.pick(this.customers);
      const instant = someone.lastOrderAt ?? someone.createdAt ?? NOW;
      return shiftCalendarDay(calendarDayAt(instant, zone), rng.pick([-1, 0, 0, 0, 1]), "d");
    }
    if (allowDateTime && rng.chance(0.15)) {
      // A local date-time: often a second on either side of some customer's last order.
      this.mark("date:datetime");
      const someone = rng.pick(this.customers);
      const instant = new Date((someone.lastOrderAt ?? someone.createdAt ?? NOW).getTime() + rng.pick([-1000, 0, 0, 1000, 3_600_000]));
      const parts = Object.fromEntries(
        new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
          .formatToParts(instant)
          .map((p) => [p.type, p.value]),
      );
      return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
    }
    const form = rng.pick(["d", "w", "m", "y", "plus", "today", "yesterday", "ago", "named"] as const);
    this.mark(`date:${form}`);
    switch (form) {
      case "d":
        return `-${rng.pick([0, 1, 7, 30, 90, 365, 400])}d`;
      case "w":
        return `-${rng.int(0, 60)}w`;
      case "m":
        return `-${rng.int(0, 26)}${rng.pick(["m", "M"])}`;
      case "y":
        return `-${rng.int(0, 3)}y`;
      case "plus":
        return `+${rng.int(0, 45)}d`;
      case "today":
        return this.cased("today");
      case "yesterday":
        return this.cased("yesterday");
      case "ago":
        return `${rng.pick([0, 1, 30, 90, 200])}_days_ago`;
      case "named":
        return rng.pick(["7_days_ago", "12_months_ago", "2_weeks_ago", "1_year_ago", "3_MONTHS_AGO"]);
    }
  }

  private money(exponent: number): string {
    const rng = this.rng;
    if (rng.chance(0.3)) {
      // Exactly some customer's value, to probe equality and the bounds.
      const minor = rng.pick(this.customers).totalSpentMinor;
      const negative = minor < 0n;
      const digits = (negative ? -minor : minor).toString().padStart(exponent + 1, "0");
      return `${negative ? "-" : ""}${digits.slice(0, digits.length - exponent)}${exponent ? `.${digits.slice(digits.length - exponent)}` : ""}`;
    }
    return rng.pick(["0", "0.5", "1", "9.99", "10", "12.345", "50", "100", "100.5", "100.505", "250", "1000", "-5", "0.001"]);
  }

  private numberFor(attribute: string, exponent: number): string {
    switch (attribute) {
      case "nps_score":
        return this.rng.pick(["0", "5", "6", "6.5", "7", "8", "9", "10"]);
      case "feedback_count":
        return this.rng.pick(["0", "1", "2", "3", "4", "1.5"]);
      case "loyalty_points": {
        const someone = this.rng.pick(this.customers);
        return this.rng.chance(0.4) ? String(someone.loyalty?.points ?? 0n) : this.rng.pick(["0", "-50", "100", "250.5", "1000", "3000"]);
      }
      case "number_of_orders":
        return this.rng.pick(["0", "1", "2", "2.5", "3", "5", "8"]);
      case "refund_rate":
        return this.rng.pick(["0", "0.1", "0.25", "0.333", "0.5", "0.99", "1"]);
      case "churn_risk": {
        // Sometimes exactly some customer's stored risk (written with JavaScript's shortest round-trip digits).
        const someone = this.rng.pick(this.customers).prediction;
        return someone && this.rng.chance(0.3) ? String(someone.churnRisk) : this.rng.pick(["0", "0.1", "0.25", "0.5", "0.7", "0.999", "1"]);
      }
      case "predicted_clv": {
        const someone = this.rng.pick(this.customers).prediction;
        if (!someone || !this.rng.chance(0.3)) return this.money(exponent);
        const digits = someone.clvMinor.toString().padStart(exponent + 1, "0");
        return `${digits.slice(0, digits.length - exponent)}${exponent ? `.${digits.slice(digits.length - exponent)}` : ""}`;
      }
      default:
        return this.money(exponent);
    }
  }

  private ordered(a: string, b: string): [string, string] {
    return Number(a) <= Number(b) ? [a, b] : [b, a];
  }

  predicate(zone: string, exponent: number): string {
    const rng = this.rng;
    // Functions a fixed share of the time (they have many parameter and operator cases to
    // cover), however many attributes the catalogue has.
    if (rng.chance(0.04)) return this.anniversary(zone);
    const field = rng.chance(0.15) ? { ...rng.pick(FUNCTIONS), isFunction: true as const } : rng.pick(FIELDS);
    if ("isFunction" in field) return this.functionCall(field.name, zone, exponent);
    this.mark(`attr:${field.name}`);
    const op = rng.pick(field.operators);
    const operator = op === "IS NULL" ? rng.pick(["IS NULL", "IS NOT NULL"]) : op === "CONTAINS" ? rng.pick(["CONTAINS", "NOT CONTAINS"]) : op;
    this.mark(`op:${field.type.kind}:${operator}`);
    const name = field.name;
    const kw = (s: string) => s.split(" ").map((w) => this.cased(w)).join(" ");
    switch (field.type.kind) {
      case "number":
      case "money": {
        if (operator === "IS NULL" || operator === "IS NOT NULL") return `${name} ${kw(operator)}`;
        if (operator === "BETWEEN") {
          const [lo, hi] = this.ordered(this.numberFor(name, exponent), this.numberFor(name, exponent));
          return `${name} ${kw("BETWEEN")} ${lo} ${kw("AND")} ${hi}`;
        }
        return `${name} ${operator} ${this.numberFor(name, exponent)}`;
      }
      case "date": {
        if (operator === "IS NULL" || operator === "IS NOT NULL") return `${name} ${kw(operator)}`;
        if (operator === "BETWEEN") {
          let lo = this.date(zone);
          let hi = this.date(zone);
          if (/^\d{4}-/.test(lo) && /^\d{4}-/.test(hi) && lo > hi) [lo, hi] = [hi, lo];
          return `${name} ${kw("BETWEEN")} ${lo} ${kw("AND")} ${hi}`;
        }
        return `${name} ${operator} ${this.date(zone)}`;
      }
      case "stringList": {
        if (operator === "IS NULL" || operator === "IS NOT NULL") return `${name} ${kw(operator)}`;
        const pool =
          name === "customer_tags"
            ? [...TAGS, "VIP", "Sale", "absent"]
            : name === "customer_cities"
              ? ["US-CA-LosAngeles", "us-ca-los angeles", "CA-ON-Toronto", "US-Toronto", "FR-Île-de-France-Saint-Étienne", "DE-X", "de--x", "US-NY-NewYorkCity", "x"]
              : name === "customer_regions"
                ? ["US-CA", "ca-on", "US-NY", "FR-Île-de-France", "DE", "ZZ-ZZ", "de-ca"]
                : ["US", "de", "Ca", "fr", "ZZ", "JP"];
        return `${name} ${kw(operator)} ${this.quote(rng.pick(pool))}`;
      }
      case "string":
        if (operator === "IS NULL" || operator === "IS NOT NULL") return `${name} ${kw(operator)}`;
        if (name === "loyalty_tier") return `${name} ${operator} ${this.quote(rng.pick(["Gold", "GOLD", "silver", "Été", "été", "VIP Club", "Bronze", ""]))}`;
        if (name === "customer_language") return `${name} ${operator} ${this.quote(rng.pick(["en", "EN", "fr-CA", "fr-ca", "fr", "pt_br", "pt-BR", "", "de", "en-", "-"]))}`;
        return `${name} ${operator} ${this.quote(rng.pick(["gmail.com", "GMAIL.com", "example.org", "shop.example", "", "nomatch.test", "at@shop.example"]))}`;
      case "enum": {
        if (operator === "IS NULL" || operator === "IS NOT NULL") return `${name} ${kw(operator)}`;
        const values =
          name === "rfm_group"
            ? RFM_GROUPS
            : name === "customer_account_status"
              ? CUSTOMER_ACCOUNT_STATUSES
              : name === "nps_group"
                ? NPS_GROUPS
                : name === "sms_subscription_status"
                  ? SMS_SUBSCRIPTION_STATUSES
                  : name === "predicted_spend_tier"
                    ? PREDICTED_SPEND_TIERS
                    : EMAIL_SUBSCRIPTION_STATUSES;
        return `${name} ${operator} ${this.quote(this.cased(rng.pick(values)))}`;
      }
      case "boolean":
        return `${name} ${operator} ${rng.pick(["true", "false"])}`;
    }
  }

  /** `anniversary(...)` with one of its operators, on days (never date-times). */
  private anniversary(zone: string): string {
    const rng = this.rng;
    this.mark("attr:anniversary");
    const source = rng.pick(["date: 'metafields.facts.birth_date'", "date: 'facts.birth_date'", "'metafields.facts.birth_date'"]);
    const op = rng.pick(ANNIVERSARY_OPERATORS);
    const operator = op === "IS NULL" ? rng.pick(["IS NULL", "IS NOT NULL"]) : op;
    this.mark(`op:anniversary:${operator}`);
    const day = () => {
      // Often some customer's birthday in a nearby year, or a day off it.
      const birth = rng.chance(0.35) ? rng.pick(this.customers).birthDate : null;
      if (!birth) return this.date(zone, true, false);
      const year = rng.pick([2024, 2025, 2026, 2027]);
      const [, m, d] = birth.split("-").map(Number) as [number, number, number];
      const date = new Date(Date.UTC(year, m - 1, d + rng.pick([-1, 0, 0, 1])));
      return date.toISOString().slice(0, 10);
    };
    const call = `anniversary(${source})`;
    if (operator === "IS NULL" || operator === "IS NOT NULL") return `${call} ${operator}`;
    if (operator === "BETWEEN") {
      let lo = day();
      let hi = rng.chance(0.5) ? `+${rng.pick([0, 6, 7, 30, 200, 364, 365, 400])}d` : day();
      if (/^\d{4}-/.test(lo) && /^\d{4}-/.test(hi) && lo > hi) [lo, hi] = [hi, lo];
      if (rng.chance(0.5)) lo = this.cased("today");
      return `${call} ${this.cased("BETWEEN")} ${lo} ${this.cased("AND")} ${hi}`;
    }
    return `${call} ${operator} ${day()}`;
  }

  private shuffled(items: string[]): string[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.rng.int(0, i);
      [items[i], items[j]] = [items[j] as string, items[i] as string];
    }
    return items;
  }

  /** A value for a function parameter of a type. */
  private parameterValue(fn: string, parameter: string, zone: string, exponent: number): string {
    const rng = this.rng;
    switch (parameter) {
      case "product_type":
        return this.quote(this.cased(rng.pick(["Shoes", "hats", "Socks", "Gloves"])));
      case "id":
      case "product_id":
        return rng.pick(["101", "103", "105", "106", String(UNKNOWN_PRODUCT), "7", "101.5", "-3"]);
      case "tag":
        return this.quote(rng.pick(["sale", "SALE", "summer", "été", "ÉTÉ", "new", "none"]));
      case "quantity":
      case "sum_quantity":
        return rng.pick(["0", "1", "2", "2.5", "3", "6", "-1"]);
      case "count":
      case "count_at_least":
      case "count_at_most":
        return rng.pick(["0", "1", "2", "2.5", "3", "5", "-1"]);
      case "amount":
      case "sum_amount":
        return this.money(exponent);
      case "date":
        return this.date(zone);
      default:
        throw new Error(`no values for ${fn}.${parameter}`);
    }
  }

  /** `name op value` for a MATCHES parameter, with one of its operators. */
  private matchesParameter(fn: string, parameter: ParameterDefinition, zone: string, exponent: number): string {
    const rng = this.rng;
    const operator = rng.pick(parameter.operators);
    this.mark(`param:${fn}.${parameter.name}:${operator}`);
    const value = () => this.parameterValue(fn, parameter.name, zone, exponent);
    switch (operator) {
      case "BETWEEN": {
        let [lo, hi] = [value(), value()];
        if (parameter.type !== "date") [lo, hi] = this.ordered(lo, hi);
        else if (/^\d{4}-/.test(lo) && /^\d{4}-/.test(hi) && lo > hi) [lo, hi] = [hi, lo];
        return `${parameter.name} ${this.cased("BETWEEN")} ${lo} ${this.cased("AND")} ${hi}`;
      }
      case "IN":
      case "NOT IN":
        return `${parameter.name} ${operator.split(" ").map((w) => this.cased(w)).join(" ")} (${Array.from({ length: rng.int(1, 3) }, value).join(", ")})`;
      default:
        return `${parameter.name} ${operator} ${value()}`;
    }
  }

  private functionCall(name: string, zone: string, exponent: number): string {
    const rng = this.rng;
    this.mark(`fn:${name}`);
    const definition = FUNCTIONS.find((f) => f.name === name);
    if (!definition) throw new Error(`unknown function ${name}`);
    if (rng.chance(0.6)) {
      // Shopify's form: each parameter at most once (an alias counts as its parameter).
      const used = new Set<string>();
      const args: string[] = [];
      for (const parameter of definition.parameters) {
        const canonical = parameter.aliasOf ?? parameter.name;
        if (used.has(canonical) || !rng.chance(0.3)) continue;
        used.add(canonical);
        args.push(this.matchesParameter(name, parameter, zone, exponent));
      }
      const negated = rng.chance(0.4);
      this.mark(negated ? "fnmatch:NOT MATCHES" : "fnmatch:MATCHES");
      const keyword = negated ? rng.pick(["NOT MATCHES", "not matches", "NOT_MATCHES"]) : this.cased("MATCHES");
      return `${name} ${keyword} (${this.shuffled(args).join(", ")})`;
    }
    // The deprecated form, with this app's old names and bare values, or Shopify's operators.
    const args: string[] = [];
    for (const legacy of Object.keys(definition.legacy)) {
      if (!rng.chance(0.35)) continue;
      this.mark(`arg:${name}.${legacy}`);
      const target = definition.parameters.find((p) => p.name === definition.legacy[legacy]?.parameter);
      const canOperate = target && target.operators.includes(">") && rng.chance(0.3);
      const value = this.parameterValue(name, legacy, zone, exponent);
      args.push(canOperate ? `${legacy}: ${rng.pick([">", "<=", "!="])} ${value}` : `${legacy}: ${value}`);
    }
    const operator = rng.pick(["=", "!="]);
    const value = rng.pick(["true", "false", "TRUE", "False"]);
    this.mark(`fncmp:${operator}${value.toLowerCase()}`);
    return `${name}(${this.shuffled(args).join(", ")}) ${operator} ${value}`;
  }

  condition(zone: string, exponent: number, depth: number): string {
    const rng = this.rng;
    if (depth <= 0 || rng.chance(0.35)) return this.predicate(zone, exponent);
    const kind = rng.pick(["AND", "OR", "NOT", "()"] as const);
    this.mark(`comb:${kind}`);
    switch (kind) {
      case "AND":
      case "OR":
        return `${this.condition(zone, exponent, depth - 1)} ${this.cased(kind)} ${this.condition(zone, exponent, depth - 1)}`;
      case "NOT":
        return `${this.cased("NOT")} ${rng.chance(0.5) ? `(${this.condition(zone, exponent, depth - 1)})` : this.predicate(zone, exponent)}`;
      case "()":
        return `(${this.condition(zone, exponent, depth - 1)})`;
    }
  }
}

// ---- the test ----

let client: pg.Client;
let drop: () => Promise<void>;
let stored: StoredCustomer[] = [];
let reference: SegmentCustomer[] = [];

beforeAll(async () => {
  const db = await createTestDatabase();
  drop = db.drop;
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const rng = Rng.for(SEED, "store", 0);
  stored = Array.from({ length: CUSTOMERS }, (_, i) => randomCustomer(rng, i, 1));
  const other = Array.from({ length: CUSTOMERS / 3 }, (_, i) => randomCustomer(rng, i, 2));
  await insertRows(
    client,
    "products",
    ["shop", "gid", "product_type", "tags"],
    [SHOP, OTHER_SHOP].flatMap((shop) => PRODUCTS.map((p) => [shop, `gid://shopify/Product/${p.id}`, shop === SHOP ? p.type : "Shoes", shop === SHOP ? p.tags : ["sale"]])),
  );
  await storeShop(client, SHOP, stored);
  await storeShop(client, OTHER_SHOP, other);
  await recomputeShopRfm(client, OTHER_SHOP, NOW);
  await client.query("ANALYZE");
}, 120_000);

afterAll(async () => {
  await client?.end();
  await drop?.();
});

const failure = (message: string) => `${message}\n(seed ${SEED}: reproduce with SEGMENTS_DIFF_SEED=${SEED})`;

describe(`segment SQL equals the reference evaluator (seed ${SEED})`, () => {
  /** Every live customer's stored RFM values equal computeRfm() over `inputs`. */
  async function expectRfmMatches(inputs: RfmInput[]): Promise<Map<string, RfmResult>> {
    const expected = computeRfm(inputs);
    const { rows } = await client.query<{ gid: string; rfm_recency: number | null; rfm_frequency: number | null; rfm_monetary: number | null; rfm_group: string | null }>(
      `SELECT gid, rfm_recency, rfm_frequency, rfm_monetary, rfm_group FROM customers WHERE shop = $1 AND deleted_at IS NULL AND redacted_at IS NULL`,
      [SHOP],
    );
    expect(rows).toHaveLength(inputs.length);
    for (const row of rows) {
      const e = expected.get(row.gid);
      const scores = row.rfm_recency === null ? null : { recency: row.rfm_recency, frequency: row.rfm_frequency, monetary: row.rfm_monetary };
      expect({ gid: row.gid, scores, group: row.rfm_group }, failure("RFM mismatch")).toEqual({ gid: row.gid, scores: e?.scores ?? null, group: e?.group });
    }
    return expected;
  }

  it("RFM: the SQL recompute gives every live customer the scores and group computeRfm gives", async () => {
    const live = stored.filter((c) => !c.deleted && !c.redacted);
    const inputs = live.map((c) => ({ gid: c.gid, ...computeCustomerAggregates({ orders: c.orders }) }));
    expect(await recomputeShopRfm(client, SHOP, NOW)).toEqual({ customers: live.length, changed: live.length });
    const expected = await expectRfmMatches(inputs);
    expect(new Set([...expected.values()].map((r) => r.group)).size, "the random store spreads over several groups").toBeGreaterThanOrEqual(5);
    // A second run with nothing changed writes nothing.
    expect(await recomputeShopRfm(client, SHOP, new Date(NOW.getTime() + 60_000))).toEqual({ customers: live.length, changed: 0 });

    // Changes (rolled back afterwards): a buyer's orders all cancelled, a prospect's first
    // order, a deleted customer. Scores move for others too; stale scores are cleared.
    const buyer = inputs.find((c) => c.ordersCount > 0) as RfmInput;
    const prospect = inputs.find((c) => c.ordersCount === 0) as RfmInput;
    const leaving = inputs.find((c) => c !== buyer && c !== prospect) as RfmInput;
    await client.query("BEGIN");
    try {
      await client.query(
        `UPDATE customers SET orders_count = 0, total_spent_minor = 0, refunded_minor = 0, aov_minor = 0, first_order_at = NULL, last_order_at = NULL WHERE shop = $1 AND gid = $2`,
        [SHOP, buyer.gid],
      );
      await client.query(`UPDATE customers SET orders_count = 1, total_spent_minor = 777, first_order_at = $3, last_order_at = $3 WHERE shop = $1 AND gid = $2`, [SHOP, prospect.gid, NOW]);
      await client.query(`UPDATE customers SET deleted_at = $3 WHERE shop = $1 AND gid = $2`, [SHOP, leaving.gid, NOW]);
      const changed = inputs
        .filter((c) => c !== leaving)
        .map((c) =>
          c === buyer
            ? { ...c, ordersCount: 0, totalSpentMinor: 0n, lastOrderAt: null }
            : c === prospect
              ? { ...c, ordersCount: 1, totalSpentMinor: 777n, lastOrderAt: NOW }
              : c,
        );
      const result = await recomputeShopRfm(client, SHOP, NOW);
      expect(result.customers).toBe(live.length - 1);
      expect(result.changed).toBeGreaterThanOrEqual(2);
      await expectRfmMatches(changed);
    } finally {
      await client.query("ROLLBACK");
    }
    reference = live.map((c) => toSegmentCustomer(c, expected.get(c.gid)?.group ?? null));
  });

  it(`${QUERIES} random segments select the same customers in SQL and in TypeScript`, async () => {
    expect(reference.length, "the RFM test ran first").toBeGreaterThan(0);
    const rng = Rng.for(SEED, "queries", 0);
    const coverage: Coverage = new Map();
    const generator = new QueryGenerator(rng, reference, coverage);
    let nonTrivial = 0;
    for (let batch = 0; batch < QUERIES / PER_STATEMENT; batch++) {
      const cases: { query: string; ast: Condition; zone: string; currency: string; text: string; values: unknown[] }[] = [];
      const values: unknown[] = [SHOP];
      for (let k = 0; k < PER_STATEMENT; k++) {
        const zone = rng.pick(TIME_ZONES);
        const currency = rng.pick(CURRENCIES);
        const exponent = currency === "JPY" ? 0 : currency === "KWD" ? 3 : 2;
        const query = generator.condition(zone, exponent, rng.int(0, 4));
        const parsed = parseSegment(query);
        if (!parsed.ok) throw new Error(failure(`generated query does not parse: ${query}\n${parsed.error.message}`));
        const errors = checkSegment({ ast: parsed.ast });
        if (errors.length > 0) throw new Error(failure(`generated query does not check: ${query}\n${errors.map((e) => e.message).join("\n")}`));
        const compiled = compileSegmentFilter(parsed.ast, { customerAlias: "c", firstParamIndex: values.length + 1, now: NOW, timeZone: zone, currency });
        values.push(...compiled.values);
        cases.push({ query, ast: parsed.ast, zone, currency, ...compiled });
      }
      const statement = cases
        .map((c, k) => `SELECT ${k} AS k, c.gid FROM customers c WHERE c.shop = $1 AND c.deleted_at IS NULL AND c.redacted_at IS NULL AND (${c.text})`)
        .join("\nUNION ALL\n");
      let rows: { k: number; gid: string }[];
      try {
        rows = (await client.query<{ k: number; gid: string }>(statement, values)).rows;
      } catch (error) {
        throw new Error(failure(`statement failed: ${(error as Error).message}\n${cases.map((c) => c.query).join("\n")}`));
      }
      cases.forEach((c, k) => {
        const fromSql = rows.filter((r) => r.k === k).map((r) => r.gid).sort();
        const matches = createSegmentEvaluator(c.ast, { now: NOW, timeZone: c.zone, currency: c.currency });
        const fromReference = reference.filter(matches).map((customer) => customer.gid).sort();
        if (fromReference.length > 0 && fromReference.length < reference.length) nonTrivial++;
        if (fromSql.join() !== fromReference.join()) {
          const onlySql = fromSql.filter((g) => !fromReference.includes(g));
          const onlyReference = fromReference.filter((g) => !fromSql.includes(g));
          const example = reference.find((r) => r.gid === (onlySql[0] ?? onlyReference[0]));
          throw new Error(
            failure(
              `membership differs for: ${c.query}\n(time zone ${c.zone}, currency ${c.currency})\nSQL: ${c.text}\nvalues: ${JSON.stringify(c.values)}\n` +
                `only in SQL: ${onlySql.join(", ")}\nonly in reference: ${onlyReference.join(", ")}\n` +
                `first such customer: ${JSON.stringify(example, (_, v) => (typeof v === "bigint" ? `${v}n` : v), 1)}`,
            ),
          );
        }
      });
    }
    // The cases decide something: most select some customers but not all.
    expect(nonTrivial, "non-trivial cases").toBeGreaterThan(QUERIES / 3);
    // Every attribute, operator, date form, function, parameter and combinator was exercised.
    const expected = [
      ...FIELDS.map((f) => `attr:${f.name}`),
      ...FIELDS.flatMap((f) =>
        f.operators.flatMap((op) => (op === "IS NULL" ? ["IS NULL", "IS NOT NULL"] : op === "CONTAINS" ? ["CONTAINS", "NOT CONTAINS"] : [op]).map((o) => `op:${f.type.kind}:${o}`)),
      ),
      ...FUNCTIONS.flatMap((f) => [
        `fn:${f.name}`,
        ...Object.keys(f.legacy).map((p) => `arg:${f.name}.${p}`),
        ...f.parameters.flatMap((p) => p.operators.map((op) => `param:${f.name}.${p.name}:${op}`)),
      ]),
      ...["=true", "=false", "!=true", "!=false"].map((c) => `fncmp:${c}`),
      ...["MATCHES", "NOT MATCHES"].map((c) => `fnmatch:${c}`),
      ...["AND", "OR", "NOT", "()"].map((c) => `comb:${c}`),
      ...["absolute", "datetime", "d", "w", "m", "y", "plus", "today", "yesterday", "ago", "named"].map((d) => `date:${d}`),
      "attr:anniversary",
      ...ANNIVERSARY_OPERATORS.flatMap((op) => (op === "IS NULL" ? ["IS NULL", "IS NOT NULL"] : [op])).map((op) => `op:anniversary:${op}`),
    ];
    expect(expected.filter((key) => !coverage.has(key)), failure("never generated")).toEqual([]);
  }, 120_000);
});
