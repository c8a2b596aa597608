"""The crawler stand-ins, run from the synthesized crawler definitions,
register exactly the new partitions."""
from __future__ import annotations

import io

import orders_schema
import pytest
from rehearsal.glue_local import catalog, s3files
from rehearsal.glue_local.crawlers import CrawlerStandIn

from .conftest import DATABASE, crawler_definition, put_landing_orders

H = "processing_date=2026-11-28/processing_hour=%s/run=%s"


def _crawl(env, name_part, state_dir):
    return CrawlerStandIn(crawler_definition(env, name_part), env.client("glue"), env.client("s3"), state_dir).run()


def _partitions(env, table):
    return sorted((tuple(p["Values"]), p["StorageDescriptor"]["Location"]) for p in catalog.get_partitions(env.client("glue"), DATABASE, table))


def test_landing_crawler_adds_only_new_partitions_to_the_declared_table(fresh, tmp_path):
    env = fresh
    glue = env.client("glue")
    declared = catalog.get_table(glue, DATABASE, "orders")
    base = s3files.folder(declared["StorageDescriptor"]["Location"])
    put_landing_orders(env, H % ("01", "r1"), "r1", [1])
    put_landing_orders(env, H % ("01", "r1"), "r1", [2])
    put_landing_orders(env, H % ("02", "r1"), "r1", [1])

    first = _crawl(env, "landing", tmp_path)
    assert first.work["partitions_added"] == 2 and first.work["objects_listed"] == 3
    assert _partitions(env, "orders") == [(("2026-11-28", "01", "r1"), base + H % ("01", "r1") + "/"),
                                          (("2026-11-28", "02", "r1"), base + H % ("02", "r1") + "/")]

    again = _crawl(env, "landing", tmp_path)
    assert again.work["partitions_added"] == 0
    assert again.work["files_read"] == 3  # CRAWL_EVERYTHING reads every folder again

    put_landing_orders(env, H % ("02", "r2"), "r2", [1])
    put_landing_orders(env, H % ("03", "r2"), "r2", [1])
    put_landing_orders(env, H % ("03", "r2"), "r2", [1], name="_SUCCESS")
    third = _crawl(env, "landing", tmp_path)
    assert third.work["partitions_added"] == 2
    assert [v for v, _ in _partitions(env, "orders")] == [("2026-11-28", h, r) for h, r in (("01", "r1"), ("02", "r1"),
                                                                                            ("02", "r2"), ("03", "r2"))]
    # The declared schema is kept (UpdateBehavior LOG, InheritFromTable).
    table = catalog.get_table(glue, DATABASE, "orders")
    assert table["StorageDescriptor"]["Columns"] == declared["StorageDescriptor"]["Columns"]
    assert catalog.get_partitions(glue, DATABASE, "orders")[0]["StorageDescriptor"]["Columns"] == declared["StorageDescriptor"]["Columns"]


def _put_staging(env, folder, n):
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = env.templates
    bucket = t.name_of("storage", next(lid for lid in t.resources("storage", "AWS::S3::Bucket") if "Staging" in lid))
    names = [c for c in orders_schema.STAGING_COLUMN_NAMES if c not in orders_schema.PARTITION_COLUMNS]
    types = {"order_timestamp": pa.timestamp("us"), "processing_timestamp": pa.timestamp("us"), "line_number": pa.int32(),
             "quantity": pa.int32(), "unit_price": pa.decimal128(10, 2)}
    table = pa.table({c: pa.array([None] * n, type=types.get(c, pa.string())) for c in names})
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="snappy", use_deprecated_int96_timestamps=True)
    env.client("s3").put_object(Bucket=bucket, Key="orders/%s/part-%d.parquet" % (folder, n), Body=buf.getvalue())
    env.client("s3").put_object(Bucket=bucket, Key="orders/_SUCCESS", Body=b"")


def test_staging_crawler_creates_staging_orders_and_crawls_new_folders_only(fresh, tmp_path):
    env = fresh
    definition = crawler_definition(env, "staging")
    assert definition["RecrawlPolicy"]["RecrawlBehavior"] == "CRAWL_NEW_FOLDERS_ONLY"
    _put_staging(env, H % ("01", "r1"), 3)

    first = _crawl(env, "staging", tmp_path)
    assert (first.work["tables_created"], first.work["partitions_added"], first.work["folders_crawled"]) == (1, 1, 1)
    table = catalog.get_table(env.client("glue"), DATABASE, definition["TablePrefix"] + "orders")
    cols = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
    assert [n for n, _ in cols] == [c for c in orders_schema.STAGING_COLUMN_NAMES if c not in orders_schema.PARTITION_COLUMNS]
    assert dict(cols)["unit_price"] == "decimal(10,2)" and dict(cols)["order_timestamp"] == "timestamp"
    assert [(k["Name"], k["Type"]) for k in table["PartitionKeys"]] == [("processing_date", "string"), ("processing_hour", "string"),
                                                                          ("run", "string")]
    assert table["Parameters"]["classification"] == "parquet"

    _put_staging(env, H % ("02", "r1"), 2)
    _put_staging(env, H % ("01", "r1"), 4)  # a new file in a folder crawled before: not re-crawled
    second = _crawl(env, "staging", tmp_path)
    assert (second.work["folders_crawled"], second.work["files_read"], second.work["partitions_added"]) == (1, 1, 1)
    assert second.work["objects_listed"] == 3  # it still lists the whole target
    assert [v for v, _ in _partitions(env, "staging_orders")] == [("2026-11-28", "01", "r1"), ("2026-11-28", "02", "r1")]

    third = _crawl(env, "staging", tmp_path)
    assert (third.work["folders_crawled"], third.work["partitions_added"], third.work["tables_created"]) == (0, 0, 0)


def test_a_missing_catalog_target_fails_the_crawl(fresh, tmp_path):
    env = fresh
    env.client("glue").delete_table(DatabaseName=DATABASE, Name="orders")
    with pytest.raises(Exception, match="does not exist"):
        _crawl(env, "landing", tmp_path)
