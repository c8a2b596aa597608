"""orders_redshift_staging_audit_load / orders_redshift_final_audit_load (Glue Python shell).

Counts the rows of the runs of this workflow run's manifest in one Redshift
layer through the Data API and upserts them into the audit table.
The final audit is the workflow's last step: after writing its counts it
takes the manifest's runs off the pending runs (--run_state_table), since
every layer has now counted them.
Arguments: --layer redshift_staging|redshift_final --audit_table
--manifest_path [--run_state_table, redshift_final] + the warehouse arguments.
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
FINAL_ARGUMENTS = ["run_state_table"]

log = logging.getLogger("redshift_audit_load")


def run(args: Dict[str, str], identity: Dict[str, str], executor: redshift_data.Executor,
        dynamodb, run_ids: Sequence[str]) -> Tuple[int, int]:
    layer = audit_table.check_layer(args["layer"])
    if layer not in warehouse_counts.LAYER_TABLES:
        raise ValueError("Redshift counts only the layers %s, not %r" % (", ".join(warehouse_counts.LAYER_TABLES), layer))
    counts = warehouse_counts.counts_per_run(executor, layer, run_ids)
    if not counts:
        log.info("no run of this workflow run in %s: nothing to audit", warehouse_counts.LAYER_TABLES[layer])
    result = audit_table.record_counts(dynamodb, args["audit_table"], layer, counts,
                                       identity[job_args.JOB_NAME], identity[job_args.JOB_RUN_ID])
    if layer == audit_table.REDSHIFT_FINAL:
        run_selection.complete(dynamodb, args["run_state_table"], run_ids)
    return result


def main(argv=None) -> None:
    argv = sys.argv if argv is None else argv
    glue_logging.setup()
    args = job_args.resolve(argv, ARGUMENTS)
    if args["layer"] == audit_table.REDSHIFT_FINAL:
        args = job_args.resolve(argv, ARGUMENTS + FINAL_ARGUMENTS)
    executor = redshift_data.DataApiExecutor.from_args(boto3.client("redshift-data"), job_args.warehouse(argv))
    runs = run_selection.workflow_runs(boto3.client("s3"), argv, args["manifest_path"])
    run(args, job_args.run_identity(argv), executor, boto3.client("dynamodb"), [r["run_id"] for r in runs])


if __name__ == "__main__":
    main()
