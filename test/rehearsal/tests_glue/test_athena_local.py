"""The local Athena answers the audit jobs' own queries through boto3, over the
partitions registered in the Glue catalog only."""
from __future__ import annotations

import time

import athena_counts
import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from rehearsal.athena_local import AthenaLocal
from rehearsal.glue_local import s3files
from rehearsal.workflow import LocalWorkflow

from .conftest import DATABASE, add_partition, put_landing_orders

HOUR1 = "processing_date=2026-11-28/processing_hour=01"
HOUR2 = "processing_date=2026-11-28/processing_hour=02"


@pytest.fixture
def athena(fresh, spark):
    env = fresh
    workgroups = LocalWorkflow(env)._athena_workgroups()
    server = AthenaLocal(spark, env.client("glue"), env.client("s3"), workgroups)
    url = server.start()
    client = boto3.client("athena", endpoint_url=url, region_name=env.region, aws_access_key_id="testing",
                          aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}))
    try:
        yield env, server, client, next(iter(workgroups))
    finally:
        server.stop()


def _sleep(_seconds):
    time.sleep(0.05)


def test_landing_audit_query_counts_products_of_registered_partitions_only(athena):
    env, server, client, workgroup = athena
    a = put_landing_orders(env, HOUR1 + "/run=run-a", "run-a", [3, 1, 0, None])
    b = put_landing_orders(env, HOUR1 + "/run=run-b", "run-b", [2])
    put_landing_orders(env, HOUR2 + "/run=run-c", "run-c", [5])  # not registered: invisible, as in Athena
    add_partition(env, HOUR1 + "/run=run-a")
    add_partition(env, HOUR1 + "/run=run-b")
    runs = [{"run_id": r, "previous_run_id": ""} for r in ("run-a", "run-b", "run-c")]

    counts = athena_counts.counts_per_run(client, "s3_landing", DATABASE, "orders", workgroup, runs, sleep=_sleep)

    assert counts == {"run-a": 4, "run-b": 2}
    (q,) = server.queries.values()
    sizes = {o.uri: o.size for o in s3files.list_objects(env.client("s3"), s3files.folder(a.rsplit("/", 2)[0]))}
    stats = client.get_query_execution(QueryExecutionId=q.id)["QueryExecution"]["Statistics"]
    assert stats["DataScannedInBytes"] == sizes[a] + sizes[b]
    assert (q.rows_scanned, q.files_scanned) == (5, 2)
    # Results land in the workgroup's output location, as Athena writes them.
    out = client.get_query_execution(QueryExecutionId=q.id)["QueryExecution"]["ResultConfiguration"]["OutputLocation"]
    bucket, key = s3files.split_uri(out)
    csv = env.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert csv.splitlines()[0] == '"run_id","num_records"' and len(csv.splitlines()) == 3


def test_results_page_with_a_header_row_first(athena):
    env, server, client, workgroup = athena
    for i in range(3):
        put_landing_orders(env, HOUR1 + "/run=run-%d" % i, "run-%d" % i, [1])
        add_partition(env, HOUR1 + "/run=run-%d" % i)
    qid = client.start_query_execution(QueryString='SELECT run_id FROM "ecommerce-database"."orders" ORDER BY run_id',
                                       WorkGroup=workgroup)["QueryExecutionId"]
    athena_counts.wait_for_query(client, qid, sleep=_sleep)
    rows, token = [], None
    while True:
        page = client.get_query_results(QueryExecutionId=qid, MaxResults=2, **({"NextToken": token} if token else {}))
        rows += [r["Data"][0].get("VarCharValue") for r in page["ResultSet"]["Rows"]]
        token = page.get("NextToken")
        if not token:
            break
    assert rows == ["run_id", "run-0", "run-1", "run-2"]


def test_a_failing_query_reports_athenas_reason(athena):
    env, server, client, workgroup = athena
    with pytest.raises(athena_counts.AthenaQueryError) as err:
        athena_counts.counts_per_run(client, "s3_staging", DATABASE, "staging_orders", workgroup,
                                     [{"run_id": "run-a", "previous_run_id": ""}], sleep=_sleep)
    assert "FAILED" in str(err.value) and "staging_orders" in str(err.value)


def test_an_unknown_workgroup_is_refused(athena):
    env, server, client, workgroup = athena
    with pytest.raises(ClientError) as err:
        client.start_query_execution(QueryString="SELECT 1", WorkGroup="no-such-workgroup")
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
