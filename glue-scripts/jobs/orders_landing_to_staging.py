"""orders_landing_to_staging (Glue 5.0 Spark, job bookmarks on).

Reads the landing data of the runs in this workflow run's manifest (their
run partitions only) that the bookmark has not seen, explodes ``products`` to
one row per product and appends it to the staging area as Parquet/Snappy,
keeping the processing_date/processing_hour/run partitions. A run still open
is moved once it is closed and counted, so staging never holds data the
landing audit has not counted. With nothing new it commits the bookmark and
ends successfully without writing (seed note 3).
Arguments: --database --landing_table --staging_path --manifest_path (+ JOB_NAME).
"""
from __future__ import annotations

import logging
import sys
from typing import Dict, List

import bookmarks
import glue_logging
import job_args
import orders_schema

ARGUMENTS = [job_args.JOB_NAME, "database", "landing_table", "staging_path", "manifest_path"]
# Names the bookmark state of the landing read; renaming it rereads everything.
LANDING_CONTEXT = "landing_orders"

log = logging.getLogger("orders_landing_to_staging")


def staging_writer_options() -> Dict[str, object]:
    """How staging is written: Parquet/Snappy, Hive partitions by processing time and run, appended."""
    return {"format": "parquet", "mode": "append", "compression": "snappy",
            "partition_by": list(orders_schema.S3_PARTITION_COLUMNS)}


def check_staging_path(path: str) -> str:
    """The staging prefix must be a folder URI (s3://bucket/orders/)."""
    job_args.split_s3_uri(path)
    return path if path.endswith("/") else path + "/"


def transform_exprs() -> List[List[str]]:
    """The two selectExpr steps: explode products, then lay out the staging columns and the run partition."""
    return [orders_schema.explode_exprs(),
            orders_schema.staging_exprs() + ["run_id AS %s" % orders_schema.RUN_PARTITION]]


def manifest_predicate(runs) -> str:
    """The run partitions of the manifest's runs."""
    import warehouse_counts

    return "%s IN (%s)" % (orders_schema.RUN_PARTITION, warehouse_counts.run_list([r["run_id"] for r in runs]))


def main(argv=None) -> None:  # pragma: no cover - needs the Glue Spark runtime
    import boto3
    import run_selection
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from pyspark.context import SparkContext

    argv = sys.argv if argv is None else argv
    glue_logging.setup()
    args = job_args.resolve(argv, ARGUMENTS)
    staging_path = check_staging_path(args["staging_path"])

    glue = GlueContext(SparkContext.getOrCreate())
    job = Job(glue)
    job.init(args[job_args.JOB_NAME], args)

    runs = run_selection.workflow_runs(boto3.client("s3"), argv, args["manifest_path"])
    if not runs:
        log.info("no run in this workflow run's manifest: nothing to move")
        job.commit()
        return
    landing = bookmarks.read_new_rows(glue, job, args["database"], args["landing_table"], LANDING_CONTEXT, log,
                                      predicate=manifest_predicate(runs))
    if landing is None:
        return

    staging = landing
    for exprs in transform_exprs():
        staging = staging.selectExpr(*exprs)
    options = staging_writer_options()
    (staging.write.format(options["format"]).mode(options["mode"])
        .option("compression", options["compression"])
        .partitionBy(*options["partition_by"])
        .save(staging_path))
    log.info("appended the new landing data, one row per product, to %s", staging_path)
    job.commit()


if __name__ == "__main__":
    main()
