"""Writes record counts into the audit table (contract: internal/audit/audit.go).

One item per run id and layer. A write happens only when the count is new or
different, so re-running an audit job changes nothing and the table's stream,
which drives the SUCCESS / FAILURE notifications, sees no spurious update.
"""
from __future__ import annotations

import datetime
import logging
from typing import Callable, Dict, Mapping, Tuple

from botocore.exceptions import ClientError

RUN_ID_KEY = "run_id"
LAYER_KEY = "layer"
RECORD_COUNT_ATTR = "record_count"
JOB_NAME_ATTR = "job_name"
JOB_RUN_ID_ATTR = "job_run_id"
RECORDED_AT_ATTR = "recorded_at"

S3_LANDING = "s3_landing"
S3_STAGING = "s3_staging"
REDSHIFT_STAGING = "redshift_staging"
REDSHIFT_FINAL = "redshift_final"
LAYERS = (S3_LANDING, S3_STAGING, REDSHIFT_STAGING, REDSHIFT_FINAL)

log = logging.getLogger(__name__)


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_layer(layer: str) -> str:
    if layer not in LAYERS:
        raise ValueError("unknown audit layer %r, expected one of %s" % (layer, ", ".join(LAYERS)))
    return layer


def upsert_count(client, table: str, run_id: str, layer: str, count: int,
                 job_name: str, job_run_id: str, recorded_at: str) -> bool:
    """Writes the count for (run_id, layer); False when the item already holds that count."""
    check_layer(layer)
    if not run_id:
        raise ValueError("empty run_id for layer %s" % layer)
    if count < 0:
        raise ValueError("negative record count %d for run %s" % (count, run_id))
    try:
        client.update_item(
            TableName=table,
            Key={RUN_ID_KEY: {"S": run_id}, LAYER_KEY: {"S": layer}},
            UpdateExpression="SET #c = :c, #j = :j, #r = :r, #t = :t",
            ConditionExpression="attribute_not_exists(#c) OR #c <> :c",
            ExpressionAttributeNames={
                "#c": RECORD_COUNT_ATTR, "#j": JOB_NAME_ATTR,
                "#r": JOB_RUN_ID_ATTR, "#t": RECORDED_AT_ATTR,
            },
            ExpressionAttributeValues={
                ":c": {"N": str(int(count))}, ":j": {"S": job_name},
                ":r": {"S": job_run_id}, ":t": {"S": recorded_at},
            },
        )
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def record_counts(client, table: str, layer: str, counts: Mapping[str, int], job_name: str,
                  job_run_id: str, now: Callable[[], str] = utc_now) -> Tuple[int, int]:
    """Upserts every run's count; returns (written, unchanged)."""
    written = unchanged = 0
    recorded_at = now()
    for run_id in sorted(counts):
        if upsert_count(client, table, run_id, layer, counts[run_id], job_name, job_run_id, recorded_at):
            written += 1
            log.info("audit %s run %s: %d records written", layer, run_id, counts[run_id])
        else:
            unchanged += 1
    log.info("audit %s: %d run(s) written, %d unchanged", layer, written, unchanged)
    return written, unchanged


def read_counts(client, table: str, layer: str) -> Dict[str, int]:
    """Counts of one layer by run id (scan; for checks and tests, the table is small)."""
    found: Dict[str, int] = {}
    kwargs = {
        "TableName": table,
        "FilterExpression": "#l = :l",
        "ExpressionAttributeNames": {"#l": LAYER_KEY},
        "ExpressionAttributeValues": {":l": {"S": layer}},
    }
    while True:
        page = client.scan(**kwargs)
        for item in page.get("Items", []):
            found[item[RUN_ID_KEY]["S"]] = int(item[RECORD_COUNT_ATTR]["N"])
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
