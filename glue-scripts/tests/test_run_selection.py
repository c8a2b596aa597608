"""Which runs a workflow run counts: closed runs only, late data recounted (dynalite
holds a run-state table shaped like internal/runstate writes it)."""
from __future__ import annotations

import json

import pytest
import run_selection

RUN_STATE = "orders-run-state"
R = ["20261128T0%d0000Z-0000000%d" % (i, i) for i in range(1, 6)]


@pytest.fixture
def run_state(dynalite_endpoint):
    import boto3
    from botocore.config import Config

    ddb = boto3.client("dynamodb", endpoint_url=dynalite_endpoint, config=Config(retries={"max_attempts": 1}))
    ddb.create_table(TableName=RUN_STATE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    ddb.get_waiter("table_exists").wait(TableName=RUN_STATE, WaiterConfig={"Delay": 0.1})

    def rotate(closed: str, previous: str, opened: str):
        """What runstate.Store.Rotate leaves: the closed run's record and the current item."""
        item = {"pk": {"S": "run#" + closed}, "run_id": {"S": closed}, "next_run_id": {"S": opened},
                "closed_at": {"S": "t"}, "opened_at": {"S": "t0"}}
        if previous:
            item["previous_run_id"] = {"S": previous}
        ddb.put_item(TableName=RUN_STATE, Item=item)
        ddb.put_item(TableName=RUN_STATE, Item={"pk": {"S": "current"}, "run_id": {"S": opened},
                                                "previous_run_id": {"S": closed}})

    yield ddb, rotate
    ddb.delete_table(TableName=RUN_STATE)


def key(run: str, hour: str = "01") -> str:
    return "orders/processing_date=2026-11-28/processing_hour=%s/run=%s/orders-firehose-1-2026.parquet" % (hour, run)


def test_only_runs_closed_since_the_last_audit_are_counted(run_state):
    ddb, rotate = run_state
    assert run_selection.newly_closed_runs(ddb, RUN_STATE) == []  # no item yet
    rotate(R[0], "", R[1])
    rotate(R[1], R[0], R[2])
    runs, closed = run_selection.select_runs(ddb, RUN_STATE, [key(R[2])])  # R[2] is open: ignored
    assert [r["run_id"] for r in runs] == [R[0], R[1]] == [r["run_id"] for r in closed]
    assert runs[1]["previous_run_id"] == R[0]
    run_selection.mark_counted(ddb, RUN_STATE, [R[0], R[1]], "2026-11-28T03:00:00Z")
    assert run_selection.select_runs(ddb, RUN_STATE, []) == ([], [])
    rotate(R[2], R[1], R[3])
    runs, _ = run_selection.select_runs(ddb, RUN_STATE, [])
    assert [r["run_id"] for r in runs] == [R[2]]  # the walk stops at the first counted run


def test_late_data_recounts_its_closed_run_and_the_next_one(run_state):
    ddb, rotate = run_state
    rotate(R[0], "", R[1])
    rotate(R[1], R[0], R[2])
    rotate(R[2], R[1], R[3])
    run_selection.mark_counted(ddb, RUN_STATE, R[:3], "x")
    runs, closed = run_selection.select_runs(ddb, RUN_STATE, [key(R[0]), key(R[0], "02"), key(R[3])])
    # R[0] got a late object; R[1] may own fewer duplicates now; R[3] is open.
    assert [r["run_id"] for r in runs] == [R[0], R[1]] and closed == []


def test_event_keys_of_eventbridge_and_s3_notifications():
    eb = {"source": "aws.s3", "detail-type": "Object Created", "detail": {"bucket": {"name": "b"}, "object": {"key": key(R[0])}}}
    s3 = {"Records": [{"s3": {"object": {"key": key(R[1])}}}]}
    assert run_selection.event_keys(json.dumps(eb)) == [key(R[0])]
    assert run_selection.event_keys(json.dumps(s3)) == [key(R[1])]
    assert run_selection.event_keys("not json") == [] and run_selection.event_keys('{"Event": "s3:TestEvent"}') == []
    assert run_selection.run_of_key(key(R[2])) == R[2] and run_selection.run_of_key("batch-completion/x.json") is None
    assert run_selection.landing_partitions([key(R[0]), key(R[0]), key(R[1], "02"), "errors/x/y.gz"], "orders/") == [
        ("2026-11-28", "01", R[0]), ("2026-11-28", "02", R[1])]


def test_manifest_names_the_workflow_run():
    assert run_selection.manifest_uri("s3://staging/manifests", "wr_abc") == "s3://staging/manifests/wr_abc.json"
    with pytest.raises(ValueError):
        run_selection.manifest_uri("s3://staging/manifests", "../x")
