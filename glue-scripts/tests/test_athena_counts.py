"""Athena count queries: building, polling, result parsing (Athena is stubbed: it has no local stand-in)."""
from __future__ import annotations

import athena_audit_load
import athena_counts
import audit_table
import boto3
import pytest
from botocore.stub import Stubber
from conftest import AUDIT_TABLE

SEED_DB = "ecommerce-database"


def rows(*values):
    return [{"Data": [{"VarCharValue": v} if v is not None else {} for v in row]} for row in values]


def page(row_list, token=None):
    result = {"ResultSet": {"Rows": row_list}, "UpdateCount": 0}
    if token:
        result["NextToken"] = token
    return result


RUNS = [{"run_id": "20261128T020000Z-00000002", "previous_run_id": "20261128T010000Z-00000001"},
        {"run_id": "20261128T010000Z-00000001", "previous_run_id": ""}]


def test_queries_read_only_the_partitions_of_the_runs_and_their_predecessors():
    sql = athena_counts.runs_count_query("s3_landing", SEED_DB, "orders", RUNS)
    # Seed note 4: products, not orders; once per order id.
    assert "MAX(CARDINALITY(products))" in sql
    assert 'FROM "ecommerce-database"."orders" WHERE run IN (\'20261128T010000Z-00000001\', \'20261128T020000Z-00000002\')' in sql
    assert "WHERE run IN ('20261128T010000Z-00000001'))" in sql  # the predecessors' orders
    assert sql.count("FROM \"ecommerce-database\".\"orders\"") == 2 and "run_id IS NOT NULL" not in sql
    staging = athena_counts.runs_count_query("s3_staging", SEED_DB, "staging_orders", RUNS[1:])
    assert "GROUP BY run, order_id, line_number" in staging and "WHERE 1 = 0" in staging  # no predecessor


@pytest.mark.parametrize("layer,database,table,runs", [
    ("redshift_final", SEED_DB, "orders", RUNS),
    ("s3_landing", 'db"; DROP TABLE x; --', "orders", RUNS),
    ("s3_landing", SEED_DB, "orders where 1=1", RUNS),
    ("s3_landing", SEED_DB, "orders", [{"run_id": "x') OR (1=1", "previous_run_id": ""}]),
    ("s3_landing", SEED_DB, "orders", []),
])
def test_bad_layer_name_or_run_is_refused(layer, database, table, runs):
    with pytest.raises(ValueError):
        athena_counts.runs_count_query(layer, database, table, runs)


@pytest.fixture
def s3_tables(postgres_dsn):
    """The S3 layers' shape on PostgreSQL, enough for the duplicate rule: the
    query is plain SQL both Athena (Trino) and PostgreSQL accept."""
    import psycopg2

    conn = psycopg2.connect(postgres_dsn)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute('DROP SCHEMA IF EXISTS "%s" CASCADE' % SEED_DB)
    cur.execute('CREATE SCHEMA "%s"' % SEED_DB)
    cur.execute('CREATE TABLE "%s".orders (order_id TEXT, products INT[], run_id TEXT, run TEXT)' % SEED_DB)
    cur.execute('CREATE TABLE "%s".staging_orders (order_id TEXT, line_number INT, run_id TEXT, run TEXT)' % SEED_DB)

    def add(run, order_id, n):
        cur.execute('INSERT INTO "%s".orders VALUES (%%s, %%s, %%s, %%s)' % SEED_DB, (order_id, list(range(n)), run, run))
        for line in range(1, n + 1):
            cur.execute('INSERT INTO "%s".staging_orders VALUES (%%s, %%s, %%s, %%s)' % SEED_DB, (order_id, line, run, run))

    def count(layer, runs):
        cur.execute(athena_counts.runs_count_query(layer, SEED_DB, "orders" if layer == "s3_landing" else "staging_orders", runs))
        return {r: int(n) for r, n in cur.fetchall()}

    yield add, count
    conn.close()


def test_duplicates_count_once_in_the_earliest_run_in_both_s3_layers(s3_tables):
    add, count = s3_tables
    r1, r2 = RUNS[1]["run_id"], RUNS[0]["run_id"]
    add(r1, "a", 3)
    add(r1, "a", 3)  # a whole PutRecords resent within the run
    add(r1, "b", 2)
    add(r2, "b", 2)  # resent across the rotation: run 1 owns it
    add(r2, "c", 1)
    for layer in ("s3_landing", "s3_staging"):
        assert count(layer, RUNS) == {r1: 5, r2: 1}, layer
        # Counting run 2 alone (a late recount) applies the same rule.
        assert count(layer, RUNS[:1]) == {r2: 1}, layer


def test_a_lost_record_still_lowers_the_count(s3_tables):
    add, count = s3_tables
    r1 = RUNS[1]["run_id"]
    add(r1, "a", 3)
    add(r1, "b", 2)
    assert count("s3_landing", RUNS[1:]) == {r1: 5}
    assert count("s3_staging", RUNS[1:]) == {r1: 5}
    add(r1, "c", 4)  # staging lost nothing here, but landing gained an order staging never got
    assert count("s3_landing", RUNS[1:]) == {r1: 9}


def test_parse_counts_skips_the_header_and_follows_pages():
    pages = [
        page(rows(("run_id", "num_records"), ("run-1", "3"), ("run-2", "12"))),
        page(rows(("run-3", None))),  # every order of run-3 had NULL products
    ]
    assert athena_counts.parse_counts(pages) == {"run-1": 3, "run-2": 12, "run-3": 0}


def test_parse_counts_of_an_empty_result():
    assert athena_counts.parse_counts([page(rows(("run_id", "num_records")))]) == {}


def test_parse_counts_refuses_an_unexpected_shape():
    with pytest.raises(athena_counts.AthenaQueryError, match="header"):
        athena_counts.parse_counts([page(rows(("order_id", "n")))])
    with pytest.raises(athena_counts.AthenaQueryError, match="row"):
        athena_counts.parse_counts([page(rows(("run_id", "num_records"), (None, "3")))])


def athena_client():
    return boto3.client("athena", region_name="eu-west-1")


def expect_query(stub, sql, states, result_pages, query_id="q-1"):
    stub.add_response("start_query_execution", {"QueryExecutionId": query_id}, {
        "QueryString": sql, "QueryExecutionContext": {"Database": SEED_DB}, "WorkGroup": "orders-workgroup"})
    for state in states:
        status = {"State": state}
        if state in ("FAILED", "CANCELLED"):
            status["StateChangeReason"] = "TABLE_NOT_FOUND: line 1:58: Table 'awsdatacatalog.ecommerce-database.orders' does not exist"
        stub.add_response("get_query_execution", {"QueryExecution": {"QueryExecutionId": query_id, "Status": status}},
                          {"QueryExecutionId": query_id})
    token = None
    for i, p in enumerate(result_pages):
        params = {"QueryExecutionId": query_id, "MaxResults": 1000}
        if token:
            params["NextToken"] = token
        token = "t%d" % i if i + 1 < len(result_pages) else None
        if token:
            p = dict(p, NextToken=token)
        stub.add_response("get_query_results", p, params)


def test_counts_per_run_polls_until_done_and_reads_every_page():
    client, sleeps = athena_client(), []
    with Stubber(client) as stub:
        expect_query(stub, athena_counts.runs_count_query("s3_landing", SEED_DB, "orders", RUNS),
                     ["QUEUED", "RUNNING", "SUCCEEDED"],
                     [page(rows(("run_id", "num_records"), ("run-1", "4"))), page(rows(("run-2", "2")))])
        got = athena_counts.counts_per_run(client, "s3_landing", SEED_DB, "orders", "orders-workgroup", RUNS,
                                           poll_seconds=0.5, sleep=sleeps.append)
        stub.assert_no_pending_responses()
    assert got == {"run-1": 4, "run-2": 2}
    assert sleeps == [0.5, 0.5]


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
def test_a_failed_query_raises_with_athenas_reason(state):
    client = athena_client()
    with Stubber(client) as stub:
        expect_query(stub, athena_counts.runs_count_query("s3_landing", SEED_DB, "orders", RUNS), [state], [])
        with pytest.raises(athena_counts.AthenaQueryError, match="%s: TABLE_NOT_FOUND" % state):
            athena_counts.counts_per_run(client, "s3_landing", SEED_DB, "orders", "orders-workgroup", RUNS,
                                         sleep=lambda s: None)


def test_a_query_that_never_ends_times_out():
    client = athena_client()
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "RUNNING"}}})
        with pytest.raises(athena_counts.AthenaQueryError, match="still RUNNING"):
            athena_counts.wait_for_query(client, "q-1", poll_seconds=1, timeout_seconds=2, sleep=lambda s: None)


class _Manifests:
    """The manifest's S3 calls, in memory."""

    class exceptions:
        class NoSuchKey(Exception):
            pass

    def __init__(self):
        self.objects = {}

    def put_object(self, Bucket, Key, Body, **_):
        self.objects[(Bucket, Key)] = Body

    def get_object(self, Bucket, Key):
        import io

        if (Bucket, Key) not in self.objects:
            raise self.exceptions.NoSuchKey()
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}


def test_the_staging_audit_counts_the_manifests_runs_only(dynamodb):
    import run_selection

    args = {"layer": "s3_staging", "database": SEED_DB, "table": "staging_orders",
            "athena_workgroup": "orders-workgroup", "audit_table": AUDIT_TABLE, "manifest_path": "s3://staging/manifests/"}
    identity = {"JOB_NAME": "orders_staging_audit_load", "JOB_RUN_ID": "jr_1"}
    s3 = _Manifests()
    run_selection.write_manifest(s3, run_selection.manifest_uri(args["manifest_path"], "wr_1"), RUNS, "jr_0")
    sql = athena_counts.runs_count_query("s3_staging", SEED_DB, "staging_orders", RUNS)
    result = [page(rows(("run_id", "num_records"), (RUNS[0]["run_id"], "4"), (RUNS[1]["run_id"], "2")))]
    client = athena_client()
    with Stubber(client) as stub:
        expect_query(stub, sql, ["SUCCEEDED"], result, "q-1")
        expect_query(stub, sql, ["SUCCEEDED"], result, "q-2")
        assert athena_audit_load.run(args, identity, client, dynamodb, s3, workflow_run_id="wr_1",
                                     sleep=lambda s: None) == (2, 0)
        # A re-run finds the same counts and writes nothing.
        assert athena_audit_load.run(args, dict(identity, JOB_RUN_ID="jr_2"), client, dynamodb, s3,
                                     workflow_run_id="wr_1", sleep=lambda s: None) == (0, 2)
        # A workflow run whose landing audit counted nothing queries nothing.
        assert athena_audit_load.run(args, identity, client, dynamodb, s3, workflow_run_id="wr_2",
                                     sleep=lambda s: None) == (0, 0)
    assert audit_table.read_counts(dynamodb, AUDIT_TABLE, "s3_staging") == {RUNS[0]["run_id"]: 4, RUNS[1]["run_id"]: 2}
