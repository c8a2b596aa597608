"""The crawler stand-ins, run from the synthesized crawler definitions (S3
event mode), register exactly the new partitions and, after the first crawl,
list only the folders their queue's S3 events name."""
from __future__ import annotations

import io

import orders_schema
import pytest
from rehearsal.glue_local import catalog, s3files
from rehearsal.glue_local.crawlers import CrawlerStandIn

from .conftest import DATABASE, crawler_definition, put_landing_orders

H = "processing_date=2026-11-28/processing_hour=%s/run=%s"


def _crawl(env, name_part, state_dir):
    return CrawlerStandIn(crawler_definition(env, name_part), env.client("glue"), env.client("s3"), state_dir,
                          env.client("sqs")).run()


def _queue_depth(env, arn):
    sqs = env.client("sqs")
    url = sqs.get_queue_url(QueueName=arn.split(":")[5])["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                     "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def _partitions(env, table):
    return sorted((tuple(p["Values"]), p["StorageDescriptor"]["Location"]) for p in catalog.get_partitions(env.client("glue"), DATABASE, table))


def test_landing_crawler_adds_only_new_partitions_to_the_declared_table(fresh, tmp_path):
    env = fresh
    glue = env.client("glue")
    definition = crawler_definition(env, "landing")
    assert definition["RecrawlPolicy"]["RecrawlBehavior"] == "CRAWL_EVENT_MODE"
    (target,) = definition["Targets"]["CatalogTargets"]
    declared = catalog.get_table(glue, DATABASE, "orders")
    base = s3files.folder(declared["StorageDescriptor"]["Location"])
    put_landing_orders(env, H % ("01", "r1"), "r1", [1])
    put_landing_orders(env, H % ("01", "r1"), "r1", [2])
    put_landing_orders(env, H % ("02", "r1"), "r1", [1])
    # the bucket notified the crawler's queue: an event per object, and S3's test event
    assert _queue_depth(env, target["EventQueueArn"]) == 4

    first = _crawl(env, "landing", tmp_path)  # the first crawl lists the whole target
    assert first.work["partitions_added"] == 2 and first.work["objects_listed"] == 3
    assert _partitions(env, "orders") == [(("2026-11-28", "01", "r1"), base + H % ("01", "r1") + "/"),
                                          (("2026-11-28", "02", "r1"), base + H % ("02", "r1") + "/")]
    assert _queue_depth(env, target["EventQueueArn"]) == 0

    again = _crawl(env, "landing", tmp_path)  # no events: nothing listed, nothing read
    assert (again.work["objects_listed"], again.work["files_read"], again.work["partitions_added"]) == (0, 0, 0)

    put_landing_orders(env, H % ("02", "r2"), "r2", [1])
    put_landing_orders(env, H % ("03", "r2"), "r2", [1])
    put_landing_orders(env, H % ("03", "r2"), "r2", [1], name="_SUCCESS")
    third = _crawl(env, "landing", tmp_path)
    assert third.work["partitions_added"] == 2
    assert third.work["objects_listed"] == 2 and third.work["files_read"] == 2  # only the new folders
    assert [v for v, _ in _partitions(env, "orders")] == [("2026-11-28", h, r) for h, r in (("01", "r1"), ("02", "r1"),
                                                                                            ("02", "r2"), ("03", "r2"))]
    # The declared schema is kept (UpdateBehavior LOG, InheritFromTable).
    table = catalog.get_table(glue, DATABASE, "orders")
    assert table["StorageDescriptor"]["Columns"] == declared["StorageDescriptor"]["Columns"]
    assert catalog.get_partitions(glue, DATABASE, "orders")[0]["StorageDescriptor"]["Columns"] == declared["StorageDescriptor"]["Columns"]


def test_a_message_that_is_no_s3_event_goes_to_the_crawlers_dead_letter_queue(fresh, tmp_path):
    env = fresh
    (target,) = crawler_definition(env, "landing")["Targets"]["CatalogTargets"]
    _crawl(env, "landing", tmp_path)
    sqs = env.client("sqs")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=target["EventQueueArn"].split(":")[5])["QueueUrl"], MessageBody="not an event")
    crawl = _crawl(env, "landing", tmp_path)
    assert crawl.work["events_received"] == 1 and crawl.work["objects_listed"] == 0
    assert _queue_depth(env, target["EventQueueArn"]) == 0
    assert _queue_depth(env, target["DlqEventQueueArn"]) == 1


def _staging_bucket(env):
    t = env.templates
    return t.name_of("storage", next(lid for lid in t.resources("storage", "AWS::S3::Bucket") if "Staging" in lid))


def _put_staging(env, folder, n):
    import pyarrow as pa
    import pyarrow.parquet as pq

    bucket = _staging_bucket(env)
    names = [c for c in orders_schema.STAGING_COLUMN_NAMES if c not in orders_schema.PARTITION_COLUMNS]
    types = {"order_timestamp": pa.timestamp("us"), "processing_timestamp": pa.timestamp("us"), "line_number": pa.int32(),
             "quantity": pa.int32(), "unit_price": pa.decimal128(10, 2)}
    table = pa.table({c: pa.array([None] * n, type=types.get(c, pa.string())) for c in names})
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="snappy", use_deprecated_int96_timestamps=True)
    env.client("s3").put_object(Bucket=bucket, Key="orders/%s/part-%d.parquet" % (folder, n), Body=buf.getvalue())
    env.client("s3").put_object(Bucket=bucket, Key="orders/_SUCCESS", Body=b"")


def test_staging_crawler_creates_staging_orders_and_crawls_the_folders_of_its_events(fresh, tmp_path):
    env = fresh
    definition = crawler_definition(env, "staging")
    assert definition["RecrawlPolicy"]["RecrawlBehavior"] == "CRAWL_EVENT_MODE"
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
    _put_staging(env, H % ("01", "r1"), 4)  # a new file in a folder crawled before: its folder is listed again
    _put_staging(env, H % ("03", "r1"), 5)
    env.client("s3").delete_object(Bucket=_staging_bucket(env), Key="orders/%s/part-5.parquet" % (H % ("03", "r1")))
    second = _crawl(env, "staging", tmp_path)
    assert (second.work["folders_crawled"], second.work["files_read"], second.work["partitions_added"]) == (2, 3, 1)
    assert second.work["objects_listed"] == 3  # the folders of the events only, not the whole target
    assert [v for v, _ in _partitions(env, "staging_orders")] == [("2026-11-28", "01", "r1"), ("2026-11-28", "02", "r1")]

    third = _crawl(env, "staging", tmp_path)
    assert (third.work["objects_listed"], third.work["partitions_added"], third.work["tables_created"]) == (0, 0, 0)


def test_a_missing_catalog_target_fails_the_crawl(fresh, tmp_path):
    env = fresh
    env.client("glue").delete_table(DatabaseName=DATABASE, Name="orders")
    with pytest.raises(Exception, match="does not exist"):
        _crawl(env, "landing", tmp_path)
