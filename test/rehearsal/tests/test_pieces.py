"""The rehearsal's own pieces (template reading, Firehose conversion rules,
the stream mapping's filter, verify and smoke helpers), against moto where
they call AWS."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from rehearsal import smoke, verify
from rehearsal.audit_stream import AuditStream, Notification, event_pattern
from rehearsal.cdkout import Templates
from rehearsal.env import REPO
from rehearsal.firehose import (
    ConversionError,
    FirehoseSettings,
    PartitionKeyMissing,
    convert_object,
    evaluate_prefix,
    parse_hive_type,
    parse_openx_timestamp,
    partition_keys_of,
)


@pytest.fixture(scope="module")
def templates():
    return Templates.load(REPO / "cdk.out")


def test_every_resource_property_resolves(templates):
    for s in templates.suffixes:
        for lid in templates.stack(s)["Resources"]:
            templates.properties(s, lid)
        for o in templates.stack(s).get("Outputs", {}):
            templates.output(s, o)


def test_cross_stack_reference_resolves_to_the_storage_resource(templates):
    lid, _ = templates.one("ingestion", "AWS::KinesisFirehose::DeliveryStream")
    p = templates.properties("ingestion", lid)
    assert p["KinesisStreamSourceConfiguration"]["KinesisStreamARN"] == "arn:aws:kinesis:eu-west-1:000000000000:stream/orders"
    assert p["ExtendedS3DestinationConfiguration"]["BucketARN"].startswith("arn:aws:s3:::fo-to-dw-orders-landing-area")


def test_hive_types():
    import pyarrow as pa

    t = parse_hive_type("array<struct<product_code:string,quantity:int,unit_price:decimal(10,2)>>")
    assert t == pa.list_(pa.struct([("product_code", pa.string()), ("quantity", pa.int32()), ("unit_price", pa.decimal128(10, 2))]))
    assert parse_hive_type("map<string,bigint>") == pa.map_(pa.string(), pa.int64())
    with pytest.raises(ValueError):
        parse_hive_type("array<int")


@pytest.mark.parametrize("value,expected", [
    ("2026-11-28T01:02:03.456Z", dt.datetime(2026, 11, 28, 1, 2, 3, 456000)),
    ("2017-02-07T15:13:01.39256Z", dt.datetime(2017, 2, 7, 15, 13, 1, 392560)),
    ("2017-2-7 15:13:01.14", dt.datetime(2017, 2, 7, 15, 13, 1, 140000)),
    (1518033528, dt.datetime(2018, 2, 7, 19, 58, 48)),
    (1518033528123, dt.datetime(2018, 2, 7, 19, 58, 48, 123000)),
    (1518033528.5, dt.datetime(2018, 2, 7, 19, 58, 48, 500000)),
])
def test_openx_timestamp_formats(value, expected):
    assert parse_openx_timestamp(value) == expected


@pytest.mark.parametrize("value", ["2026-11-28T01:02:03+01:00", "2026-11-28", "yesterday", True])
def test_openx_timestamp_rejects(value):
    with pytest.raises(ConversionError):
        parse_openx_timestamp(value)


def test_openx_keys_case_insensitive_unknown_ignored_missing_null(templates):
    import pyarrow as pa

    fields = [("order_id", pa.string()), ("products", parse_hive_type("array<struct<quantity:int,unit_price:decimal(10,2)>>")),
              ("run_id", pa.string())]
    row = convert_object({"ORDER_ID": "a", "Products": [{"QUANTITY": "2", "unit_price": 1.005}], "extra": 1}, fields, True)
    assert row == {"order_id": "a", "products": [{"quantity": 2, "unit_price": Decimal("1.01")}], "run_id": None}
    with pytest.raises(ConversionError):
        convert_object({"products": {"not": "a list"}}, fields, True)


def test_prefixes_from_the_template(templates):
    class E:
        pass

    e = E()
    e.templates, e.region = templates, "eu-west-1"
    s = FirehoseSettings.from_templates(e)
    when = dt.datetime(2026, 11, 28, 7, 5, tzinfo=dt.timezone.utc)
    # dynamic partitioning: the folder comes from the record's own keys, not the arrival time
    assert s.dynamic_partitioning and s.partition_retry_s == 300
    out = {"recordId": "1", "result": "Ok", "data": "",
           "metadata": {"partitionKeys": {"date": "2026-11-27", "hour": "23", "run": "20261127T230000Z-00000007"}}}
    keys = dict(partition_keys_of(out, s.prefix))
    assert evaluate_prefix(s.prefix, when, partition_keys=keys) == \
        "orders/processing_date=2026-11-27/processing_hour=23/run=20261127T230000Z-00000007/"
    for broken in ({"recordId": "1", "result": "Ok"}, {"metadata": {"partitionKeys": {"date": "2026-11-27", "hour": "23"}}}):
        with pytest.raises(PartitionKeyMissing):
            partition_keys_of(broken, s.prefix)
    with pytest.raises(ValueError):
        evaluate_prefix(s.prefix, when)
    assert evaluate_prefix(s.error_prefix, when, "processing-failed") == \
        "errors/processing-failed/processing_date=2026-11-28/processing_hour=07/"
    assert (s.processor_mib, s.processor_interval_s, s.retries) == (1, 60, 3)


def test_stream_filter_as_lambda_sees_the_record(templates):
    lid, _ = templates.one("audit", "AWS::Lambda::EventSourceMapping")
    pat = json.loads(templates.properties("audit", lid)["FilterCriteria"]["Filters"][0]["Pattern"])
    p = event_pattern(pat)
    def rec(name, layer):
        return {"eventName": name, "dynamodb": {"NewImage": {"layer": {"S": layer}, "record_count": {"N": "1"}}}}

    assert p.matches_event(rec("INSERT", "s3_staging")) and p.matches_event(rec("MODIFY", "redshift_final"))
    assert not p.matches_event(rec("INSERT", "s3_landing"))
    assert not p.matches_event(rec("MODIFY", "notified#s3_staging"))
    assert not p.matches_event(rec("REMOVE", "s3_staging"))


def _n(run, layer, outcome):
    return Notification("t", outcome, layer, run, f"{outcome}: x", "", {}, "m", "")


def test_verify_against_moto(env):
    from rehearsal.pipeline import audit_table_name

    ddb, table, run = env.client("dynamodb"), audit_table_name(env), "20261128T000000Z-00000001"
    def put(layer, **a):
        ddb.put_item(TableName=table, Item={"run_id": {"S": run}, "layer": {"S": layer}, **a})

    put("s3_landing", record_count={"N": "10"})
    put("s3_staging", record_count={"N": "10"})
    put("redshift_staging", record_count={"N": "9"})
    put("notified#s3_staging", notified_count={"N": "10"}, notified_outcome={"S": "SUCCESS"}, notify_state={"S": "sent"})
    put("notified#redshift_staging", notified_count={"N": "9"}, notified_outcome={"S": "FAILURE"}, notify_state={"S": "sent"})
    layers = ["s3_staging", "redshift_staging", "redshift_final"]
    rc = verify.check_run(verify.audit_items(ddb, table, run), run, [_n(run, "s3_staging", "SUCCESS")], layers)
    by = {lc.layer: lc for lc in rc.layers}
    assert by["s3_staging"].ok
    assert "differs from landing 10 (-1)" in by["redshift_staging"].problem
    assert "no audit count" in by["redshift_final"].problem
    assert not rc.ok and len(rc.problems()) == 2
    # without collected messages the notified# items decide
    assert verify.check_run(verify.audit_items(ddb, table, run), run, None, ["s3_staging"]).ok
    # a second SUCCESS for the same layer is a problem
    two = [_n(run, "s3_staging", "SUCCESS")] * 2
    assert "2 SUCCESS messages" in verify.check_run(verify.audit_items(ddb, table, run), run, two, ["s3_staging"]).layers[0].problem
    ok, problems, _ = smoke.check_runs(ddb, table, [run, "20261128T000000Z-00000002"], None, ["s3_staging"], 10)
    assert ok, problems
    ok, problems, _ = smoke.check_runs(ddb, table, [run], None, ["s3_staging"], 11)
    assert not ok and "add up to 10 products, the batch has 11" in problems[-1]


def test_smoke_finds_the_stage_from_stack_outputs(templates):
    """Stage(): deployed output values mapped through the synthesized output names."""
    outs = templates.stack("storage")["Outputs"]
    deployed = {name: f"deployed-{name}" for name in outs}

    class CFN:
        def describe_stacks(self, StackName):
            assert StackName == "orders-pipeline-prod-storage"
            return {"Stacks": [{"Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in deployed.items()]}]}

        def describe_stack_resources(self, StackName):
            assert StackName == "orders-pipeline-prod-audit"
            return {"StackResources": [{"ResourceType": "AWS::SNS::Topic", "PhysicalResourceId": "arn:aws:sns:r:1:b"},
                                       {"ResourceType": "AWS::SNS::Topic", "PhysicalResourceId": "arn:aws:sns:r:1:a"},
                                       {"ResourceType": "AWS::SQS::Queue", "PhysicalResourceId": "q"}]}

    class Session:
        def client(self, name):
            assert name == "cloudformation"
            return CFN()

    st = smoke.Stage(Session(), "prod", templates)
    def name(lid, attr="Ref"):
        return next(k for k, o in outs.items() if o["Value"] == ({"Ref": lid} if attr == "Ref" else {"Fn::GetAtt": [lid, attr]}))

    bucket_lid = templates.find_by_name("storage", "AWS::S3::Bucket", "fo-to-dw-orders-landing-area-000000000000-eu-west-1")[0]
    assert st.landing_bucket == deployed[name(bucket_lid)]
    assert st.stream_arn == deployed[name(templates.one("storage", "AWS::Kinesis::Stream")[0], "Arn")]
    assert st.audit_table == deployed[name("AuditTableB07F8EEB")]
    assert st.topics == ["arn:aws:sns:r:1:a", "arn:aws:sns:r:1:b"]


def test_stream_mapping_retries_from_the_lowest_reported_failure(env):
    """ReportBatchItemFailures: records before the lowest reported one are done; the rest is retried; after
    MaximumRetryAttempts the rest goes to the on-failure queue."""
    st = AuditStream(env)
    calls = []

    class FakeScanner:
        name = "fake"

        def invoke(self, ev):
            seqs = [r["dynamodb"]["SequenceNumber"] for r in ev["Records"]]
            calls.append(seqs)
            return {"batchItemFailures": [{"itemIdentifier": s} for s in seqs if s in ("3", "5")]}

    st.scanner = FakeScanner()
    st._pending["s"] = [{"dynamodb": {"SequenceNumber": str(i), "ApproximateCreationDateTime": 9e12}} for i in range(1, 7)]
    st._attempts["s"] = 0
    sqs = env.client("sqs")
    for _ in range(st.s.max_retries + 1):
        st._deliver("s", sqs)
    assert calls[0] == ["1", "2", "3", "4", "5", "6"]
    assert all(c == ["3", "4", "5", "6"] for c in calls[1:])
    assert st._pending["s"] == [] and st.stats.sent_to_on_failure == 4
    url = sqs.get_queue_url(QueueName=st.s.on_failure_arn.rsplit(":", 1)[1])["QueueUrl"]
    body = json.loads(sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"])
    assert body["DDBStreamBatchInfo"]["startSequenceNumber"] == "3" and body["DDBStreamBatchInfo"]["batchSize"] == 4


def test_growth_beyond_names_each_grown_figure_and_ignores_time():
    from rehearsal.report import growth_beyond

    ratios = {"crawler": {"objects_listed": 1.9, "files_read": 1.0, "job_ms": 3.0},
              "audit": {"athena_bytes_scanned": 1.2, "rows": None}}
    assert growth_beyond(ratios, 1.2) == ["audit rows grew from 0", "crawler objects_listed 1.9"]
    assert growth_beyond({"audit": {"athena_bytes_scanned": 1.0}}, 1.2) == []
