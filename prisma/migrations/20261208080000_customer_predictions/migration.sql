-- Predictions (issue 15, decisions 051 and 052): the fitted BG/NBD + Gamma-Gamma model of each
-- shop (one row per fit, the newest in force) and each customer's scores from that fit.
CREATE TABLE clv_models (
  id                    BIGSERIAL PRIMARY KEY,
  shop                  TEXT NOT NULL,
  model                 TEXT NOT NULL DEFAULT 'bgnbd',
  time_unit             TEXT NOT NULL CHECK (time_unit IN ('day', 'week')),
  r                     DOUBLE PRECISION NOT NULL,
  alpha                 DOUBLE PRECISION NOT NULL,
  a                     DOUBLE PRECISION NOT NULL,
  b                     DOUBLE PRECISION NOT NULL,
  p                     DOUBLE PRECISION,
  q                     DOUBLE PRECISION,
  gamma                 DOUBLE PRECISION,
  currency              TEXT,
  customers             INTEGER NOT NULL,
  repeat_customers      INTEGER NOT NULL,
  log_likelihood        DOUBLE PRECISION NOT NULL,
  spend_log_likelihood  DOUBLE PRECISION,
  method                TEXT NOT NULL CHECK (method IN ('mle', 'shrunk')),
  prior_weight          DOUBLE PRECISION NOT NULL DEFAULT 0,
  prior_source          TEXT,
  fit_ms                INTEGER,
  fitted_at             TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE INDEX clv_models_shop_fitted_idx ON clv_models (shop, fitted_at DESC, id DESC);

CREATE TABLE customer_predictions (
  shop                    TEXT NOT NULL,
  customer_id             BIGINT NOT NULL,
  model_id                BIGINT NOT NULL,
  p_alive                 DOUBLE PRECISION NOT NULL,
  expected_orders_12m     DOUBLE PRECISION NOT NULL,
  predicted_clv_12m_minor BIGINT NOT NULL,
  currency                TEXT,
  expected_next_order_at  TIMESTAMPTZ(3),
  churn_risk              DOUBLE PRECISION NOT NULL,
  spend_tier              TEXT NOT NULL CHECK (spend_tier IN ('HIGH', 'MEDIUM', 'LOW')),
  confidence              TEXT NOT NULL CHECK (confidence IN ('high', 'medium', 'low')),
  computed_at             TIMESTAMPTZ(3) NOT NULL,
  PRIMARY KEY (shop, customer_id)
);
