"""orders_landing_audit_load / orders_staging_audit_load (Glue Python shell).

Counts the records of the runs this workflow run audits in one S3 layer with
Athena and upserts them into the audit table.

- s3_landing chooses the runs (common/run_selection.py): the runs closed
  since the last audit, and closed runs with landing objects new since then
  (the landing events queue), and the runs still pending from a workflow
  run that stopped half-way. It registers the new objects' partitions,
  counts those runs, writes the counts, then the manifest of the workflow
  run, marks its runs pending and the closed runs counted, and deletes the
  events it read.
  Arguments: --layer s3_landing --database --table --athena_workgroup
  --audit_table --run_state_table --events_queue_url --manifest_path.
- s3_staging counts the manifest's runs. Arguments: --layer s3_staging
  --database --table --athena_workgroup --audit_table --manifest_path.

"""
from __future__ import annotations

import logging
import sys
import time
from typing import Callable, Dict, List, Tuple

import athena_counts
import audit_table
import boto3
import glue_catalog
import glue_logging
import job_args
import run_selection

ARGUMENTS = ["layer", "database", "table", "athena_workgroup", "audit_table", "manifest_path"]
LANDING_ARGUMENTS = ["run_state_table", "events_queue_url"]

log = logging.getLogger("athena_audit_load")


def register_partitions(glue, database: str, table: str, partitions: List[Tuple[str, str, str]]) -> int:
    """Adds the landing partitions of new objects to the catalog table (its own
    storage descriptor, as the crawler's InheritFromTable does); existing ones stay."""
    if not partitions:
        return 0
    t = glue.get_table(DatabaseName=database, Name=table)["Table"]
    sd = t["StorageDescriptor"]
    location = sd["Location"].rstrip("/") + "/"
    added = 0
    for i in range(0, len(partitions), 100):
        inputs = []
        for date, hour, run in partitions[i:i + 100]:
            part_sd = dict(sd, Location="%sprocessing_date=%s/processing_hour=%s/run=%s/" % (location, date, hour, run))
            inputs.append({"Values": [date, hour, run], "StorageDescriptor": part_sd})
        out = glue.batch_create_partition(DatabaseName=database, TableName=table, PartitionInputList=inputs)
        errors = [e for e in out.get("Errors") or [] if e.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"]
        if errors:
            raise RuntimeError("registering partitions of %s.%s: %s" % (database, table, errors))
        added += len(inputs) - len(out.get("Errors") or [])
    return added


def run(args: Dict[str, str], identity: Dict[str, str], athena, dynamodb, s3=None, sqs=None, glue=None,
        workflow_run_id: str = "manual", sleep: Callable[[float], None] = time.sleep) -> Tuple[int, int]:
    layer = athena_counts.check_s3_layer(args["layer"])
    if glue is not None and not glue_catalog.table_exists(glue, args["database"], args["table"]):
        # staging_orders appears with the first staging data; querying it before fails in Athena.
        log.info("no table %s.%s in the catalog yet: nothing to audit", args["database"], args["table"])
        return 0, 0
    manifest = run_selection.manifest_uri(args["manifest_path"], workflow_run_id)
    handles: List[str] = []
    closed: List[dict] = []
    if layer == audit_table.S3_LANDING:
        keys, handles = run_selection.drain(sqs, args["events_queue_url"])
        added = register_partitions(glue, args["database"], args["table"],
                                    run_selection.landing_partitions(keys, "orders/"))
        runs, closed = run_selection.select_runs(dynamodb, args["run_state_table"], keys)
        log.info("%d new landing object(s), %d partition(s) added, %d run(s) closed since the last audit, "
                 "%d run(s) to count: %s", len(keys), added, len(closed), len(runs), [r["run_id"] for r in runs])
    else:
        runs = run_selection.read_manifest(s3, manifest)
    counts = athena_counts.counts_per_run(athena, layer, args["database"], args["table"],
                                          args["athena_workgroup"], runs, sleep=sleep)
    if not runs:
        log.info("no run to count in this workflow run")
    result = audit_table.record_counts(dynamodb, args["audit_table"], layer, counts,
                                       identity[job_args.JOB_NAME], identity[job_args.JOB_RUN_ID])
    if layer == audit_table.S3_LANDING:
        # Only after the counts are written: a failure before here leaves the
        # events and the uncounted runs for the next audit.
        counted = [r for r in runs if r["run_id"] in counts]
        run_selection.write_manifest(s3, manifest, counted, identity[job_args.JOB_RUN_ID])
        run_selection.add_pending(dynamodb, args["run_state_table"], [r["run_id"] for r in counted])
        run_selection.mark_counted(dynamodb, args["run_state_table"], [r["run_id"] for r in closed],
                                   audit_table.utc_now())
        run_selection.delete_messages(sqs, args["events_queue_url"], handles)
    return result


def main(argv=None) -> None:
    argv = sys.argv if argv is None else argv
    glue_logging.setup()
    args = job_args.resolve(argv, ARGUMENTS, LANDING_ARGUMENTS)
    if args["layer"] == audit_table.S3_LANDING:
        args = job_args.resolve(argv, ARGUMENTS + LANDING_ARGUMENTS)
    workflow = job_args.workflow_run_id(argv)
    run(args, job_args.run_identity(argv), boto3.client("athena"), boto3.client("dynamodb"), boto3.client("s3"),
        boto3.client("sqs"), boto3.client("glue"), workflow_run_id=workflow)


if __name__ == "__main__":
    main()
