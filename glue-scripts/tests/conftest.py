"""Local stand-ins for the jobs' AWS services: dynalite for DynamoDB and a
throwaway PostgreSQL 15 for Redshift's SQL. Both are started on 127.0.0.1
free ports and stopped by PID / data directory when the session ends."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(ROOT)
for sub in ("common", "jobs"):
    sys.path.insert(0, os.path.join(ROOT, sub))

# Never reach a real AWS endpoint or the instance metadata service.
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
os.environ["AWS_ACCESS_KEY_ID"] = "local"
os.environ["AWS_SECRET_ACCESS_KEY"] = "local"
os.environ["AWS_DEFAULT_REGION"] = "eu-west-1"

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

AUDIT_TABLE = "orders-audit-table"


def contract() -> dict:
    """The shapes shared with the Go code: internal/contract/contract.json."""
    import json

    with open(os.path.join(REPO, "internal", "contract", "contract.json")) as f:
        return json.load(f)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %s" % (what, proc.returncode))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("%s did not listen on %d within %.0f s" % (what, port, timeout))


@pytest.fixture(scope="session")
def dynalite_endpoint():
    binary = os.path.join(REPO, "node_modules", ".bin", "dynalite")
    if not os.path.exists(binary):
        pytest.fail("dynalite missing: run `make node-tools` (npm ci) first")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", str(port),
         "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc, "dynalite")
        yield "http://127.0.0.1:%d" % port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def dynamodb(dynalite_endpoint):
    """A client on dynalite with a fresh audit table (same keys as the deployed one)."""
    client = boto3.client("dynamodb", endpoint_url=dynalite_endpoint,
                          config=Config(retries={"max_attempts": 1}))
    client.create_table(
        TableName=AUDIT_TABLE,
        KeySchema=[{"AttributeName": "run_id", "KeyType": "HASH"},
                   {"AttributeName": "layer", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "run_id", "AttributeType": "S"},
                              {"AttributeName": "layer", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    client.get_waiter("table_exists").wait(TableName=AUDIT_TABLE, WaiterConfig={"Delay": 0.1})
    yield client
    client.delete_table(TableName=AUDIT_TABLE)


@pytest.fixture(scope="session")
def postgres_dsn():
    """A throwaway PostgreSQL cluster for the session."""
    from pg_cluster import postgres_cluster

    with postgres_cluster("glue-scripts-pg-") as dsn:
        yield dsn


@pytest.fixture
def warehouse(postgres_dsn):
    """A PostgreSQL executor on an empty database (no staging/final schemas)."""
    from pg_executor import PostgresExecutor

    executor = PostgresExecutor(postgres_dsn)
    executor.run(["DROP SCHEMA IF EXISTS staging CASCADE", "DROP SCHEMA IF EXISTS final CASCADE"])
    yield executor
    executor.close()


RUN_STATE = "orders-run-state"


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
