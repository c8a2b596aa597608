-- Moves the enriched staging rows of this workflow run's runs into
-- final.orders. `(SELECT run_id FROM enrich_runs)` stands for those run ids
-- (the manifest's): the job puts them there as literals, so both statements
-- filter final.orders on its sort key with constants, and runs both as ONE
-- transaction; the delete makes it idempotent per run id: running it again
-- replaces a run's rows instead of adding to them, and other runs are not
-- touched.
-- Runs unchanged on Redshift and PostgreSQL 15 (the tests apply it there).

DELETE FROM final.orders
WHERE run_id IN (SELECT run_id FROM enrich_runs);

-- line_amount: quantity x unit_price.
-- order_*: date parts of when the order was placed (UTC); day of week 0 = Sunday.
-- processing_latency_seconds: whole seconds from the order being placed to
--   the pipeline's run stamping it (FLOOR of each epoch: Redshift's EXTRACT
--   gives whole seconds, PostgreSQL's fractions).
INSERT INTO final.orders (
    order_id, line_number, run_id,
    order_timestamp, order_date, order_year, order_month, order_day, order_hour, order_day_of_week,
    customer_id, order_status, payment_method, currency, shipping_country,
    product_code, product_name, category, quantity, unit_price, line_amount,
    processing_timestamp, processing_latency_seconds, processing_date, processing_hour
)
SELECT
    order_id,
    line_number,
    run_id,
    order_timestamp,
    CAST(order_timestamp AS DATE),
    CAST(EXTRACT(YEAR FROM order_timestamp) AS SMALLINT),
    CAST(EXTRACT(MONTH FROM order_timestamp) AS SMALLINT),
    CAST(EXTRACT(DAY FROM order_timestamp) AS SMALLINT),
    CAST(EXTRACT(HOUR FROM order_timestamp) AS SMALLINT),
    CAST(EXTRACT(DOW FROM order_timestamp) AS SMALLINT),
    customer_id,
    order_status,
    payment_method,
    currency,
    shipping_country,
    product_code,
    product_name,
    category,
    quantity,
    unit_price,
    CAST(quantity * unit_price AS DECIMAL(18,2)),
    processing_timestamp,
    CAST(FLOOR(EXTRACT(EPOCH FROM processing_timestamp)) - FLOOR(EXTRACT(EPOCH FROM order_timestamp)) AS BIGINT),
    processing_date,
    processing_hour
FROM staging.orders
WHERE run_id IN (SELECT run_id FROM enrich_runs);
