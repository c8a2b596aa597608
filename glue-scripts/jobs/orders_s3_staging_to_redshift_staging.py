"""orders_s3_staging_to_redshift_staging (Glue 5.0 Spark, job bookmarks on).

Applies the DDL (on every run, so staging.orders exists for the audit that
follows even before the first load), then reads the staging rows of the runs
of this workflow run's manifest (their run partitions only, and the
predecessors' partitions for the duplicate rule), drops the orders that a
run's predecessor also holds (they belong to the earlier run), writes the
rest as Parquet to <copy_path>/<job run id>/ in staging.orders column order
and loads them into staging.orders with COPY through the Redshift Data API
(no JDBC connection, so no VPC for Glue); the load keeps each key once
(common/staging_load.py). With no run in the manifest, or no staging table in
the catalog yet, it ends successfully without loading.
Arguments: --database --staging_table --copy_path --copy_role_arn
--ddl_sql_uri --manifest_path (+ JOB_NAME) + the warehouse arguments.
"""
from __future__ import annotations

import datetime
import logging
import re
import sys
from typing import List

import bookmarks
import glue_logging
import job_args
import orders_schema
import redshift_copy
import staging_load

ARGUMENTS = [job_args.JOB_NAME, "database", "staging_table", "copy_path", "copy_role_arn", "ddl_sql_uri", "manifest_path"]
# Names the bookmark state of the staging read; renaming it reloads everything.
STAGING_CONTEXT = "staging_orders"

_RUN_ID = re.compile(r"^[A-Za-z0-9_\-]+$")

log = logging.getLogger("orders_s3_staging_to_redshift_staging")


def copy_prefix(copy_path: str, job_run_id: str) -> str:
    """The folder this run's COPY reads: <copy_path>/<job run id>/ (a run's files only)."""
    job_args.split_s3_uri(copy_path)
    if job_run_id == "unknown":
        job_run_id = "manual-" + datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    if not _RUN_ID.match(job_run_id):
        raise ValueError("unexpected job run id %r" % job_run_id)
    return copy_path.rstrip("/") + "/" + job_run_id + "/"


def run_predicates(runs) -> tuple:
    """(the manifest runs' partition predicate, their predecessors' one or None)."""
    import warehouse_counts

    counted = warehouse_counts.run_list([r["run_id"] for r in runs])
    previous = [r["previous_run_id"] for r in runs if r.get("previous_run_id")]
    return ("%s IN (%s)" % (orders_schema.RUN_PARTITION, counted),
            "%s IN (%s)" % (orders_schema.RUN_PARTITION, warehouse_counts.run_list(previous)) if previous else None)


def load_statements(prefix: str, copy_role_arn: str) -> List[str]:
    """The transaction that loads the files under prefix into staging.orders."""
    return staging_load.load_statements(
        redshift_copy.copy_parquet(staging_load.BATCH_TABLE, prefix, copy_role_arn))


def main(argv=None) -> None:  # pragma: no cover - needs the Glue Spark runtime
    import boto3
    import redshift_data
    import sql_script
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from pyspark.context import SparkContext

    argv = sys.argv if argv is None else argv
    glue_logging.setup()
    args = job_args.resolve(argv, ARGUMENTS)
    warehouse = job_args.warehouse(argv)
    prefix = copy_prefix(args["copy_path"], job_args.run_identity(argv)[job_args.JOB_RUN_ID])
    statements = load_statements(prefix, args["copy_role_arn"])

    spark_context = SparkContext.getOrCreate()
    # COPY loads every object under the prefix: no _SUCCESS marker beside the Parquet files.
    spark_context._jsc.hadoopConfiguration().set("mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
    glue = GlueContext(spark_context)
    job = Job(glue)
    job.init(args[job_args.JOB_NAME], args)

    import glue_catalog
    import run_selection

    # The DDL first, new rows or not: the Redshift staging audit that follows counts
    # staging.orders, which must exist even before the first load.
    executor = redshift_data.DataApiExecutor.from_args(boto3.client("redshift-data"), warehouse)
    executor.run(sql_script.load_statements(boto3.client("s3"), args["ddl_sql_uri"]))

    runs = run_selection.workflow_runs(boto3.client("s3"), argv, args["manifest_path"])
    if not runs:
        log.info("no run in this workflow run's manifest: nothing to load")
        job.commit()
        return
    if not glue_catalog.table_exists(boto3.client("glue"), args["database"], args["staging_table"]):
        # The staging crawler creates the table with the first staging data.
        log.info("no table %s.%s in the catalog yet: nothing to load", args["database"], args["staging_table"])
        job.commit()
        return
    counted, previous = run_predicates(runs)
    staging = glue.create_dynamic_frame.from_catalog(
        database=args["database"], table_name=args["staging_table"], **bookmarks.partition_filter(counted)).toDF()
    if previous:
        # The duplicate rule: an order its run's predecessor holds is that run's.
        from pyspark.sql import functions as F

        pairs = glue.spark_session.createDataFrame(
            [(r["run_id"], r["previous_run_id"]) for r in runs if r.get("previous_run_id")], ["run_id", "previous_run_id"])
        earlier = (glue.create_dynamic_frame.from_catalog(
            database=args["database"], table_name=args["staging_table"], **bookmarks.partition_filter(previous)).toDF()
            .select(F.col("run_id").alias("previous_run_id"), "order_id").distinct()
            .join(pairs, "previous_run_id"))
        staging = staging.join(earlier.select("run_id", "order_id"), ["run_id", "order_id"], "left_anti")

    # COPY maps Parquet columns to table columns by position.
    staging.select(*orders_schema.STAGING_COLUMN_NAMES).write.mode("overwrite").parquet(prefix)
    executor.run(statements)
    log.info("loaded the new staging rows from %s into %s", prefix, staging_load.TARGET)
    job.commit()


if __name__ == "__main__":
    main()
