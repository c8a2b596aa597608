"""orders_redshift_staging_audit_load / orders_redshift_final_audit_load (Glue Python shell).

Counts the rows of the runs of this workflow run's manifest in one Redshift
layer through the Data API and upserts them into the audit table.
Arguments: --layer redshift_staging|redshift_final --audit_table
--manifest_path + the warehouse arguments.
"""
from __future__ import annotations

import logging
import sys
from typing import Dict, Sequence, Tuple

import audit_table
import boto3
import glue_logging
import job_args
import redshift_data
import run_selection
import warehouse_counts

ARGUMENTS = ["layer", "audit_table", "manifest_path"]

log = logging.getLogger("redshift_audit_load")


def run(args: Dict[str, str], identity: Dict[str, str], executor: redshift_data.Executor,
        dynamodb, run_ids: Sequence[str]) -> Tuple[int, int]:
    layer = audit_table.check_layer(args["layer"])
    if layer not in warehouse_counts.LAYER_TABLES:
        raise ValueError("Redshift counts only the layers %s, not %r" % (", ".join(warehouse_counts.LAYER_TABLES), layer))
    counts = warehouse_counts.counts_per_run(executor, layer, run_ids)
    if not counts:
        log.info("no run of this workflow run in %s: nothing to audit", warehouse_counts.LAYER_TABLES[layer])
    return audit_table.record_counts(dynamodb, args["audit_table"], layer, counts,
                                     identity[job_args.JOB_NAME], identity[job_args.JOB_RUN_ID])


def main(argv=None) -> None:
    argv = sys.argv if argv is None else argv
    glue_logging.setup()
    args = job_args.resolve(argv, ARGUMENTS)
    executor = redshift_data.DataApiExecutor.from_args(boto3.client("redshift-data"), job_args.warehouse(argv))
    workflow = job_args.resolve(argv, [], ["WORKFLOW_RUN_ID"]).get("WORKFLOW_RUN_ID", "manual")
    runs = run_selection.read_manifest(boto3.client("s3"), run_selection.manifest_uri(args["manifest_path"], workflow))
    run(args, job_args.run_identity(argv), executor, boto3.client("dynamodb"), [r["run_id"] for r in runs])


if __name__ == "__main__":
    main()
