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


def test_landing_counts_products_not_orders():
    # Seed note 4: exploded count, so landing compares with staging.
    assert athena_counts.count_query("s3_landing", SEED_DB, "orders") == (
        'SELECT run_id, SUM(CARDINALITY("products")) AS num_records FROM "ecommerce-database"."orders" '
        "WHERE run_id IS NOT NULL GROUP BY run_id")


def test_staging_counts_rows():
    assert athena_counts.count_query("s3_staging", SEED_DB, "staging_orders") == (
        'SELECT run_id, COUNT(*) AS num_records FROM "ecommerce-database"."staging_orders" '
        "WHERE run_id IS NOT NULL GROUP BY run_id")


@pytest.mark.parametrize("layer,database,table", [
    ("redshift_final", SEED_DB, "orders"),
    ("s3_landing", 'db"; DROP TABLE x; --', "orders"),
    ("s3_landing", SEED_DB, "orders where 1=1"),
])
def test_bad_layer_or_name_is_refused(layer, database, table):
    with pytest.raises(ValueError):
        athena_counts.count_query(layer, database, table)


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
        expect_query(stub, athena_counts.count_query("s3_landing", SEED_DB, "orders"),
                     ["QUEUED", "RUNNING", "SUCCEEDED"],
                     [page(rows(("run_id", "num_records"), ("run-1", "4"))), page(rows(("run-2", "2")))])
        got = athena_counts.counts_per_run(client, "s3_landing", SEED_DB, "orders", "orders-workgroup",
                                           poll_seconds=0.5, sleep=sleeps.append)
        stub.assert_no_pending_responses()
    assert got == {"run-1": 4, "run-2": 2}
    assert sleeps == [0.5, 0.5]


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
def test_a_failed_query_raises_with_athenas_reason(state):
    client = athena_client()
    with Stubber(client) as stub:
        expect_query(stub, athena_counts.count_query("s3_landing", SEED_DB, "orders"), [state], [])
        with pytest.raises(athena_counts.AthenaQueryError, match="%s: TABLE_NOT_FOUND" % state):
            athena_counts.counts_per_run(client, "s3_landing", SEED_DB, "orders", "orders-workgroup",
                                         sleep=lambda s: None)


def test_a_query_that_never_ends_times_out():
    client = athena_client()
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "RUNNING"}}})
        with pytest.raises(athena_counts.AthenaQueryError, match="still RUNNING"):
            athena_counts.wait_for_query(client, "q-1", poll_seconds=1, timeout_seconds=2, sleep=lambda s: None)


def test_the_audit_job_writes_athena_counts_into_the_audit_table(dynamodb):
    args = {"layer": "s3_staging", "database": SEED_DB, "table": "staging_orders",
            "athena_workgroup": "orders-workgroup", "audit_table": AUDIT_TABLE}
    identity = {"JOB_NAME": "orders_staging_audit_load", "JOB_RUN_ID": "jr_1"}
    sql = athena_counts.count_query("s3_staging", SEED_DB, "staging_orders")
    result = [page(rows(("run_id", "num_records"), ("run-1", "4"), ("run-2", "2")))]
    client = athena_client()
    with Stubber(client) as stub:
        expect_query(stub, sql, ["SUCCEEDED"], result, "q-1")
        expect_query(stub, sql, ["SUCCEEDED"], result, "q-2")
        assert athena_audit_load.run(args, identity, client, dynamodb, sleep=lambda s: None) == (2, 0)
        # A re-run finds the same counts and writes nothing.
        assert athena_audit_load.run(args, dict(identity, JOB_RUN_ID="jr_2"), client, dynamodb,
                                     sleep=lambda s: None) == (0, 2)
    assert audit_table.read_counts(dynamodb, AUDIT_TABLE, "s3_staging") == {"run-1": 4, "run-2": 2}
