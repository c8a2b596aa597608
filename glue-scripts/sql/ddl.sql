-- Schemas and tables of the warehouse. Applied before every load, so every
-- statement is idempotent. Both tables are sorted by run_id: every statement
-- of a workflow run selects a few run ids, and Redshift's zone maps then read
-- only the blocks holding them, so the work per run does not grow with the
-- years of runs final.orders keeps. (A table created before the sort key was
-- declared gets it with ALTER TABLE final.orders ALTER SORTKEY (run_id).)
-- The PostgreSQL stand-ins (tests, rehearsal) read SORTKEY as an index on the
-- same columns (glue-scripts/tests/pg_dialect.py).

CREATE SCHEMA IF NOT EXISTS staging;

CREATE SCHEMA IF NOT EXISTS final;

-- One row per product, exactly as in the S3 staging area. Column order is
-- the order of the Parquet files COPY reads (common/orders_schema.py).
CREATE TABLE IF NOT EXISTS staging.orders (
    order_id             VARCHAR(64)   NOT NULL,
    order_timestamp      TIMESTAMP,
    customer_id          VARCHAR(64),
    order_status         VARCHAR(32),
    payment_method       VARCHAR(32),
    currency             VARCHAR(8),
    shipping_country     VARCHAR(8),
    line_number          INTEGER       NOT NULL,
    product_code         VARCHAR(64),
    product_name         VARCHAR(256),
    category             VARCHAR(64),
    quantity             INTEGER,
    unit_price           DECIMAL(10,2),
    processing_timestamp TIMESTAMP,
    run_id               VARCHAR(64)   NOT NULL,
    processing_date      VARCHAR(10),
    processing_hour      VARCHAR(2)
)
SORTKEY (run_id);

-- Staging rows enriched for analysis; replaced per run id by enrich_final.sql.
CREATE TABLE IF NOT EXISTS final.orders (
    order_id                   VARCHAR(64)   NOT NULL,
    line_number                INTEGER       NOT NULL,
    run_id                     VARCHAR(64)   NOT NULL,
    order_timestamp            TIMESTAMP,
    order_date                 DATE,
    order_year                 SMALLINT,
    order_month                SMALLINT,
    order_day                  SMALLINT,
    order_hour                 SMALLINT,
    order_day_of_week          SMALLINT,
    customer_id                VARCHAR(64),
    order_status               VARCHAR(32),
    payment_method             VARCHAR(32),
    currency                   VARCHAR(8),
    shipping_country           VARCHAR(8),
    product_code               VARCHAR(64),
    product_name               VARCHAR(256),
    category                   VARCHAR(64),
    quantity                   INTEGER,
    unit_price                 DECIMAL(10,2),
    line_amount                DECIMAL(18,2),
    processing_timestamp       TIMESTAMP,
    processing_latency_seconds BIGINT,
    processing_date            VARCHAR(10),
    processing_hour            VARCHAR(2)
)
SORTKEY (run_id);
