// Customer clusters and product affinity (issue 15, decision 059). The features are computed
// per customer in PostgreSQL; k-means runs in Node (app/domain/analytics/clusters.ts) on a
// deterministic sample; every customer is assigned to the nearest centroid; a customer first
// seen with an order after the fit is assigned in the worker's apply step
// (assignNewCustomersToClusters). Affinity is computed set-based in SQL and stored.
import { getPool, withTransaction, type Queryable } from "../../db.server";
import { logger } from "../../logger.server";
import {
  chooseClustering,
  clusterFigures,
  describeCluster,
  featureVector,
  fitScaling,
  nearest,
  seededRandom,
  standardise,
  type CustomerFeatures,
} from "../../domain/analytics/clusters";
import { currencyExponent } from "../../domain/money";

/** The shop's top product types (by line spend) that get a share feature each. */
export const TOP_PRODUCT_TYPES = 5;
/** The fit runs on at most this many customers (a seeded sample); every customer is assigned. */
export const CLUSTER_FIT_SAMPLE = 20_000;
export const CLUSTER_SEED = 15;
/** Affinity: pairs bought by at least this many customers, the top N per item by lift. */
export const AFFINITY_MIN_CUSTOMERS = 2;
export const AFFINITY_TOP_N = 10;

const LIVE_ORDERS = `o.shop = $1 AND o.customer_gid IS NOT NULL AND NOT o.test AND o.cancelled_at IS NULL`;
const LINE_SPEND = `(li.price_minor * li.quantity - li.total_discount_minor)`;

/**
 * Features of the shop's live customers with orders: one row per customer. For the refit ($1
 * shop, $2 as-of, $3 product types) every customer; for the apply step ($1 shop, $2 as-of, $3
 * customer gids) only those of $3 without a cluster yet, all their orders held (an order
 * stamped a little ahead of this clock still counts), with the product types of the shop's
 * model in force and its id (no rows when the shop has no model).
 */
export function featuresSql(only: boolean): string {
  const types = only ? "(SELECT product_types FROM m)" : "$3::text[]";
  return `
  WITH ${only ? "m AS (SELECT id, product_types FROM cluster_models WHERE shop = $1 ORDER BY fitted_at DESC, id DESC LIMIT 1)," : ""}
  o AS (
    SELECT c.id AS customer_id, o.gid, o.shopify_created_at AS at, (o.total_price_minor - o.refunded_minor) AS net,
           (o.total_discounts_minor > 0 OR cardinality(o.discount_codes) > 0) AS disc, o.refunded_minor > 0 AS refunded
      FROM orders o
      JOIN customers c ON c.shop = o.shop AND c.gid = o.customer_gid AND c.deleted_at IS NULL AND c.redacted_at IS NULL
     WHERE ${LIVE_ORDERS} ${only ? "" : "AND o.shopify_created_at < $2"}
       ${only ? "AND o.customer_gid = ANY($3::text[]) AND EXISTS (SELECT 1 FROM m) AND NOT EXISTS (SELECT 1 FROM customer_clusters k WHERE k.shop = $1 AND k.customer_id = c.id)" : ""}
  ),
  per AS (
    SELECT customer_id, count(*)::int AS orders, sum(net)::float8 AS net, extract(epoch FROM ($2::timestamptz - max(at))) / 86400 AS recency,
           extract(epoch FROM (max(at) - min(at))) / 86400 AS span, avg(disc::int)::float8 AS disc, avg(refunded::int)::float8 AS refund
      FROM o GROUP BY customer_id
  ),
  lines AS (
    SELECT o.customer_id, t.i, sum(${LINE_SPEND})::float8 AS spend
      FROM o
      JOIN line_items li ON li.shop = $1 AND li.order_gid = o.gid AND NOT li.gift_card
      LEFT JOIN products p ON p.shop = $1 AND p.gid = li.product_gid
      LEFT JOIN unnest(${types}) WITH ORDINALITY AS t(name, i) ON lower(p.product_type) = lower(t.name)
     GROUP BY 1, 2
  ),
  shares AS (
    SELECT customer_id, sum(spend) AS total, array_agg(i) FILTER (WHERE i IS NOT NULL) AS idx, array_agg(spend) FILTER (WHERE i IS NOT NULL) AS spend
      FROM lines GROUP BY customer_id
  )
  SELECT per.customer_id::text AS customer_id, per.orders, per.net, per.recency, per.span, per.disc, per.refund,
         s.total, s.idx, s.spend${only ? ", (SELECT id FROM m)::text AS model_id" : ""}
    FROM per LEFT JOIN shares s USING (customer_id)`;
}

type FeatureRow = {
  customer_id: string;
  orders: number;
  net: number;
  recency: number;
  span: number;
  disc: number;
  refund: number;
  total: number | null;
  idx: string[] | null;
  spend: number[] | null;
};

function toFeatures(r: FeatureRow, types: number): CustomerFeatures {
  const typeShares = new Array<number>(types).fill(0);
  if (r.idx && r.spend && r.total && r.total > 0) for (let j = 0; j < r.idx.length; j++) typeShares[Number(r.idx[j]) - 1] = Math.max(0, r.spend[j]! / r.total);
  return { recencyDays: r.recency, orders: r.orders, netMinor: r.net, spanDays: r.span, typeShares, discountRate: r.disc, refundRate: r.refund };
}

export const FEATURE_NAMES = (types: readonly string[]) => ["log_recency_days", "log_orders", "log_net_major", ...types.map((t) => `share_${t}`), "discount_rate", "refund_rate"];

export type ClusterView = {
  id: string;
  number: number;
  description: string;
  size: number;
  share: number;
  meanValue: number;
  totalValue: number;
  currency: string | null;
  centroid: Record<string, number>;
  figures: unknown;
  modelId: string;
  k: number;
  silhouette: number;
  fittedAt: string;
};

export type ClusterRefitReport = { modelId: string | null; k: number; customers: number; silhouette: number; ms: { features: number; fit: number; total: number } };

/**
 * Fits the shop's clusters on the data held now and replaces every customer's cluster, in one
 * transaction. A shop without customers with orders (or too few for two clusters) gets no model
 * and loses its old assignments.
 */
export async function refitClusters({ shop, asOf = new Date(), sample = CLUSTER_FIT_SAMPLE }: { shop: string; asOf?: Date; sample?: number }): Promise<ClusterRefitReport> {
  const started = performance.now();
  return withTransaction(async (db) => {
    const types = await db.query<{ name: string }>(
      `SELECT min(p.product_type) AS name
         FROM orders o JOIN line_items li ON li.shop = o.shop AND li.order_gid = o.gid AND NOT li.gift_card
         JOIN products p ON p.shop = o.shop AND p.gid = li.product_gid
        WHERE ${LIVE_ORDERS} AND o.shopify_created_at < $2 AND coalesce(p.product_type, '') <> ''
        GROUP BY lower(p.product_type) ORDER BY sum(${LINE_SPEND}) DESC, lower(p.product_type) LIMIT $3`,
      [shop, asOf, TOP_PRODUCT_TYPES],
    );
    const productTypes = types.rows.map((r) => r.name);
    const rows = (await db.query<FeatureRow>(`${featuresSql(false)} ORDER BY per.customer_id`, [shop, asOf, productTypes])).rows;
    const featuresMs = performance.now() - started;
    const features = rows.map((r) => toFeatures(r, productTypes.length));
    const vectors = features.map(featureVector);
    const fitStarted = performance.now();
    if (vectors.length < 10) {
      await db.query(`DELETE FROM cluster_models WHERE shop = $1`, [shop]);
      await db.query(`DELETE FROM customer_clusters WHERE shop = $1`, [shop]);
      return { modelId: null, k: 0, customers: vectors.length, silhouette: 0, ms: { features: featuresMs, fit: 0, total: performance.now() - started } };
    }
    // A seeded sample for the fit (all customers up to `sample`).
    let fitIdx = vectors.map((_, i) => i);
    if (vectors.length > sample) {
      const rand = seededRandom(CLUSTER_SEED);
      for (let i = 0; i < sample; i++) {
        const j = i + Math.floor(rand() * (fitIdx.length - i));
        [fitIdx[i], fitIdx[j]] = [fitIdx[j]!, fitIdx[i]!];
      }
      fitIdx = fitIdx.slice(0, sample);
    }
    const scaling = fitScaling(fitIdx.map((i) => vectors[i]!));
    const z = vectors.map((v) => standardise(v, scaling));
    const chosen = chooseClustering(fitIdx.map((i) => z[i]!), { seed: CLUSTER_SEED });
    const labels = z.map((p) => nearest(p, chosen.centroids));
    const fitMs = performance.now() - fitStarted;

    await db.query(`DELETE FROM customer_clusters WHERE shop = $1`, [shop]);
    await db.query(`DELETE FROM cluster_models WHERE shop = $1`, [shop]);
    const model = await db.query<{ id: string }>(
      `INSERT INTO cluster_models (shop, k, features, product_types, scale_mean, scale_sd, silhouette, tried, customers, fit_customers, seed, fitted_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
      [shop, chosen.k, FEATURE_NAMES(productTypes), productTypes, scaling.mean, scaling.scale, chosen.silhouette, JSON.stringify(chosen.tried), vectors.length, fitIdx.length, CLUSTER_SEED, asOf],
    );
    const modelId = model.rows[0]!.id;
    const clusterIds: string[] = [];
    for (let c = 0; c < chosen.centroids.length; c++) {
      const members = features.filter((_, i) => labels[i] === c);
      const figures = clusterFigures(members);
      const description = describeCluster({ centroid: chosen.centroids[c]!, productTypes, figures });
      const inserted = await db.query<{ id: string }>(
        `INSERT INTO clusters (model_id, shop, number, centroid, description, size, mean_value_minor, total_value_minor, figures)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
        [modelId, shop, c + 1, chosen.centroids[c], description, members.length, Math.round(figures.meanNetMinor), Math.round(figures.meanNetMinor * members.length), JSON.stringify(figures)],
      );
      clusterIds.push(inserted.rows[0]!.id);
    }
    await db.query(
      `INSERT INTO customer_clusters (shop, customer_id, cluster_id, source, assigned_at)
       SELECT $1, c, k, 'refit', $4 FROM unnest($2::bigint[], $3::bigint[]) AS u(c, k)`,
      [shop, rows.map((r) => r.customer_id), labels.map((l) => clusterIds[l]!), asOf],
    );
    const report = { modelId, k: chosen.k, customers: vectors.length, silhouette: chosen.silhouette, ms: { features: featuresMs, fit: fitMs, total: performance.now() - started } };
    logger.info({ shop, ...report }, "analytics.clusters_fitted");
    return report;
  });
}

/**
 * The apply step's statement: the features of the batch's customers with an order and no
 * cluster yet (featuresSql), their vector as featureVector builds it, standardised with the
 * model's scaling, and the nearest centroid (ties to the lowest number, as nearest() in the domain), inserted.
 */
const ASSIGN_SQL = `
  WITH f AS (${featuresSql(true)}),
  v AS (
    SELECT f.customer_id::bigint AS customer_id, m.id AS model_id, m.scale_mean, m.scale_sd,
           ARRAY[ln(1 + greatest(f.recency, 0))::float8, ln(1 + greatest(f.orders, 0)::float8), ln(1 + greatest(f.net, 0)::float8 / 100)]
           || ARRAY(SELECT CASE WHEN f.total > 0 THEN greatest(0, coalesce(f.spend[array_position(f.idx, g::bigint)], 0) / f.total) ELSE 0 END::float8
                      FROM generate_series(1, cardinality(m.product_types)) g ORDER BY g)
           || ARRAY[f.disc, f.refund] AS x
      FROM f JOIN cluster_models m ON m.id = f.model_id::bigint
  ),
  best AS (
    SELECT DISTINCT ON (v.customer_id) v.customer_id, k.id AS cluster_id
      FROM v JOIN clusters k ON k.model_id = v.model_id
     ORDER BY v.customer_id, (SELECT sum(((u.x - u.mu) / u.sd - u.c) ^ 2) FROM unnest(v.x, v.scale_mean, v.scale_sd, k.centroid) AS u(x, mu, sd, c)), k.number
  )
  INSERT INTO customer_clusters (shop, customer_id, cluster_id, source, assigned_at)
  SELECT $1, customer_id, cluster_id, 'first_order', $2 FROM best ORDER BY customer_id
  ON CONFLICT (shop, customer_id) DO NOTHING`;

/**
 * The apply step's call (process-inbox-event): customers of the batch that have an order now
 * and no cluster yet get the nearest cluster of the shop's model in force, in one statement
 * (nothing is written when there is none or the shop has no model). A customer keeps its
 * cluster until the next refit.
 */
export async function assignNewCustomersToClusters(db: Queryable, shop: string, customerGids: readonly string[], now = new Date()): Promise<{ assigned: number }> {
  if (customerGids.length === 0) return { assigned: 0 };
  const inserted = await db.query({ name: "clusters-assign-first-order", text: ASSIGN_SQL, values: [shop, now, customerGids] });
  return { assigned: inserted.rowCount ?? 0 };
}

type ClusterRow = {
  id: string;
  number: number;
  description: string;
  size: number;
  mean_value_minor: string;
  total_value_minor: string;
  centroid: number[];
  figures: unknown;
  model_id: string;
  k: number;
  silhouette: number;
  features: string[];
  customers: number;
  fitted_at: Date;
  currency: string | null;
};

const CLUSTER_SELECT = `
  SELECT k.id::text, k.number, k.description, k.size, k.mean_value_minor, k.total_value_minor, k.centroid, k.figures, m.id::text AS model_id, m.k,
         m.silhouette, m.features, m.customers, m.fitted_at, (SELECT "currencyCode" FROM shops WHERE domain = m.shop) AS currency
    FROM clusters k JOIN cluster_models m ON m.id = k.model_id`;

function clusterView(r: ClusterRow): ClusterView {
  const unit = 10 ** currencyExponent(r.currency ?? "USD");
  return {
    id: r.id,
    number: r.number,
    description: r.description,
    size: r.size,
    share: r.customers > 0 ? Number((r.size / r.customers).toFixed(4)) : 0,
    meanValue: Number(r.mean_value_minor) / unit,
    totalValue: Number(r.total_value_minor) / unit,
    currency: r.currency,
    centroid: Object.fromEntries(r.features.map((f, j) => [f, Number(r.centroid[j]!.toFixed(3))])),
    figures: r.figures,
    modelId: r.model_id,
    k: r.k,
    silhouette: Number(r.silhouette.toFixed(4)),
    fittedAt: r.fitted_at.toISOString(),
  };
}

/** The clusters of the shop's model in force (empty before the first fit). */
export async function listClusters(shop: string, db: Queryable = getPool()): Promise<ClusterView[]> {
  const result = await db.query<ClusterRow>(
    `${CLUSTER_SELECT} WHERE m.id = (SELECT id FROM cluster_models WHERE shop = $1 ORDER BY fitted_at DESC, id DESC LIMIT 1) ORDER BY k.number`,
    [shop],
  );
  return result.rows.map(clusterView);
}

/** A customer's cluster ({ id, description }), or null without one. */
export async function getCustomerCluster(shop: string, customerGid: string, db: Queryable = getPool()): Promise<{ id: string; number: number; description: string } | null> {
  const result = await db.query<{ id: string; number: number; description: string }>(
    `SELECT k.id::text, k.number, k.description FROM customers c JOIN customer_clusters cc ON cc.shop = c.shop AND cc.customer_id = c.id
       JOIN clusters k ON k.id = cc.cluster_id WHERE c.shop = $1 AND c.gid = $2`,
    [shop, customerGid],
  );
  return result.rows[0] ?? null;
}

/**
 * Recomputes the shop's product and product-type affinity from the live orders of live
 * customers: for items X and Y, support = customers who bought both / customers who bought
 * anything, confidence = both / customers who bought X, lift = confidence / (customers who
 * bought Y / customers who bought anything). Pairs with at least AFFINITY_MIN_CUSTOMERS
 * customers, the top AFFINITY_TOP_N per item by lift. Set-based, one statement per kind.
 */
export async function refitAffinity({ shop, asOf = new Date(), minCustomers = AFFINITY_MIN_CUSTOMERS, topN = AFFINITY_TOP_N }: { shop: string; asOf?: Date; minCustomers?: number; topN?: number }): Promise<{ product: number; productType: number }> {
  return withTransaction(async (db) => {
    await db.query(`DELETE FROM product_affinity WHERE shop = $1`, [shop]);
    const counts = { product: 0, productType: 0 };
    for (const kind of ["product", "product_type"] as const) {
      const item = kind === "product" ? "li.product_gid" : "lower(p.product_type)";
      const join = kind === "product" ? "" : "JOIN products p ON p.shop = $1 AND p.gid = li.product_gid AND coalesce(p.product_type, '') <> ''";
      const result = await db.query(
        `WITH bought AS (
           SELECT DISTINCT c.id AS customer_id, ${item} AS item
             FROM orders o
             JOIN customers c ON c.shop = o.shop AND c.gid = o.customer_gid AND c.deleted_at IS NULL AND c.redacted_at IS NULL
             JOIN line_items li ON li.shop = $1 AND li.order_gid = o.gid AND li.product_gid IS NOT NULL AND NOT li.gift_card
             ${join}
            WHERE ${LIVE_ORDERS} AND o.shopify_created_at < $2
         ),
         everyone AS (SELECT count(DISTINCT customer_id)::float8 AS n FROM bought),
         items AS (SELECT item, count(*)::int AS n FROM bought GROUP BY item),
         pairs AS (
           SELECT a.item, b.item AS other, count(*)::int AS n_both
             FROM bought a JOIN bought b ON b.customer_id = a.customer_id AND b.item <> a.item
            GROUP BY 1, 2 HAVING count(*) >= $3
         ),
         scored AS (
           SELECT p.item, p.other, ia.n AS item_n, ib.n AS other_n, p.n_both, e.n AS everyone,
                  p.n_both / e.n AS support, p.n_both::float8 / ia.n AS confidence, (p.n_both * e.n) / (ia.n::float8 * ib.n) AS lift
             FROM pairs p JOIN items ia ON ia.item = p.item JOIN items ib ON ib.item = p.other CROSS JOIN everyone e
         ),
         ranked AS (SELECT *, row_number() OVER (PARTITION BY item ORDER BY lift DESC, n_both DESC, other) AS rank FROM scored)
         INSERT INTO product_affinity (shop, kind, item, other, item_customers, other_customers, both_customers, customers, support, confidence, lift, rank, computed_at)
         SELECT $1, '${kind}', item, other, item_n, other_n, n_both, everyone::int, support, confidence, lift, rank, $5 FROM ranked WHERE rank <= $4`,
        [shop, asOf, minCustomers, topN, asOf],
      );
      counts[kind === "product" ? "product" : "productType"] = result.rowCount ?? 0;
    }
    return counts;
  });
}

export type AffinityView = {
  kind: "product" | "product_type";
  item: string;
  itemTitle: string | null;
  other: string;
  otherTitle: string | null;
  customers: number;
  itemCustomers: number;
  otherCustomers: number;
  bothCustomers: number;
  support: number;
  confidence: number;
  lift: number;
  rank: number;
  text: string;
  computedAt: string;
};

/** The stored pairs (one product's when `product` is given: a gid; product types are matched by name), best lift first per item. */
export async function listAffinity(shop: string, { product }: { product?: string } = {}, db: Queryable = getPool()): Promise<AffinityView[]> {
  const result = await db.query<{
    kind: "product" | "product_type";
    item: string;
    other: string;
    item_title: string | null;
    other_title: string | null;
    item_customers: number;
    other_customers: number;
    both_customers: number;
    customers: number;
    support: number;
    confidence: number;
    lift: number;
    rank: number;
    computed_at: Date;
  }>(
    `SELECT a.*, pi.title AS item_title, po.title AS other_title
       FROM product_affinity a
       LEFT JOIN products pi ON a.kind = 'product' AND pi.shop = a.shop AND pi.gid = a.item
       LEFT JOIN products po ON a.kind = 'product' AND po.shop = a.shop AND po.gid = a.other
      WHERE a.shop = $1 AND ($2::text IS NULL OR (a.kind = 'product' AND a.item = $2))
      ORDER BY a.kind, a.item, a.rank`,
    [shop, product ?? null],
  );
  const round = (v: number, d: number) => Number(v.toFixed(d));
  return result.rows.map((r) => {
    const x = r.item_title ?? r.item;
    const y = r.other_title ?? r.other;
    return {
      kind: r.kind,
      item: r.item,
      itemTitle: r.item_title,
      other: r.other,
      otherTitle: r.other_title,
      customers: r.customers,
      itemCustomers: r.item_customers,
      otherCustomers: r.other_customers,
      bothCustomers: r.both_customers,
      support: round(r.support, 4),
      confidence: round(r.confidence, 4),
      lift: round(r.lift, 3),
      rank: r.rank,
      text: `customers who bought ${x} also bought ${y}, lift ${round(r.lift, 2)} (${round(r.lift, 1)} times more often than average)`,
      computedAt: r.computed_at.toISOString(),
    };
  });
}
