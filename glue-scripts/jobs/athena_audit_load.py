"""orders_landing_audit_load / orders_staging_audit_load (Glue Python shell).

Counts the records per run id of one S3 layer with Athena and upserts them
into the audit table. Arguments: --layer s3_landing|s3_staging --database
--table --athena_workgroup --audit_table.
"""
from __future__ import annotations

import logging
import sys
import time
from typing import Callable, Dict, Tuple

import athena_counts
import audit_table
import boto3
import glue_catalog
import glue_logging
import job_args

ARGUMENTS = ["layer", "database", "table", "athena_workgroup", "audit_table"]

log = logging.getLogger("athena_audit_load")


def run(args: Dict[str, str], identity: Dict[str, str], athena, dynamodb,
        sleep: Callable[[float], None] = time.sleep, glue=None) -> Tuple[int, int]:
    layer = audit_table.check_layer(args["layer"])
    if glue is not None and not glue_catalog.table_exists(glue, args["database"], args["table"]):
        # staging_orders appears with the first staging data; querying it before fails in Athena.
        log.info("no table %s.%s in the catalog yet: nothing to audit", args["database"], args["table"])
        return 0, 0
    counts = athena_counts.counts_per_run(athena, layer, args["database"], args["table"],
                                          args["athena_workgroup"], sleep=sleep)
    if not counts:
        log.info("no run id in %s.%s yet: nothing to audit", args["database"], args["table"])
    return audit_table.record_counts(dynamodb, args["audit_table"], layer, counts,
                                     identity[job_args.JOB_NAME], identity[job_args.JOB_RUN_ID])


def main(argv=None) -> None:
    argv = sys.argv if argv is None else argv
    glue_logging.setup()
    run(job_args.resolve(argv, ARGUMENTS), job_args.run_identity(argv),
        boto3.client("athena"), boto3.client("dynamodb"), glue=boto3.client("glue"))


if __name__ == "__main__":
    main()
