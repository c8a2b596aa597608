"""orders_redshift_staging_to_redshift_final (Glue Python shell).

Applies the DDL, then moves the enriched rows of every run id in
staging.orders into final.orders in one transaction (sql/enrich_final.sql),
replacing what final.orders held for those run ids. Arguments:
--ddl_sql_uri --enrich_final_sql_uri + the warehouse arguments.
"""
from __future__ import annotations

import logging
import sys
from typing import Sequence

import boto3
import glue_logging
import job_args
import redshift_data
import sql_script

ARGUMENTS = ["ddl_sql_uri", "enrich_final_sql_uri"]

log = logging.getLogger("orders_redshift_staging_to_redshift_final")


def run(executor: redshift_data.Executor, ddl: Sequence[str], enrich: Sequence[str]) -> None:
    executor.run(ddl)
    executor.run(enrich)
    log.info("final.orders now holds the enriched rows of every run id in staging.orders")


def main(argv=None) -> None:
    argv = sys.argv if argv is None else argv
    glue_logging.setup()
    args = job_args.resolve(argv, ARGUMENTS)
    executor = redshift_data.DataApiExecutor.from_args(boto3.client("redshift-data"), job_args.warehouse(argv))
    s3 = boto3.client("s3")
    run(executor, sql_script.load_statements(s3, args["ddl_sql_uri"]),
        sql_script.load_statements(s3, args["enrich_final_sql_uri"]))


if __name__ == "__main__":
    main()
