"""The local Redshift Data API: batches are one transaction, COPY loads the
Parquet under an S3 prefix by column position; driven by the jobs' own
Data API executor and SQL."""
from __future__ import annotations

import io
import sys
import uuid

import boto3
import orders_schema
import pytest
import redshift_copy
import redshift_data
import sql_script
import staging_load
from botocore.config import Config
from rehearsal.dataapi_local import DataApiLocal
from rehearsal.env import REPO
from rehearsal.workflow import LocalWorkflow

sys.path.insert(0, str(REPO / "glue-scripts" / "tests"))
import orders_data  # noqa: E402


@pytest.fixture
def warehouse(fresh):
    env = fresh
    wh = LocalWorkflow(env)._warehouse()
    server = DataApiLocal(env.pg_dsn, env.client("s3"), **wh)
    url = server.start()
    client = boto3.client("redshift-data", endpoint_url=url, region_name=env.region, aws_access_key_id="testing",
                          aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}))
    executor = redshift_data.DataApiExecutor(client, sorted(wh["databases"])[0], sorted(wh["secrets"])[0],
                                             workgroup_name=sorted(wh["workgroups"])[0], poll_seconds=0.05)
    try:
        yield env, server, executor, wh
    finally:
        server.stop()


def test_a_batch_is_one_transaction(warehouse):
    env, server, executor, _ = warehouse
    schema = "t_" + uuid.uuid4().hex[:8]
    with pytest.raises(redshift_data.RedshiftStatementError) as err:
        executor.run(["CREATE SCHEMA %s" % schema, "CREATE TABLE %s.t (a INTEGER)" % schema,
                      "INSERT INTO %s.t VALUES (1)" % schema, "INSERT INTO %s.missing VALUES (1)" % schema])
    text = str(err.value)
    assert "failing statement 4 of 4" in text and 'relation "%s.missing" does not exist' % schema in text
    assert executor.query("SELECT count(*) FROM pg_namespace WHERE nspname = '%s'" % schema) == [(0,)]

    executor.run(["CREATE SCHEMA %s" % schema, "CREATE TABLE %s.t (a INTEGER, b VARCHAR(8))" % schema,
                  "INSERT INTO %s.t VALUES (1, 'x'), (2, NULL)" % schema])
    assert executor.query("SELECT a, b FROM %s.t ORDER BY a" % schema) == [(1, "x"), (2, None)]
    statement = list(server.statements.values())[-1]
    assert statement.work()["rows_scanned"] == 2


def test_temporary_tables_live_through_one_batch_only(warehouse):
    env, server, executor, _ = warehouse
    executor.run(["CREATE TEMP TABLE scratch (a INTEGER)", "INSERT INTO scratch VALUES (1)"])
    with pytest.raises(redshift_data.RedshiftStatementError, match='relation "scratch" does not exist'):
        executor.query("SELECT * FROM scratch")


def _staging_parquet(rows, renamed: bool) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"order_timestamp": pa.timestamp("us"), "processing_timestamp": pa.timestamp("us"),
             "line_number": pa.int32(), "quantity": pa.int32(), "unit_price": pa.decimal128(10, 2)}
    names = orders_schema.STAGING_COLUMN_NAMES
    arrays = [pa.array([r[c] for r in rows], type=types.get(c, pa.string())) for c in names]
    # COPY ignores the Parquet column names: it maps by position.
    table = pa.Table.from_arrays(arrays, names=["c%d" % i for i in range(len(names))] if renamed else names)
    buf = io.BytesIO()
    pq.write_table(table, buf, use_deprecated_int96_timestamps=True)
    return buf.getvalue()


def _copy_prefix(env, name):
    bucket = env.templates.name_of("storage", next(lid for lid in env.templates.resources("storage", "AWS::S3::Bucket")
                                                   if "Staging" in lid))
    return bucket, "redshift-copy/%s/" % name


def test_copy_loads_the_parquet_under_the_prefix_by_position(warehouse):
    env, server, executor, wh = warehouse
    rows = orders_data.exploded(orders_data.ORDERS)
    bucket, prefix = _copy_prefix(env, "jr_" + uuid.uuid4().hex)
    s3 = env.client("s3")
    s3.put_object(Bucket=bucket, Key=prefix + "part-0.parquet", Body=_staging_parquet(rows[:2], renamed=True))
    s3.put_object(Bucket=bucket, Key=prefix + "part-1.parquet", Body=_staging_parquet(rows[2:], renamed=True))
    ddl = sql_script.split_statements((REPO / "glue-scripts" / "sql" / "ddl.sql").read_text())
    role = sorted(wh["copy_roles"])[0]
    load = staging_load.load_statements(redshift_copy.copy_parquet(staging_load.BATCH_TABLE, "s3://%s/%s" % (bucket, prefix), role))

    executor.run(ddl)
    executor.run(load)
    executor.run(load)  # reloading the same files replaces, never duplicates

    assert executor.query("SELECT count(*) FROM staging.orders") == [(len(rows),)]
    got = executor.query("SELECT order_id, line_number, product_code, quantity, unit_price, processing_hour "
                         "FROM staging.orders ORDER BY run_id, order_id, line_number LIMIT 1")
    first = sorted(rows, key=lambda r: (r["run_id"], r["order_id"], r["line_number"]))[0]
    assert got == [(first["order_id"], first["line_number"], first["product_code"], first["quantity"],
                    str(first["unit_price"]), first["processing_hour"])]
    copy = [s for st in server.statements.values() for s in st.subs if s.sql.startswith("COPY")][-1]
    assert (copy.work["copy_files"], copy.work["copy_rows"]) == (2, len(rows))


def test_a_failing_copy_rolls_back_its_batch(warehouse):
    env, server, executor, wh = warehouse
    import pyarrow as pa
    import pyarrow.parquet as pq

    executor.run(sql_script.split_statements((REPO / "glue-scripts" / "sql" / "ddl.sql").read_text()))
    before = executor.query("SELECT count(*) FROM staging.orders")
    bucket, prefix = _copy_prefix(env, "jr_" + uuid.uuid4().hex)
    buf = io.BytesIO()
    pq.write_table(pa.table({"only": ["one column"]}), buf)
    env.client("s3").put_object(Bucket=bucket, Key=prefix + "part-0.parquet", Body=buf.getvalue())
    role = sorted(wh["copy_roles"])[0]
    load = staging_load.load_statements(redshift_copy.copy_parquet(staging_load.BATCH_TABLE, "s3://%s/%s" % (bucket, prefix), role))
    with pytest.raises(redshift_data.RedshiftStatementError, match="has 1 columns"):
        executor.run(load)
    assert executor.query("SELECT count(*) FROM staging.orders") == before

    other_role = role.rsplit("/", 1)[0] + "/someone-else"
    with pytest.raises(redshift_data.RedshiftStatementError, match="not authorized to assume IAM Role"):
        executor.run(staging_load.load_statements(
            redshift_copy.copy_parquet(staging_load.BATCH_TABLE, "s3://%s/%s" % (bucket, prefix), other_role)))
    with pytest.raises(redshift_data.RedshiftStatementError, match="does not exist"):
        executor.run(staging_load.load_statements(
            redshift_copy.copy_parquet(staging_load.BATCH_TABLE, "s3://%s/redshift-copy/none/" % bucket, role)))


def test_copy_counts_varchar_lengths_in_bytes_as_redshift_does(warehouse):
    env, server, executor, wh = warehouse
    executor.run(sql_script.split_statements((REPO / "glue-scripts" / "sql" / "ddl.sql").read_text()))
    rows = orders_data.exploded(orders_data.ORDERS)[:1]
    rows[0] = dict(rows[0], currency="€€€")  # 3 characters (PostgreSQL fits them in VARCHAR(8)), 9 bytes
    bucket, prefix = _copy_prefix(env, "jr_" + uuid.uuid4().hex)
    env.client("s3").put_object(Bucket=bucket, Key=prefix + "part-0.parquet", Body=_staging_parquet(rows, renamed=False))
    role = sorted(wh["copy_roles"])[0]
    load = staging_load.load_statements(redshift_copy.copy_parquet(staging_load.BATCH_TABLE, "s3://%s/%s" % (bucket, prefix), role))
    with pytest.raises(redshift_data.RedshiftStatementError, match="String length exceeds DDL length: column currency holds 9 bytes"):
        executor.run(load)
