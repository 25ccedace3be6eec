-- Customer clusters and product affinity (issue 15, decision 059): each shop's fitted
-- clustering (one row per fit, the newest in force) with its scaling, its clusters (centroid
-- in standardised units, plain-words description, size, value), each customer's cluster, and
-- the product and product-type pairs bought by the same customers.
CREATE TABLE cluster_models (
  id             BIGSERIAL PRIMARY KEY,
  shop           TEXT NOT NULL,
  k              INTEGER NOT NULL,
  features       TEXT[] NOT NULL,
  product_types  TEXT[] NOT NULL,
  scale_mean     DOUBLE PRECISION[] NOT NULL,
  scale_sd       DOUBLE PRECISION[] NOT NULL,
  silhouette     DOUBLE PRECISION NOT NULL,
  tried          JSONB NOT NULL,
  customers      INTEGER NOT NULL,
  fit_customers  INTEGER NOT NULL,
  seed           INTEGER NOT NULL,
  fitted_at      TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE INDEX cluster_models_shop_fitted_idx ON cluster_models (shop, fitted_at DESC, id DESC);

CREATE TABLE clusters (
  id                 BIGSERIAL PRIMARY KEY,
  model_id           BIGINT NOT NULL REFERENCES cluster_models (id) ON DELETE CASCADE,
  shop               TEXT NOT NULL,
  number             INTEGER NOT NULL,
  centroid           DOUBLE PRECISION[] NOT NULL,
  description        TEXT NOT NULL,
  size               INTEGER NOT NULL,
  mean_value_minor   BIGINT NOT NULL,
  total_value_minor  BIGINT NOT NULL,
  figures            JSONB NOT NULL,
  UNIQUE (model_id, number)
);

CREATE TABLE customer_clusters (
  shop         TEXT NOT NULL,
  customer_id  BIGINT NOT NULL,
  cluster_id   BIGINT NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  source       TEXT NOT NULL CHECK (source IN ('refit', 'first_order')),
  assigned_at  TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (shop, customer_id)
);
CREATE INDEX customer_clusters_cluster_idx ON customer_clusters (cluster_id);

CREATE TABLE product_affinity (
  shop            TEXT NOT NULL,
  kind            TEXT NOT NULL CHECK (kind IN ('product', 'product_type')),
  item            TEXT NOT NULL,
  other           TEXT NOT NULL,
  item_customers  INTEGER NOT NULL,
  other_customers INTEGER NOT NULL,
  both_customers  INTEGER NOT NULL,
  customers       INTEGER NOT NULL,
  support         DOUBLE PRECISION NOT NULL,
  confidence      DOUBLE PRECISION NOT NULL,
  lift            DOUBLE PRECISION NOT NULL,
  rank            INTEGER NOT NULL,
  computed_at     TIMESTAMPTZ(3) NOT NULL,
  PRIMARY KEY (shop, kind, item, other)
);
CREATE INDEX product_affinity_rank_idx ON product_affinity (shop, kind, item, rank);
