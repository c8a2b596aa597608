"""Which runs a workflow run counts: closed runs only, late data recounted (dynalite
holds a run-state table shaped like internal/runstate writes it)."""
from __future__ import annotations

import json

import pytest
import run_selection
from conftest import RUN_STATE

R = ["20261128T0%d0000Z-0000000%d" % (i, i) for i in range(1, 6)]


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


def test_a_run_stays_pending_until_the_last_step_counted_it(run_state):
    ddb, rotate = run_state
    rotate(R[0], "", R[1])
    rotate(R[1], R[0], R[2])
    runs, closed = run_selection.select_runs(ddb, RUN_STATE, [])
    run_selection.add_pending(ddb, RUN_STATE, [r["run_id"] for r in runs])
    run_selection.mark_counted(ddb, RUN_STATE, [r["run_id"] for r in closed], "x")
    # The workflow run stopped before its last step: the next one counts both again.
    rotate(R[2], R[1], R[3])
    runs, closed = run_selection.select_runs(ddb, RUN_STATE, [])
    assert [r["run_id"] for r in runs] == R[:3] and [r["run_id"] for r in closed] == [R[2]]
    assert runs[0]["previous_run_id"] == "" and runs[1]["previous_run_id"] == R[0]
    run_selection.add_pending(ddb, RUN_STATE, [r["run_id"] for r in runs])
    run_selection.complete(ddb, RUN_STATE, [r["run_id"] for r in runs])
    run_selection.mark_counted(ddb, RUN_STATE, [R[2]], "y")
    assert run_selection.pending_runs(ddb, RUN_STATE) == []
    assert run_selection.select_runs(ddb, RUN_STATE, []) == ([], [])
    run_selection.complete(ddb, RUN_STATE, [R[4]])  # completing a run that is not pending changes nothing
    assert run_selection.pending_runs(ddb, RUN_STATE) == []


def test_run_state_layout_is_the_shared_contract():
    from conftest import contract

    r = contract()["run_state"]
    assert (run_selection.PK, run_selection.CURRENT, run_selection.CLOSED_PREFIX, run_selection.COUNTED_AT,
            run_selection.PENDING, run_selection.PENDING_RUNS) == (
        r["partition_key"], r["current_key"], r["closed_key_prefix"], r["counted_attribute"],
        r["pending_key"], r["pending_runs_attribute"])
    assert list(run_selection.CLOSED_ATTRIBUTES) == r["closed_attributes"]
