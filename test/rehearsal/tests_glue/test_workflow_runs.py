"""Whole workflow runs on the stand-ins, in order: a run before any data, a
batch through every layer, a run with nothing new, data removed between
steps by the ready hooks, a late object of a closed run, and a retry after a
job run died before its bookmark commit. Runs are closed as the run rotator
closes them (its run-state records); each layer is read back through the
jobs' own audit code."""
from __future__ import annotations

import audit_table
import pytest
from rehearsal.workflow import LocalWorkflow, delete_redshift_staging_row, hide_landing_object, restore_landing_objects

from .conftest import put_landing_orders, reset_moto

HOUR1 = "processing_date=2026-11-28/processing_hour=01/run=r-1"
HOUR2 = "processing_date=2026-11-28/processing_hour=02/run=r-2"
HOUR3 = "processing_date=2026-11-28/processing_hour=03/run=r-3"


def close_run(wf, run_id, previous, opened):
    """What the run rotator leaves when it closes run_id: its run#<id> record and the current item."""
    table = wf.nodes["orders_landing_audit_load"].props["DefaultArguments"]["--run_state_table"]
    ddb = wf.env.client("dynamodb")
    record = {"pk": {"S": "run#" + run_id}, "run_id": {"S": run_id}, "next_run_id": {"S": opened},
              "opened_at": {"S": "2026-11-28T00:00:00Z"}, "closed_at": {"S": "2026-11-28T04:00:00Z"}}
    if previous:
        record["previous_run_id"] = {"S": previous}
    ddb.put_item(TableName=table, Item=record)
    ddb.put_item(TableName=table, Item={"pk": {"S": "current"}, "run_id": {"S": opened}, "previous_run_id": {"S": run_id}})


@pytest.fixture(scope="module")
def wf(env):
    reset_moto(env)
    w = LocalWorkflow(env)
    w.start()
    import psycopg2

    # The warehouse database outlives moto's reset: start from no warehouse tables either.
    conn = psycopg2.connect(env.state["redshift_dsn"])
    with conn, conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS staging CASCADE; DROP SCHEMA IF EXISTS final CASCADE")
    conn.close()
    yield w
    w.stop()


def _counts(wf):
    table = wf.nodes["orders_landing_audit_load"].props["DefaultArguments"]["--audit_table"]
    ddb = wf.env.client("dynamodb")
    return {layer: audit_table.read_counts(ddb, table, layer) for layer in audit_table.LAYERS}


def _run(wf, run_key, hooks=None):
    results = wf.run(run_key, hooks)
    failed = [(r.name, r.error) for r in results if r.state != "SUCCEEDED"]
    assert not failed, failed
    assert [r.name for r in results] == wf.order()
    return {r.name: r for r in results}


def test_1_a_run_before_any_data_succeeds(wf):
    _run(wf, "wr_1")
    assert _counts(wf) == {layer: {} for layer in audit_table.LAYERS}


def test_2_a_batch_reaches_every_layer(wf):
    put_landing_orders(wf.env, HOUR1, "r-1", [3, 1, 0, None])
    put_landing_orders(wf.env, HOUR1, "r-1", [2])
    close_run(wf, "r-1", "", "r-2")
    steps = _run(wf, "wr_2")
    assert _counts(wf) == {layer: {"r-1": 6} for layer in audit_table.LAYERS}
    assert steps["orders_landing_to_staging"].work["rows_read"] == 5
    assert steps["orders_landing_to_staging"].work["rows_written"] == 6
    assert steps["orders_s3_staging_to_redshift_staging"].work["copy_rows"] == 6
    assert steps["orders_landing_audit_load"].work["athena_bytes_scanned"] > 0
    assert steps["orders-staging-area-crawler"].work["tables_created"] == 1


def test_3_a_run_with_nothing_new_reads_nothing_new(wf):
    put_landing_orders(wf.env, HOUR2, "r-2", [1], name="orders-firehose-open.parquet")  # r-2 is still open
    steps = _run(wf, "wr_3")
    for job in ("orders_landing_to_staging", "orders_s3_staging_to_redshift_staging"):
        assert steps[job].work.get("objects_listed", 0) == 0 and steps[job].work.get("objects_read", 0) == 0
        assert steps[job].work["bookmark_committed"] == 1
    assert steps["orders-landing-area-crawler"].work["partitions_added"] == 1  # r-2's folder, from its event
    assert steps["orders-staging-area-crawler"].work["objects_listed"] == 0  # no event: nothing listed
    assert "r-2" not in _counts(wf)["s3_landing"]  # open: not counted
    assert _counts(wf)["redshift_final"] == {"r-1": 6}


def test_4_hooks_remove_data_between_steps(wf):
    put_landing_orders(wf.env, HOUR2, "r-2", [2, 1], name="orders-firehose-aa.parquet")
    # The newest object (S3 times have whole seconds: the later key breaks the tie) is the one hidden.
    put_landing_orders(wf.env, HOUR2, "r-2", [1], name="orders-firehose-zz.parquet")
    close_run(wf, "r-2", "r-1", "r-3")
    _run(wf, "wr_4", hooks={"before:orders_landing_to_staging": hide_landing_object,
                            "after:orders_s3_staging_to_redshift_staging": delete_redshift_staging_row})
    (hidden,) = wf.env.state["hidden_landing_objects"]
    assert hidden["products"] == 1
    assert wf.env.state["deleted_redshift_staging_rows"][0]["run_id"] == "r-2"
    counts = _counts(wf)
    assert [counts[layer]["r-2"] for layer in audit_table.LAYERS] == [5, 4, 3, 3]
    assert counts["s3_staging"]["r-1"] == 6


def test_5_a_late_object_of_a_closed_run_recounts_it_in_every_layer(wf):
    restore_landing_objects(wf.env)  # a new object of the closed run r-2, as a late delivery would be
    steps = _run(wf, "wr_5")
    assert steps["orders_landing_to_staging"].work["objects_read"] == 1  # the bookmark skips the rest
    counts = _counts(wf)
    # The load and enrich replace r-2's rows from staging: the row the hook deleted is back too.
    assert [counts[layer]["r-2"] for layer in audit_table.LAYERS] == [5, 5, 5, 5]
    assert counts["s3_staging"]["r-1"] == 6


def test_6_a_retry_after_a_run_died_before_its_commit_counts_each_order_once(wf):
    """The retry reads the same landing files and appends them to staging again;
    the duplicate rule keeps the counts and the warehouse right."""
    put_landing_orders(wf.env, HOUR3, "r-3", [2])
    close_run(wf, "r-3", "r-2", "r-4")
    wf.fail_next_commit("orders_landing_to_staging")
    steps = _run(wf, "wr_6")
    assert steps["orders_landing_to_staging"].attempts == 2
    counts = _counts(wf)
    assert [counts[layer]["r-3"] for layer in audit_table.LAYERS] == [2, 2, 2, 2]
