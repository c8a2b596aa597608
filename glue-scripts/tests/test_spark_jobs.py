"""The Spark scripts: they compile, and their Spark-free helpers do what the jobs rely on."""
from __future__ import annotations

import ast
import glob
import os
import py_compile
import re

import orders_data
import orders_landing_to_staging as to_staging
import orders_s3_staging_to_redshift_staging as to_redshift
import orders_schema
import pytest
import redshift_copy
from conftest import ROOT, contract

ROLE = "arn:aws:iam::123456789012:role/orders-redshift-copy"


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(ROOT, "jobs", "*.py"))
                                    + glob.glob(os.path.join(ROOT, "common", "*.py"))))
def test_every_script_compiles_for_the_oldest_glue_python(path, tmp_path):
    py_compile.compile(path, cfile=str(tmp_path / "out.pyc"), doraise=True)
    # Python-shell jobs run Python 3.9 (Glue 5.0 Spark runs 3.11): no newer syntax anywhere.
    with open(path) as f:
        ast.parse(f.read(), filename=path, feature_version=(3, 9))


def test_landing_columns_are_the_shared_contract():
    table = contract()["landing_table"]
    columns = [(c["name"], c["type"]) for c in table["columns"]]
    assert [name for name, _ in columns] == orders_schema.LANDING_COLUMNS
    assert [c["name"] for c in table["columns"] if c["source"] == "transformer"] == orders_schema.PROCESSING_COLUMNS
    assert [c["name"] for c in table["partition_columns"]] == orders_schema.S3_PARTITION_COLUMNS
    struct = re.match(r"array<struct<(.*)>>$", dict(columns)[orders_schema.PRODUCTS_COLUMN]).group(1)
    assert re.findall(r"(?:^|,)(\w+):", struct) == orders_schema.PRODUCT_FIELDS


def test_explode_keeps_the_order_columns_and_positions_products():
    exprs = orders_schema.explode_exprs()
    assert exprs[-1] == "posexplode(products) AS (product_index, product)"
    assert set(exprs[:-1]) == set(orders_schema.LANDING_COLUMNS + orders_schema.PARTITION_COLUMNS) - {"products"}


def test_staging_columns_end_with_the_partitions_in_file_order():
    exprs = orders_schema.staging_exprs()
    aliases = [e.split(" AS ")[-1] for e in exprs]
    assert aliases == orders_schema.STAGING_COLUMN_NAMES
    assert aliases[-2:] == orders_schema.PARTITION_COLUMNS  # Hive partitions come last in the catalog
    assert "product_index + 1 AS line_number" in exprs
    assert "product.unit_price AS unit_price" in exprs
    # Every staging column is fed: either an order column kept by the explode or a product field.
    kept = set(orders_schema.explode_exprs()[:-1])
    for expr in exprs:
        source = expr.split(" AS ")[0].split(".")[0].split(" + ")[0]
        assert source in kept or source in ("product", "product_index"), expr


def test_sample_rows_have_exactly_the_staging_columns():
    for row in orders_data.exploded(orders_data.ORDERS):
        assert sorted(row) == sorted(orders_schema.STAGING_COLUMN_NAMES)


def test_staging_is_written_as_partitioned_snappy_parquet_appended():
    assert to_staging.staging_writer_options() == {
        "format": "parquet", "mode": "append", "compression": "snappy",
        "partition_by": ["processing_date", "processing_hour", "run"]}
    # Hive partitions come last, in partition order: the run partition is a copy of run_id.
    assert [e for step in to_staging.transform_exprs() for e in step][-3:] == [
        "processing_date", "processing_hour", "run_id AS run"]


@pytest.mark.parametrize("path,expected", [
    ("s3://staging/orders/", "s3://staging/orders/"), ("s3://staging/orders", "s3://staging/orders/")])
def test_staging_path_is_a_folder(path, expected):
    assert to_staging.check_staging_path(path) == expected


def test_copy_prefix_is_one_folder_per_job_run():
    assert to_redshift.copy_prefix("s3://staging/redshift-copy/", "jr_0123abc") == "s3://staging/redshift-copy/jr_0123abc/"
    assert to_redshift.copy_prefix("s3://staging/redshift-copy", "jr_1") == "s3://staging/redshift-copy/jr_1/"
    assert re.match(r"^s3://staging/redshift-copy/manual-\d{8}T\d{6}Z/$",
                    to_redshift.copy_prefix("s3://staging/redshift-copy/", "unknown"))
    with pytest.raises(ValueError):
        to_redshift.copy_prefix("s3://staging/redshift-copy/", "../other")


def test_copy_statement_refuses_what_could_break_out_of_its_literals():
    with pytest.raises(ValueError):
        redshift_copy.copy_parquet("orders_load", "s3://b/x'; DROP TABLE staging.orders; --/", ROLE)
    with pytest.raises(ValueError):
        redshift_copy.copy_parquet("orders_load", "s3://b/x/", "arn:aws:iam::123456789012:user/someone")
    with pytest.raises(ValueError):
        redshift_copy.copy_parquet("orders_load; DROP", "s3://b/x/", ROLE)


def test_bookmark_contexts_are_stable():
    # Renaming a transformation_ctx drops its bookmark and reprocesses everything.
    assert to_staging.LANDING_CONTEXT == "landing_orders"
    assert to_redshift.STAGING_CONTEXT == "staging_orders"


class _Frame:
    def __init__(self, rows):
        self.rows = rows

    def isEmpty(self):
        return not self.rows


class _Glue:
    """Records the catalog read; stands in for GlueContext, which needs Spark."""

    def __init__(self, rows):
        self.rows, self.reads = rows, []
        self.create_dynamic_frame = self

    def from_catalog(self, **kwargs):
        self.reads.append(kwargs)
        rows = self.rows

        class _Dynamic:
            def toDF(self):
                return _Frame(rows)
        return _Dynamic()


class _Job:
    commits = 0

    def commit(self):
        self.commits += 1


def test_nothing_new_commits_the_bookmark_and_writes_nothing():
    import logging

    import bookmarks
    glue, job = _Glue([]), _Job()
    assert bookmarks.read_new_rows(glue, job, "ecommerce-database", "orders", to_staging.LANDING_CONTEXT,
                                   logging.getLogger("test")) is None
    assert job.commits == 1
    assert glue.reads == [{"database": "ecommerce-database", "table_name": "orders",
                           "transformation_ctx": "landing_orders"}]


def test_new_rows_are_returned_and_the_bookmark_waits_for_the_write():
    import logging

    import bookmarks
    glue, job = _Glue([{"order_id": "o-1"}]), _Job()
    frame = bookmarks.read_new_rows(glue, job, "ecommerce-database", "staging_orders",
                                    to_redshift.STAGING_CONTEXT, logging.getLogger("test"))
    assert frame is not None and frame.rows == [{"order_id": "o-1"}]
    assert job.commits == 0


def test_the_redshift_load_reads_the_manifest_runs_and_their_predecessors_partitions_only():
    runs = [{"run_id": "20261128T020000Z-00000002", "previous_run_id": "20261128T010000Z-00000001"},
            {"run_id": "20261128T030000Z-00000003", "previous_run_id": ""}]
    assert to_redshift.run_predicates(runs) == (
        "run IN ('20261128T020000Z-00000002', '20261128T030000Z-00000003')", "run IN ('20261128T010000Z-00000001')")
    assert to_redshift.run_predicates(runs[1:])[1] is None
    with pytest.raises(ValueError):
        to_redshift.run_predicates([{"run_id": "x' OR '1'='1"}])


def test_a_table_not_created_yet_has_no_new_rows():
    import logging

    import bookmarks
    import boto3
    from botocore.stub import Stubber

    catalog = boto3.client("glue", region_name="eu-west-1")
    with Stubber(catalog) as stub:
        stub.add_client_error("get_table", service_error_code="EntityNotFoundException",
                              expected_params={"DatabaseName": "ecommerce-database", "Name": "staging_orders"})
        glue, job = _Glue([{"order_id": "o-1"}]), _Job()
        assert bookmarks.read_new_rows(glue, job, "ecommerce-database", "staging_orders", to_redshift.STAGING_CONTEXT,
                                       logging.getLogger("test"), catalog=catalog) is None
    assert glue.reads == [] and job.commits == 1


def test_catalog_errors_other_than_a_missing_table_fail_the_job():
    import boto3
    import glue_catalog
    from botocore.exceptions import ClientError
    from botocore.stub import Stubber

    catalog = boto3.client("glue", region_name="eu-west-1")
    with Stubber(catalog) as stub:
        stub.add_client_error("get_table", service_error_code="AccessDeniedException")
        with pytest.raises(ClientError):
            glue_catalog.table_exists(catalog, "ecommerce-database", "staging_orders")
        stub.add_response("get_table", {"Table": {"Name": "staging_orders"}})
        assert glue_catalog.table_exists(catalog, "ecommerce-database", "staging_orders")


def test_landing_to_staging_reads_only_the_manifests_run_partitions_filtered_by_the_catalog():
    import bookmarks

    runs = [{"run_id": "20261128T020000Z-00000002", "previous_run_id": "20261128T010000Z-00000001"},
            {"run_id": "20261128T030000Z-00000003", "previous_run_id": "20261128T020000Z-00000002"}]
    predicate = to_staging.manifest_predicate(runs)
    assert predicate == "run IN ('20261128T020000Z-00000002', '20261128T030000Z-00000003')"  # not the predecessors
    assert bookmarks.partition_filter(predicate) == {
        "push_down_predicate": predicate, "additional_options": {"catalogPartitionPredicate": predicate}}
    with pytest.raises(ValueError):
        to_staging.manifest_predicate([{"run_id": "x') OR ('1'='1"}])
