"""Fixtures of the Glue stand-in tests: one moto + PostgreSQL (CORE's
local_env, with the Storage resources from cdk.out) and one SparkSession for
the package; `fresh` resets moto and re-creates those resources per test."""
from __future__ import annotations

import datetime
import decimal
import io
import sys
import urllib.request
import uuid

import pytest
from rehearsal.env import REPO, Progress, local_env

sys.path.insert(0, str(REPO / "glue-scripts" / "common"))

OUT = REPO / ".rehearsal" / "tests_glue"
DATABASE = "ecommerce-database"


@pytest.fixture(scope="package")
def env():
    with local_env(OUT, progress=Progress(quiet=True)) as e:
        yield e


@pytest.fixture(scope="package")
def spark(env):
    from rehearsal.glue_local import spark as glue_spark

    session, _ = glue_spark.start_session(env.repo, env.work_dir, env.moto_url, env.region)
    yield session


def reset_moto(env):
    """Empties moto and creates the Storage/Audit resources of cdk.out again."""
    from rehearsal import servers

    req = urllib.request.Request(env.moto_url + "/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=10).close()
    servers.provision(env)
    return env


@pytest.fixture
def fresh(env):
    """An empty moto with the Storage/Audit resources of cdk.out again."""
    return reset_moto(env)


def landing_location(env) -> str:
    from rehearsal.glue_local import catalog

    return catalog.get_table(env.client("glue"), DATABASE, "orders")["StorageDescriptor"]["Location"]


def put_landing_orders(env, folder: str, run_id: str, products_per_order, name: str = "") -> str:
    """One Firehose-like Parquet object of orders (schema of the declared `orders` table) under
    <landing>/orders/<folder>/; returns its URI."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from rehearsal.glue_local import catalog, s3files

    table = catalog.get_table(env.client("glue"), DATABASE, "orders")
    schema = catalog.table_arrow_schema(table, with_partitions=False)
    ts = datetime.datetime(2026, 11, 28, 1, 0, 3, 900000)
    rows = []
    batch = uuid.uuid4().hex[:8]  # each object its own orders: one order in two objects is a duplicate
    for i, n in enumerate(products_per_order):
        rows.append({
            "order_id": "%s-%s-%03d" % (run_id, batch, i), "order_timestamp": ts - datetime.timedelta(seconds=5),
            "customer_id": "c", "order_status": "PLACED", "payment_method": "CARD", "currency": "EUR",
            "shipping_country": "DE", "run_id": run_id, "processing_timestamp": ts,
            "products": None if n is None else [
                {"product_code": "P-%d" % j, "product_name": "p", "category": "books", "quantity": j + 1,
                 "unit_price": decimal.Decimal("1.50")} for j in range(n)],
        })
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), buf, compression="snappy",
                   use_deprecated_int96_timestamps=True)
    bucket, base = s3files.split_uri(s3files.folder(table["StorageDescriptor"]["Location"]))
    key = "%s%s/%s" % (base, folder.strip("/"), name or "orders-firehose-%s.parquet" % uuid.uuid4())
    env.client("s3").put_object(Bucket=bucket, Key=key, Body=buf.getvalue())
    return "s3://%s/%s" % (bucket, key)


def add_partition(env, folder: str) -> None:
    """Registers one landing folder as a partition, as the landing crawler would."""
    import copy

    from rehearsal.glue_local import catalog, s3files

    glue = env.client("glue")
    table = catalog.get_table(glue, DATABASE, "orders")
    values = catalog.folder_partition_values(folder.strip("/") + "/", catalog.partition_keys(table))
    sd = copy.deepcopy(table["StorageDescriptor"])
    sd["Location"] = s3files.folder(table["StorageDescriptor"]["Location"]) + folder.strip("/") + "/"
    glue.create_partition(DatabaseName=DATABASE, TableName="orders", PartitionInput={"Values": values, "StorageDescriptor": sd})


def crawler_definition(env, name_part: str) -> dict:
    t = env.templates
    for lid in t.resources("orchestration", "AWS::Glue::Crawler"):
        p = t.properties("orchestration", lid)
        if name_part in p["Name"]:
            return p
    raise LookupError(name_part)
