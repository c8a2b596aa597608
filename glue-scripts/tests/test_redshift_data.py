"""The Data API executor: one statement or one transaction, waiting, Redshift's error text, results.

The Data API has no local stand-in, so its responses are stubbed; the SQL
itself runs on PostgreSQL in test_sql.py."""
from __future__ import annotations

import boto3
import job_args
import pytest
import redshift_data
from botocore.stub import Stubber

SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-admin-AbCdEf"
TARGET = {"Database": "dev", "SecretArn": SECRET, "WorkgroupName": "orders-workgroup"}


def executor(client, sleeps=None, **kwargs):
    return redshift_data.DataApiExecutor(client, "dev", SECRET, workgroup_name="orders-workgroup",
                                         poll_seconds=0.25, sleep=(sleeps.append if sleeps is not None else (lambda s: None)),
                                         **kwargs)


@pytest.fixture
def client():
    return boto3.client("redshift-data", region_name="eu-west-1")


def describe(stub, statement_id, status, **extra):
    stub.add_response("describe_statement", dict({"Id": statement_id, "Status": status}, **extra), {"Id": statement_id})


def test_one_statement_is_executed_and_awaited(client):
    sleeps = []
    with Stubber(client) as stub:
        stub.add_response("execute_statement", {"Id": "s-1"}, dict(TARGET, Sql="CREATE SCHEMA IF NOT EXISTS final"))
        describe(stub, "s-1", "SUBMITTED")
        describe(stub, "s-1", "STARTED")
        describe(stub, "s-1", "FINISHED")
        executor(client, sleeps).run(["CREATE SCHEMA IF NOT EXISTS final", "  "])
        stub.assert_no_pending_responses()
    assert sleeps == [0.25, 0.25]


def test_several_statements_run_as_one_batch_transaction(client):
    statements = ["DELETE FROM final.orders", "INSERT INTO final.orders SELECT 1"]
    with Stubber(client) as stub:
        stub.add_response("batch_execute_statement", {"Id": "b-1"}, dict(TARGET, Sqls=statements))
        describe(stub, "b-1", "FINISHED")
        executor(client).run(statements)
        stub.assert_no_pending_responses()


def test_a_failed_batch_raises_with_redshifts_error_and_the_failing_statement(client):
    statements = ["CREATE TEMP TABLE orders_load (LIKE staging.orders)",
                  "COPY orders_load FROM 's3://b/redshift-copy/jr_1/' IAM_ROLE 'arn:aws:iam::1:role/r' FORMAT AS PARQUET"]
    error = "ERROR: Spectrum Scan Error ... column count mismatch"
    with Stubber(client) as stub:
        stub.add_response("batch_execute_statement", {"Id": "b-1"}, dict(TARGET, Sqls=statements))
        describe(stub, "b-1", "FAILED", Error=error, SubStatements=[
            {"Id": "b-1:1", "Status": "FINISHED"}, {"Id": "b-1:2", "Status": "FAILED", "Error": error}])
        with pytest.raises(redshift_data.RedshiftStatementError) as raised:
            executor(client).run(statements)
    message = str(raised.value)
    assert "b-1 FAILED: " + error in message
    assert "failing statement 2 of 2: COPY orders_load" in message


def test_an_aborted_statement_raises(client):
    with Stubber(client) as stub:
        stub.add_response("execute_statement", {"Id": "s-1"})
        describe(stub, "s-1", "ABORTED", Error="Query cancelled by user")
        with pytest.raises(redshift_data.RedshiftStatementError, match="ABORTED: Query cancelled"):
            executor(client).run(["SELECT 1"])


def test_waiting_gives_up_after_the_timeout(client):
    with Stubber(client) as stub:
        stub.add_response("execute_statement", {"Id": "s-1"})
        for _ in range(3):
            describe(stub, "s-1", "STARTED")
        with pytest.raises(redshift_data.RedshiftStatementError, match="still STARTED"):
            executor(client, timeout_seconds=0.5).run(["SELECT 1"])


def test_query_reads_every_result_page_and_converts_cells(client):
    sql = "SELECT run_id, COUNT(*) AS num_records FROM staging.orders GROUP BY run_id"
    with Stubber(client) as stub:
        stub.add_response("execute_statement", {"Id": "s-1"}, dict(TARGET, Sql=sql))
        describe(stub, "s-1", "FINISHED", HasResultSet=True)
        stub.add_response("get_statement_result", {
            "Records": [[{"stringValue": "run-1"}, {"longValue": 4}]], "NextToken": "n1"}, {"Id": "s-1"})
        stub.add_response("get_statement_result", {
            "Records": [[{"stringValue": "run-2"}, {"longValue": 2}], [{"isNull": True}, {"longValue": 1}]]},
            {"Id": "s-1", "NextToken": "n1"})
        assert executor(client).query(sql) == [("run-1", 4), ("run-2", 2), (None, 1)]
        stub.assert_no_pending_responses()


def test_cluster_target_uses_the_cluster_identifier(client):
    args = {"redshift_database": "dev", "secret_arn": SECRET, "cluster_identifier": "orders-cluster"}
    with Stubber(client) as stub:
        stub.add_response("execute_statement", {"Id": "s-1"},
                          {"Database": "dev", "SecretArn": SECRET, "ClusterIdentifier": "orders-cluster", "Sql": "SELECT 1"})
        describe(stub, "s-1", "FINISHED")
        redshift_data.DataApiExecutor.from_args(client, args, sleep=lambda s: None).run(["SELECT 1"])


@pytest.mark.parametrize("targets", [{}, {"workgroup_name": "w", "cluster_identifier": "c"}])
def test_exactly_one_target_is_required(client, targets):
    with pytest.raises(ValueError, match="exactly one"):
        redshift_data.DataApiExecutor(client, "dev", SECRET, **targets)


def test_warehouse_arguments_need_exactly_one_target():
    base = ["job.py", "--redshift_database", "dev", "--secret_arn", SECRET]
    assert job_args.warehouse(base + ["--workgroup_name", "orders"]) == {
        "redshift_database": "dev", "secret_arn": SECRET, "workgroup_name": "orders"}
    with pytest.raises(job_args.ArgumentError, match="exactly one"):
        job_args.warehouse(base)
    with pytest.raises(job_args.ArgumentError, match="exactly one"):
        job_args.warehouse(base + ["--workgroup_name", "w", "--cluster_identifier", "c"])
    with pytest.raises(job_args.ArgumentError, match="--secret_arn"):
        job_args.warehouse(["job.py", "--redshift_database", "dev", "--cluster_identifier", "c"])
    # A workgroup without a secret signs in as the job's role.
    assert job_args.warehouse(["job.py", "--redshift_database", "dev", "--workgroup_name", "w"]) == {
        "redshift_database": "dev", "workgroup_name": "w"}


def test_workgroup_without_secret_sends_no_secret_arn(client):
    args = {"redshift_database": "dev", "workgroup_name": "analytics"}
    with Stubber(client) as stub:
        stub.add_response("execute_statement", {"Id": "s-1"},
                          {"Database": "dev", "WorkgroupName": "analytics", "Sql": "SELECT 1"})
        describe(stub, "s-1", "FINISHED")
        redshift_data.DataApiExecutor.from_args(client, args, sleep=lambda s: None).run(["SELECT 1"])


def test_the_sdk_addresses_a_serverless_workgroup(client):
    # Python shell 3.9's own botocore (1.24.21) has no WorkgroupName; the jobs
    # install the pinned one (gluejob.PythonShellSDK), which these tests run.
    model = client.meta.service_model
    for operation in ("ExecuteStatement", "BatchExecuteStatement"):
        assert "WorkgroupName" in model.operation_model(operation).input_shape.members, operation
