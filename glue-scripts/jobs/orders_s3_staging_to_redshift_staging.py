"""orders_s3_staging_to_redshift_staging (Glue 5.0 Spark, job bookmarks on).

Applies the DDL (on every run, so staging.orders exists for the audit that
follows even before the first load), reads the staging rows the bookmark has
not seen, writes them as Parquet to <copy_path>/<job run id>/ in
staging.orders column order and loads them into staging.orders with COPY
through the Redshift Data API (no JDBC connection, so no VPC for Glue). With
nothing new it commits the bookmark and ends successfully without loading. Arguments: --database
--staging_table --copy_path --copy_role_arn --ddl_sql_uri (+ JOB_NAME) + the
warehouse arguments.
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

ARGUMENTS = [job_args.JOB_NAME, "database", "staging_table", "copy_path", "copy_role_arn", "ddl_sql_uri"]
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

    # The DDL first, new rows or not: the Redshift staging audit that follows counts
    # staging.orders, which must exist even before the first load.
    executor = redshift_data.DataApiExecutor.from_args(boto3.client("redshift-data"), warehouse)
    executor.run(sql_script.load_statements(boto3.client("s3"), args["ddl_sql_uri"]))

    staging = bookmarks.read_new_rows(glue, job, args["database"], args["staging_table"], STAGING_CONTEXT, log,
                                      catalog=boto3.client("glue"))
    if staging is None:
        return

    # COPY maps Parquet columns to table columns by position.
    staging.select(*orders_schema.STAGING_COLUMN_NAMES).write.mode("overwrite").parquet(prefix)
    executor.run(statements)
    log.info("loaded the new staging rows from %s into %s", prefix, staging_load.TARGET)
    job.commit()


if __name__ == "__main__":
    main()
