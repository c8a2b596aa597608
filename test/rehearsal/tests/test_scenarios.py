"""The rehearsal's scenarios, each through every layer with the real code.

EXPECTED FAILURES (strict): a scenario the pipeline fails because it needs a
design change would be listed here with the precise reason, never a bug of
the rehearsal itself. None is listed: every scenario passes.
"""

from __future__ import annotations

import base64
import io
import json

import pytest
from rehearsal.pipeline import verdict
from rehearsal.report import WORK_RATIO_LIMIT, growth_beyond, table, work_ratios


def _products_by_run(s) -> dict:
    return {r["run_id"]: r["landing"] for r in s["runs"] if not r.get("empty")}


def _data_runs(s) -> list[dict]:
    return [r for r in s["runs"] if not r.get("empty")]


def _print(s):
    print()
    print(table(s))


def _settled(rh, summary) -> dict:
    """The summary, printed, once the workflow runs of what was published have ended."""
    rh.settle()
    s = summary()
    _print(s)
    return s


def _assert_success(s):
    ok, problems = verdict(s)
    assert ok, problems


def _landing_objects(env, bucket_prefix="orders/"):
    from rehearsal.publisher_step import stream_and_bucket

    _, bucket = stream_and_bucket(env)
    s3 = env.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=bucket_prefix).get("Contents", [])]
    if bucket_prefix == "orders/":
        keys = [k for k in keys if k.endswith(".parquet")]
    return bucket, keys


def _pg(env):
    """The warehouse database the local Data API runs the jobs' SQL in (GLUE sets env.state["redshift_dsn"])."""
    import psycopg2

    return psycopg2.connect(env.state.get("redshift_dsn", env.pg_dsn))


def _publish_one_run(rh, count: int, seed: int) -> str:
    """Publishes a batch and returns the one run Firehose wrote its records under."""
    before = dict(rh.firehose.stats.per_run)
    rh.publish(count, seed)
    rh.trigger.wait_events(len(rh.published))
    rh.firehose.drain()
    new_runs = [r for r, n in rh.firehose.stats.per_run.items() if n != before.get(r, 0)]
    assert len(new_runs) == 1, new_runs
    return new_runs[0]


# ---- a. one batch ------------------------------------------------------------------
def test_a_one_batch_every_layer_success(scenario):
    rh, summary = scenario
    p = rh.publish(40, 101)
    s = _settled(rh, summary)
    _assert_success(s)
    runs = _data_runs(s)
    assert sum(r["landing"] for r in runs) == p.products == p.manifest["product_count"]
    for r in runs:
        assert {lc["layer"] for lc in r["layers"]} == set(rh.layers)
        for lc in r["layers"]:
            assert lc["count"] == lc["landing"] and lc["success_messages"] == 1 and lc["failure_messages"] == 0, lc
    succ = [n for n in s["notifications"] if n["outcome"] == "SUCCESS"]
    assert len(succ) == len(rh.layers) * len(runs)
    # The subject leads with outcome, run id and layer (SNS cuts it at 100 characters).
    assert all(n["subject"].startswith("SUCCESS run %s %s: " % (n["run_id"], n["layer"])) for n in succ), succ


# ---- b. loss between layers ----------------------------------------------------------
def test_b_rows_lost_before_staging_fail_every_later_layer(scenario, hooks, env):
    """One order removed from the landing file the Spark job reads (after the landing audit counted it)."""
    import pyarrow.parquet as pq

    rh, summary = scenario
    lost = {}

    def drop_one_order(env_, step):
        bucket, keys = _landing_objects(env_)
        s3 = env_.client("s3")
        target = lost["run"]
        for k in keys:
            t = pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=k)["Body"].read()))
            runs = t.column("run_id").to_pylist()
            if target in runs:
                i = runs.index(target)
                lost["products"] = len(t.column("products")[i].as_py())
                kept = t.slice(0, i).to_batches() + t.slice(i + 1).to_batches()
                out = io.BytesIO()
                import pyarrow as pa

                pq.write_table(pa.Table.from_batches(kept, schema=t.schema), out, compression="snappy",
                               use_deprecated_int96_timestamps=True)
                s3.put_object(Bucket=bucket, Key=k, Body=out.getvalue())
                return
        raise AssertionError(f"no landing object holds run {target}")

    hooks.set({"before:orders_landing_to_staging": drop_one_order})
    lost["run"] = _publish_one_run(rh, 30, 202)
    s = _settled(rh, summary)
    ok, problems = verdict(s)
    assert not ok
    run = lost["run"]
    msgs = [n for n in s["notifications"] if n["run_id"] == run]
    assert not [n for n in msgs if n["outcome"] == "SUCCESS"], "no SUCCESS for a run that lost rows"
    k = lost["products"]
    for layer in rh.layers:
        f = [n for n in msgs if n["layer"] == layer and n["outcome"] == "FAILURE"]
        assert len(f) == 1, (layer, msgs)
        assert f"(-{k})" in f[0]["subject"], f[0]["subject"]
        assert f"{k} records of the landing area did not reach" in f[0]["message"]


def test_b_row_lost_in_redshift_staging_fails_staging_and_final(scenario, hooks, env):
    rh, summary = scenario
    target = {}

    def delete_one_row(env_, step):
        # Once: a later workflow run (another run's completion) passes this step again.
        if target.get("deleted"):
            return
        target["deleted"] = True
        with _pg(env_) as conn, conn.cursor() as cur:
            cur.execute("SELECT run_id, order_id, line_number FROM staging.orders WHERE run_id = %s LIMIT 1", (target["run"],))
            row = cur.fetchone()
            assert row, f"no staging.orders row for {target['run']}"
            cur.execute("DELETE FROM staging.orders WHERE run_id = %s AND order_id = %s AND line_number = %s", row)

    hooks.set({"after:orders_s3_staging_to_redshift_staging": delete_one_row})
    target["run"] = _publish_one_run(rh, 30, 303)
    s = _settled(rh, summary)
    run = target["run"]
    msgs = [n for n in s["notifications"] if n["run_id"] == run]
    by = {(n["layer"], n["outcome"]) for n in msgs}
    assert ("s3_staging", "SUCCESS") in by
    for layer in ("redshift_staging", "redshift_final"):
        f = [n for n in msgs if n["layer"] == layer]
        assert [n["outcome"] for n in f] == ["FAILURE"], f
        assert "(-1)" in f[0]["subject"], f[0]["subject"]


# ---- c. bad records ------------------------------------------------------------------
def test_c_bad_records_go_under_the_error_prefix_good_ones_reconcile(scenario, env):
    rh, summary = scenario
    kinesis = env.client("kinesis")
    bad = [b"this is not json", b"[1, 2, 3]", b'"a string"',
           # valid for the transformer, but OpenX cannot convert the timestamp:
           json.dumps({"order_id": "bad-ts", "order_timestamp": "yesterday at noon", "products": []}).encode()]
    errors_before = set(_landing_objects(env, "errors/")[1])
    kinesis.put_records(StreamName=rh.firehose.s.stream_name,
                        Records=[{"Data": d, "PartitionKey": f"bad-{i}"} for i, d in enumerate(bad)])
    p = rh.publish(30, 404)
    s = _settled(rh, summary)
    _assert_success(s)
    bucket, keys = _landing_objects(env, "errors/")
    new = [k for k in keys if k not in errors_before]
    s3 = env.client("s3")
    found = {"processing-failed": [], "format-conversion-failed": []}
    for k in new:
        kind = k.split("/")[1]
        for line in s3.get_object(Bucket=bucket, Key=k)["Body"].read().splitlines():
            found[kind].append(base64.b64decode(json.loads(line)["rawData"]))
        assert "/processing_date=" in k and "/processing_hour=" in k, k
    assert sorted(found["processing-failed"]) == sorted(bad[:3])
    assert len(found["format-conversion-failed"]) == 1 and b"bad-ts" in found["format-conversion-failed"][0]
    assert sum(r["landing"] for r in _data_runs(s)) == p.products


# ---- d. two batches back to back -----------------------------------------------------
def test_d_second_batch_during_first_workflow_run(scenario, hooks):
    rh, summary = scenario

    def publish_second(env_, step):
        rh.publish(30, 506)
        rh.firehose.drain()

    hooks.set({"before:orders_landing_to_staging": publish_second})
    rh.publish(30, 505)
    rh.settle()
    s = _settled(rh, summary)  # after the second batch's workflow run too
    assert len(s["batches"]) == 2 and len(s["workflow_runs"]) >= 2
    assert not s["failures"], [f["subject"] for f in s["failures"]]
    _assert_success(s)


# ---- e. an order delivered twice -----------------------------------------------------
@pytest.fixture(scope="module")
def duplicate_run(rehearsal, hooks, env):
    rh = rehearsal
    mark = rh.mark()
    hooks.pending = []
    p = rh.publish(25, 606)
    # the publisher's first record again, as a retry after a lost acknowledgement does
    kinesis = env.client("kinesis")
    shard = kinesis.list_shards(StreamName=rh.firehose.s.stream_name)["Shards"][0]["ShardId"]
    it = kinesis.get_shard_iterator(StreamName=rh.firehose.s.stream_name, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                    StartingSequenceNumber=p.manifest["first_sequence_number"])["ShardIterator"]
    rec = kinesis.get_records(ShardIterator=it, Limit=1)["Records"][0]
    kinesis.put_record(StreamName=rh.firehose.s.stream_name, Data=rec["Data"], PartitionKey=rec["PartitionKey"])
    order = json.loads(rec["Data"])
    rh.settle()
    # The copy may have been stamped with the run the completion event just
    # opened; a second batch closes that run, so both runs are counted.
    rh.publish(5, 607)
    rh.settle()
    s = rh.summary(since=mark)
    _print(s)
    return s, order


def _staging_lines(env, order_id) -> dict:
    """line_number -> rows of the order in S3 staging (the path the landing-to-staging job writes, from the template)."""
    import pyarrow.parquet as pq

    t = env.templates
    path = next(t.properties("orchestration", lid)["DefaultArguments"]["--staging_path"]
                for lid in t.resources("orchestration", "AWS::Glue::Job")
                if "--staging_path" in t.properties("orchestration", lid).get("DefaultArguments", {}))
    bucket, prefix = path[5:].split("/", 1)
    s3, lines = env.client("s3"), {}
    for o in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix).search("Contents[]"):
        if o and o["Key"].endswith(".parquet"):
            tb = pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()), columns=["order_id", "line_number"])
            for row in tb.to_pylist():
                if row["order_id"] == order_id:
                    lines[row["line_number"]] = lines.get(row["line_number"], 0) + 1
    return lines


def _landing_copies(env, order_id) -> int:
    """How many landing Parquet rows hold the order (every copy Firehose delivered)."""
    import pyarrow.parquet as pq

    bucket, keys = _landing_objects(env)
    s3, n = env.client("s3"), 0
    for k in keys:
        tb = pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=k)["Body"].read()), columns=["order_id"])
        n += sum(1 for row in tb.to_pylist() if row["order_id"] == order_id)
    return n


def test_e_duplicate_final_table_holds_what_the_readme_says(duplicate_run, env):
    """README "Duplicates": an order counts once, in the earliest run holding it (within a run the earliest
    copy stays). S3 keeps every copy as delivered (landing and staging hold the order twice); the landing
    count counts it once; staging.orders (the last load only) never holds a line twice; final.orders holds
    each of its lines exactly once."""
    s, order = duplicate_run
    n = len(order["products"])
    assert _landing_copies(env, order["order_id"]) == 2
    staged = _staging_lines(env, order["order_id"])
    assert staged == {i + 1: 2 for i in range(n)}, staged
    with _pg(env) as conn, conn.cursor() as cur:
        lines = {}
        for tbl in ("staging.orders", "final.orders"):
            cur.execute(f"SELECT line_number, count(*) FROM {tbl} WHERE order_id = %s GROUP BY line_number ORDER BY 1",
                        (order["order_id"],))
            lines[tbl] = dict(cur.fetchall())
    assert all(c == 1 for c in lines["staging.orders"].values()), lines
    assert lines["final.orders"] == {i + 1: 1 for i in range(n)}, lines
    # the landing counts hold the order once: they add up to what the publisher sent
    assert s["landed_products"] == s["published_products"], (s["landed_products"], s["published_products"])


def test_e_duplicate_causes_no_failure(duplicate_run):
    s, _ = duplicate_run
    assert not s["failures"], [f["subject"] for f in s["failures"]]
    for r in _data_runs(s):
        for lc in r["layers"]:
            assert lc["ok"], lc


# ---- f. ten runs in a row ------------------------------------------------------------
def test_f_ten_runs_work_per_run(scenario, env):
    rh, summary = scenario
    # A warm-up batch first: run 1's predecessor (which the duplicate rule reads)
    # is then a batch like every later run's, so the ratios show history alone.
    for i in range(11):
        rh.publish(20, 700 + i)
        rh.settle()
    s = summary()
    _print(s)
    wf = s["workflow_runs"]
    assert len(wf) == 11, [w["workflow_run_id"] for w in wf]
    steps = {st["name"] for st in wf[1]["steps"]}
    for w in wf:
        assert set(w["work"]) >= steps, (w["workflow_run_id"], sorted(w["work"]), sorted(steps))
    ratios = work_ratios(s, 1, -1)
    print("\nwork of run 10 / run 1, per step:")
    for step, figs in ratios.items():
        print(f"  {step:<45} " + ", ".join(f"{k} {v}" for k, v in figs.items()))
    s["work_ratio_run10_over_run1"] = ratios
    _assert_success(s)
    assert set(ratios) == steps
    grown = growth_beyond(ratios, WORK_RATIO_LIMIT)
    assert not grown, grown
