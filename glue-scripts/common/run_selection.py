"""Which runs a workflow run counts, and the manifest that hands them on.

The rules (README "Run ids"):

- Only closed runs are counted. The run rotator leaves a record
  ``run#<run id>`` in the run-state table for every run it closes, chained
  to the run before it (``previous_run_id``). The landing audit walks that
  chain back from the newest closed run to the first one it has already
  counted (``counted_at``): those are the runs closed since the last audit.
- A closed run is counted again when landing objects of it arrived since the
  last audit (late records: Firehose retries, slow deliveries). The landing
  bucket's Object Created events reach an SQS queue through an EventBridge
  rule; the landing audit drains it, and the ``run=`` folder of each new key
  (Firehose's dynamic partitioning) names the run. Objects of the open run
  are ignored: closing it counts everything it holds.
- When a run is counted again, the closed run after it is too: duplicates
  are owned by the earlier of two adjacent runs, so a late copy in a run can
  change its successor's count.

- A run stays pending from the landing audit that counts it until the last
  step of the same workflow run (the Redshift final audit) has counted it
  too: the run-state item ``pending`` holds those run ids. A workflow run
  that stops half-way (a job failed for good) leaves them pending, and the
  next workflow run counts them again through every layer, so a failure
  never leaves a run compared in some layers and silently skipped in others.

The landing audit writes the runs it counted (each with its predecessor, the
one the duplicate rule looks into) to a manifest object named after the Glue
workflow run; every later step of the same workflow run reads and counts
exactly those runs. Work per workflow run is therefore proportional to the
runs and objects that are new, not to the history.
"""
from __future__ import annotations

import datetime
import json
import logging
import re
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import job_args

log = logging.getLogger(__name__)

PK = "pk"
CURRENT = "current"
PENDING = "pending"
PENDING_RUNS = "run_ids"
CLOSED_PREFIX = "run#"
CLOSED_ATTRIBUTES = ("run_id", "previous_run_id", "next_run_id", "opened_at", "closed_at")
COUNTED_AT = "counted_at"
# A walk longer than this means the chain is broken or the audit has not run
# for a very long time; it stops there and logs it rather than run forever.
MAX_WALK = 10000

_RUN_FOLDER = re.compile(r"(?:^|/)run=([A-Za-z0-9_\-]+)/")


def _s(item: dict, name: str) -> str:
    v = item.get(name) or {}
    return v.get("S", "")


def closed_run(ddb, table: str, run_id: str) -> Optional[dict]:
    """The rotator's record of a closed run, or None while it is open."""
    item = ddb.get_item(TableName=table, Key={PK: {"S": CLOSED_PREFIX + run_id}}, ConsistentRead=True).get("Item")
    if not item:
        return None
    return {name: _s(item, name) for name in CLOSED_ATTRIBUTES + (COUNTED_AT,)}


def newly_closed_runs(ddb, table: str) -> List[dict]:
    """Closed runs not counted yet, oldest first: the chain from the newest closed
    run back to (not including) the first run already counted."""
    current = ddb.get_item(TableName=table, Key={PK: {"S": CURRENT}}, ConsistentRead=True).get("Item")
    if not current:
        return []
    found: List[dict] = []
    run_id = _s(current, "previous_run_id")
    while run_id and len(found) < MAX_WALK:
        record = closed_run(ddb, table, run_id)
        if record is None or record["counted_at"]:
            break
        found.append(record)
        run_id = record["previous_run_id"]
    if len(found) >= MAX_WALK:
        log.warning("walked %d closed runs without reaching a counted one: stopped there", MAX_WALK)
    found.reverse()
    return found


def mark_counted(ddb, table: str, run_ids: Iterable[str], now: str) -> None:
    """Sets counted_at on the closed runs' records (the first count only)."""
    for run_id in run_ids:
        try:
            ddb.update_item(TableName=table, Key={PK: {"S": CLOSED_PREFIX + run_id}},
                            UpdateExpression="SET #c = :t",
                            ConditionExpression="attribute_exists(#pk) AND attribute_not_exists(#c)",
                            ExpressionAttributeNames={"#c": COUNTED_AT, "#pk": PK},
                            ExpressionAttributeValues={":t": {"S": now}})
        except ddb.exceptions.ConditionalCheckFailedException:
            pass


def pending_runs(ddb, table: str) -> List[str]:
    """The runs counted by a landing audit whose workflow run has not counted them
    in every layer yet."""
    item = ddb.get_item(TableName=table, Key={PK: {"S": PENDING}}, ConsistentRead=True).get("Item") or {}
    return sorted((item.get(PENDING_RUNS) or {}).get("SS", []))


def _update_pending(ddb, table: str, action: str, run_ids: Iterable[str]) -> None:
    ids = sorted(set(run_ids))
    if ids:
        ddb.update_item(TableName=table, Key={PK: {"S": PENDING}}, UpdateExpression="%s #r :r" % action,
                        ExpressionAttributeNames={"#r": PENDING_RUNS}, ExpressionAttributeValues={":r": {"SS": ids}})


def add_pending(ddb, table: str, run_ids: Iterable[str]) -> None:
    """Marks runs pending: counted in landing, not yet in every layer."""
    _update_pending(ddb, table, "ADD", run_ids)


def complete(ddb, table: str, run_ids: Iterable[str]) -> None:
    """The last step counted these runs: no longer pending."""
    _update_pending(ddb, table, "DELETE", run_ids)


def run_of_key(key: str) -> Optional[str]:
    """The run of a landing object key: the value of its run= folder."""
    m = _RUN_FOLDER.search(key)
    return m.group(1) if m else None


def event_keys(body: str) -> List[str]:
    """Object keys of one queue message: an EventBridge S3 'Object Created' event
    (detail.object.key) or an S3 notification (Records[].s3.object.key)."""
    try:
        msg = json.loads(body)
    except ValueError:
        return []
    if isinstance(msg, dict) and isinstance(msg.get("detail"), dict):
        key = (msg["detail"].get("object") or {}).get("key")
        return [key] if isinstance(key, str) else []
    keys = []
    for record in (msg.get("Records") or []) if isinstance(msg, dict) else []:
        key = ((record.get("s3") or {}).get("object") or {}).get("key")
        if isinstance(key, str):
            keys.append(key)
    return keys


def drain(sqs, queue_url: str, max_messages: int = 100000) -> Tuple[List[str], List[str]]:
    """Receives every message now in the queue: (object keys, receipt handles).
    The handles are deleted only after the counts are written (delete_messages),
    so a failed audit leaves them for the next one."""
    keys: List[str] = []
    handles: List[str] = []
    while len(handles) < max_messages:
        page = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                   VisibilityTimeout=900)
        messages = page.get("Messages") or []
        if not messages:
            break
        for m in messages:
            keys.extend(event_keys(m.get("Body", "")))
            handles.append(m["ReceiptHandle"])
    return keys, handles


def delete_messages(sqs, queue_url: str, handles: Sequence[str]) -> None:
    for i in range(0, len(handles), 10):
        batch = [{"Id": str(n), "ReceiptHandle": h} for n, h in enumerate(handles[i:i + 10])]
        out = sqs.delete_message_batch(QueueUrl=queue_url, Entries=batch)
        if out.get("Failed"):
            log.warning("could not delete %d landing event(s): %s (they will be read again)",
                        len(out["Failed"]), out["Failed"])


def select_runs(ddb, table: str, new_keys: Iterable[str]) -> Tuple[List[dict], List[dict]]:
    """(runs to count, runs closed since the last audit). Every run to count is
    closed; each carries its previous_run_id."""
    closed = newly_closed_runs(ddb, table)
    chosen: Dict[str, dict] = {r["run_id"]: r for r in closed}
    for run in pending_runs(ddb, table):
        record = chosen.get(run) or closed_run(ddb, table, run)
        if record is not None:
            chosen[run] = record
    touched: Set[str] = set()
    for key in new_keys:
        run = run_of_key(key)
        if run and run not in chosen:
            touched.add(run)
    for run in sorted(touched):
        record = closed_run(ddb, table, run)
        if record is None:
            log.info("new landing data of run %s, which is still open: counted when it closes", run)
            continue
        chosen[run] = record
    # A recounted run's successor may own fewer orders now.
    for run in sorted(touched):
        nxt = chosen.get(run, {}).get("next_run_id")
        if nxt and nxt not in chosen:
            record = closed_run(ddb, table, nxt)
            if record is not None:
                chosen[nxt] = record
    return [chosen[r] for r in sorted(chosen)], closed


def landing_partitions(keys: Iterable[str], prefix: str) -> List[Tuple[str, str, str]]:
    """The (processing_date, processing_hour, run) partitions of new landing keys under prefix."""
    found = set()
    for key in keys:
        if not key.startswith(prefix):
            continue
        parts = dict(p.split("=", 1) for p in key[len(prefix):].split("/")[:-1] if "=" in p)
        if {"processing_date", "processing_hour", "run"} <= set(parts):
            found.add((parts["processing_date"], parts["processing_hour"], parts["run"]))
    return sorted(found)


# ---- the manifest ------------------------------------------------------------

def manifest_uri(manifest_path: str, workflow_run_id: str) -> str:
    """<manifest_path>/<workflow run id>.json."""
    job_args.split_s3_uri(manifest_path)
    if not re.match(r"^[A-Za-z0-9_\-]+$", workflow_run_id):
        raise ValueError("unexpected workflow run id %r" % workflow_run_id)
    return manifest_path.rstrip("/") + "/" + workflow_run_id + ".json"


def write_manifest(s3, uri: str, runs: Sequence[dict], job_run_id: str) -> dict:
    body = {"runs": [{"run_id": r["run_id"], "previous_run_id": r.get("previous_run_id", "")} for r in runs],
            "counted_by": job_run_id,
            "written_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    bucket, key = job_args.split_s3_uri(uri)
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(body, indent=1).encode("utf-8"),
                  ContentType="application/json")
    return body


def workflow_runs(s3, argv: Sequence[str], manifest_path: str) -> List[dict]:
    """The runs of the manifest of the workflow run that started this job."""
    return read_manifest(s3, manifest_uri(manifest_path, job_args.workflow_run_id(argv)))


def read_manifest(s3, uri: str) -> List[dict]:
    """The runs of the workflow run's manifest; a missing manifest means the
    landing audit counted nothing (or the job runs outside a workflow): []."""
    bucket, key = job_args.split_s3_uri(uri)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        log.info("no manifest %s: no run to count", uri)
        return []
    return list(json.loads(body)["runs"])
