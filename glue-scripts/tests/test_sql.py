"""The warehouse SQL (DDL, load, enrich, counts) on a real PostgreSQL 15."""
from __future__ import annotations

import datetime
import os
from decimal import Decimal

import audit_table
import orders_data
import orders_redshift_staging_to_redshift_final as final_job
import orders_s3_staging_to_redshift_staging as load_job
import orders_schema
import psycopg2
import pytest
import redshift_audit_load
import sql_script
import staging_load
import warehouse_counts
from conftest import AUDIT_TABLE, ROOT


def sql_file(name):
    with open(os.path.join(ROOT, "sql", name)) as f:
        return sql_script.split_statements(f.read())


DDL = sql_file("ddl.sql")
ENRICH = sql_file("enrich_final.sql")


def copy_stand_in(executor, rows):
    """What COPY does on Redshift: put the batch's rows into the session table."""
    columns = orders_schema.STAGING_COLUMN_NAMES
    with executor.conn.cursor() as cur:
        values = ", ".join(cur.mogrify("(" + ", ".join(["%s"] * len(columns)) + ")",
                                       [row[c] for c in columns]).decode() for row in rows)
    return "INSERT INTO %s (%s) VALUES %s" % (staging_load.BATCH_TABLE, ", ".join(columns), values)


def load(executor, rows):
    executor.run(staging_load.load_statements(copy_stand_in(executor, rows)))


RUNS = [orders_data.RUN_A, orders_data.RUN_B]


def enrich(executor, runs=RUNS):
    executor.run(final_job.enrich_statements(runs, ENRICH))


def counts(executor, layer, runs=RUNS):
    return warehouse_counts.counts_per_run(executor, layer, runs)


def final_rows(executor):
    return executor.query("SELECT * FROM final.orders ORDER BY run_id, order_id, line_number")


def test_ddl_is_idempotent_and_staging_matches_the_parquet_layout(warehouse):
    warehouse.run(DDL)
    warehouse.run(DDL)
    columns = [r[0] for r in warehouse.query(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'staging' AND table_name = 'orders' ORDER BY ordinal_position")]
    # COPY maps Parquet columns by position: the table must be in the files' order.
    assert columns == orders_schema.STAGING_COLUMN_NAMES
    assert warehouse.query("SELECT count(*) FROM information_schema.tables "
                           "WHERE table_schema = 'final' AND table_name = 'orders'") == [(1,)]


def test_the_load_job_statements_end_with_the_redshift_copy():
    statements = load_job.load_statements("s3://staging-bucket/redshift-copy/jr_1/",
                                           "arn:aws:iam::123456789012:role/orders-redshift-copy")
    assert statements[1] == ("COPY orders_load FROM 's3://staging-bucket/redshift-copy/jr_1/' "
                             "IAM_ROLE 'arn:aws:iam::123456789012:role/orders-redshift-copy' FORMAT AS PARQUET")
    assert statements == staging_load.load_statements(statements[1])


def test_loading_the_same_batch_twice_keeps_one_row_per_product(warehouse):
    warehouse.run(DDL)
    rows = orders_data.exploded(orders_data.ORDERS)
    load(warehouse, rows[:3])
    load(warehouse, rows)  # a retried run reloads rows it already loaded
    load(warehouse, rows)
    assert counts(warehouse, audit_table.REDSHIFT_STAGING) == \
        orders_data.products_per_run(orders_data.ORDERS) == {orders_data.RUN_A: 4, orders_data.RUN_B: 2}
    assert warehouse.query("SELECT count(*) FROM pg_tables WHERE tablename = 'orders_load'") == [(0,)]


def test_a_record_delivered_twice_in_one_load_counts_once_and_the_earliest_copy_stays(warehouse):
    warehouse.run(DDL)
    rows = orders_data.exploded(orders_data.ORDERS)
    again = [dict(r, processing_timestamp=r["processing_timestamp"] + datetime.timedelta(seconds=30)) for r in rows[:3]]
    load(warehouse, again + rows)  # the resent copy, stamped later, arrives first
    assert counts(warehouse, audit_table.REDSHIFT_STAGING) == {orders_data.RUN_A: 4, orders_data.RUN_B: 2}
    stamps = warehouse.query(
        "SELECT processing_timestamp FROM staging.orders WHERE order_id = '%s' ORDER BY line_number" % rows[0]["order_id"])
    assert [t for (t,) in stamps] == [r["processing_timestamp"] for r in rows[:3]]
    enrich(warehouse)
    assert counts(warehouse, audit_table.REDSHIFT_FINAL) == {orders_data.RUN_A: 4, orders_data.RUN_B: 2}
    assert warehouse.query("SELECT count(*) FROM (SELECT order_id, line_number FROM final.orders "
                           "GROUP BY order_id, line_number HAVING count(*) > 1) d") == [(0,)]


def test_staging_orders_keeps_the_last_load_only_and_enrich_touches_only_its_runs(warehouse):
    warehouse.run(DDL)
    rows = orders_data.exploded(orders_data.ORDERS)
    run_a = [r for r in rows if r["run_id"] == orders_data.RUN_A]
    run_b = [r for r in rows if r["run_id"] == orders_data.RUN_B]
    load(warehouse, run_a)
    enrich(warehouse, [orders_data.RUN_A])
    load(warehouse, run_b)  # the next workflow run's load: run A leaves staging.orders
    assert counts(warehouse, audit_table.REDSHIFT_STAGING) == {orders_data.RUN_B: 2}
    enrich(warehouse, [orders_data.RUN_B])
    assert counts(warehouse, audit_table.REDSHIFT_FINAL) == {orders_data.RUN_A: 4, orders_data.RUN_B: 2}


def test_enrich_twice_gives_the_same_final_orders(warehouse):
    warehouse.run(DDL)
    load(warehouse, orders_data.exploded(orders_data.ORDERS))
    enrich(warehouse)
    first = final_rows(warehouse)
    enrich(warehouse)
    assert final_rows(warehouse) == first
    assert len(first) == 6
    assert counts(warehouse, audit_table.REDSHIFT_FINAL) == counts(warehouse, audit_table.REDSHIFT_STAGING)


def test_enrich_computes_amount_date_parts_and_latency(warehouse):
    warehouse.run(DDL)
    load(warehouse, orders_data.exploded(orders_data.ORDERS))
    enrich(warehouse)
    got = warehouse.query(
        "SELECT line_amount, order_date, order_year, order_month, order_day, order_hour, order_day_of_week, "
        "processing_latency_seconds FROM final.orders WHERE order_id = 'b2000000-0000-0000-0000-000000000001' "
        "AND line_number = 2")
    # 4 x 250.00, placed Sunday 2026-11-29 23:59:59.999, stamped 00:00:02: 3 whole seconds.
    assert got == [(Decimal("1000.00"), datetime.date(2026, 11, 29), 2026, 11, 29, 23, 0, 3)]
    amounts = warehouse.query("SELECT line_number, line_amount FROM final.orders "
                              "WHERE order_id = 'bee482f1-833c-4395-9d85-0ca6b963d6e7' ORDER BY line_number")
    assert amounts == [(1, Decimal("39.98")), (2, Decimal("5.00")), (3, Decimal("0.30"))]


def test_enrich_replaces_a_reloaded_run_and_keeps_other_runs(warehouse):
    warehouse.run(DDL)
    load(warehouse, orders_data.exploded(orders_data.ORDERS))
    enrich(warehouse)
    # Run B is reloaded with corrected rows and enriched again; run A is not touched.
    warehouse.run(["DELETE FROM staging.orders WHERE run_id = '%s'" % orders_data.RUN_A,
                   "UPDATE staging.orders SET quantity = 5 WHERE product_code = 'P-005'"])
    enrich(warehouse, [orders_data.RUN_B])
    assert counts(warehouse, audit_table.REDSHIFT_FINAL) == \
        {orders_data.RUN_A: 4, orders_data.RUN_B: 2}
    assert warehouse.query("SELECT line_amount FROM final.orders WHERE product_code = 'P-005'") == [(Decimal("1250.00"),)]


def test_a_failing_enrich_rolls_back_its_delete(warehouse):
    warehouse.run(DDL)
    load(warehouse, orders_data.exploded(orders_data.ORDERS))
    enrich(warehouse)
    before = final_rows(warehouse)
    # A line amount beyond DECIMAL(18,2) makes the INSERT fail after the DELETE ran.
    warehouse.run(["UPDATE staging.orders SET quantity = 2000000000, unit_price = 99999999.99 "
                   "WHERE product_code = 'P-005'"])
    with pytest.raises(psycopg2.errors.NumericValueOutOfRange):
        enrich(warehouse)
    assert final_rows(warehouse) == before


def test_final_job_applies_ddl_then_enrich(warehouse):
    final_job.run(warehouse, DDL, ENRICH, [])  # on an empty warehouse: creates the tables, moves nothing
    assert final_rows(warehouse) == []
    load(warehouse, orders_data.exploded(orders_data.ORDERS))
    final_job.run(warehouse, DDL, ENRICH, RUNS)
    assert len(final_rows(warehouse)) == 6


def test_redshift_audit_job_writes_counts_once(warehouse, dynamodb, run_state):
    import run_selection
    from conftest import RUN_STATE

    warehouse.run(DDL)
    load(warehouse, orders_data.exploded(orders_data.ORDERS))
    enrich(warehouse)
    identity = {"JOB_NAME": "orders_redshift_final_audit_load", "JOB_RUN_ID": "jr_1"}
    args = {"layer": audit_table.REDSHIFT_FINAL, "audit_table": AUDIT_TABLE, "run_state_table": RUN_STATE}
    ddb, _ = run_state
    run_selection.add_pending(ddb, RUN_STATE, RUNS + ["20261128T090000Z-00000009"])
    assert redshift_audit_load.run(args, identity, warehouse, dynamodb, RUNS) == (2, 0)
    # The last step counted them: only the run of another workflow run stays pending.
    assert run_selection.pending_runs(ddb, RUN_STATE) == ["20261128T090000Z-00000009"]
    assert redshift_audit_load.run(args, dict(identity, JOB_RUN_ID="jr_2"), warehouse, dynamodb, RUNS) == (0, 2)
    assert redshift_audit_load.run(args, identity, warehouse, dynamodb, []) == (0, 0)
    assert audit_table.read_counts(dynamodb, AUDIT_TABLE, audit_table.REDSHIFT_FINAL) == \
        orders_data.products_per_run(orders_data.ORDERS)
    item = dynamodb.get_item(TableName=AUDIT_TABLE, Key={"run_id": {"S": orders_data.RUN_B},
                                                         "layer": {"S": "redshift_final"}})["Item"]
    assert item["job_run_id"] == {"S": "jr_1"}  # the quiet re-run left the item alone


def test_sql_files_split_into_the_expected_statements():
    def head(statement):
        code = [line for line in statement.splitlines() if line.strip() and not line.startswith("--")]
        return code[0].split("(")[0].strip()

    assert [head(s) for s in DDL] == [
        "CREATE SCHEMA IF NOT EXISTS staging", "CREATE SCHEMA IF NOT EXISTS final",
        "CREATE TABLE IF NOT EXISTS staging.orders", "CREATE TABLE IF NOT EXISTS final.orders"]
    assert len(ENRICH) == 2
    assert [head(s) for s in ENRICH] == ["DELETE FROM final.orders", "INSERT INTO final.orders"]
    assert all("enrich_runs" in s for s in ENRICH)  # both touch only the manifest's runs


def test_both_tables_are_sorted_by_run_id(warehouse):
    warehouse.run(DDL)
    indexes = warehouse.query("SELECT schemaname, tablename, indexdef FROM pg_indexes WHERE indexname = 'orders_sortkey' ORDER BY 1")
    assert [(s, t) for s, t, _ in indexes] == [("final", "orders"), ("staging", "orders")]
    assert all(d.endswith("(run_id)") for _, _, d in indexes)
    warehouse.run(DDL)  # idempotent, as it runs before every load


def test_enrich_selects_its_runs_by_literal_run_ids_and_refuses_an_unrestricted_statement():
    statements = final_job.enrich_statements(RUNS, ENRICH)
    assert all("enrich_runs" not in s and "'%s'" % RUNS[0] in s for s in statements)
    with pytest.raises(ValueError, match="does not select its runs"):
        final_job.enrich_statements(RUNS, ENRICH + ["DELETE FROM final.orders"])
    with pytest.raises(ValueError):
        final_job.enrich_statements(["x'; DROP TABLE final.orders; --"], ENRICH)
