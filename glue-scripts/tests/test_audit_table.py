"""Audit item writes against dynalite: idempotent and quiet on re-runs."""
from __future__ import annotations

import audit_table
import pytest
from conftest import AUDIT_TABLE


def item(dynamodb, run_id, layer):
    return dynamodb.get_item(TableName=AUDIT_TABLE, Key={"run_id": {"S": run_id}, "layer": {"S": layer}},
                             ConsistentRead=True).get("Item")


def test_first_write_creates_the_item_with_the_contract_attributes(dynamodb):
    assert audit_table.upsert_count(dynamodb, AUDIT_TABLE, "run-1", "s3_landing", 7,
                                    "orders_landing_audit_load", "jr_a", "2026-11-28T01:00:00Z")
    assert item(dynamodb, "run-1", "s3_landing") == {
        "run_id": {"S": "run-1"}, "layer": {"S": "s3_landing"}, "record_count": {"N": "7"},
        "job_name": {"S": "orders_landing_audit_load"}, "job_run_id": {"S": "jr_a"},
        "recorded_at": {"S": "2026-11-28T01:00:00Z"},
    }


def test_same_count_again_writes_nothing(dynamodb):
    audit_table.upsert_count(dynamodb, AUDIT_TABLE, "run-1", "s3_staging", 7, "job", "jr_a", "2026-11-28T01:00:00Z")
    before = item(dynamodb, "run-1", "s3_staging")
    assert not audit_table.upsert_count(dynamodb, AUDIT_TABLE, "run-1", "s3_staging", 7, "job", "jr_b",
                                        "2026-11-28T02:00:00Z")
    assert item(dynamodb, "run-1", "s3_staging") == before


def test_changed_count_is_written(dynamodb):
    audit_table.upsert_count(dynamodb, AUDIT_TABLE, "run-1", "s3_staging", 7, "job", "jr_a", "2026-11-28T01:00:00Z")
    assert audit_table.upsert_count(dynamodb, AUDIT_TABLE, "run-1", "s3_staging", 9, "job", "jr_b",
                                    "2026-11-28T02:00:00Z")
    got = item(dynamodb, "run-1", "s3_staging")
    assert got["record_count"] == {"N": "9"} and got["job_run_id"] == {"S": "jr_b"}


def test_zero_is_a_count_like_any_other(dynamodb):
    assert audit_table.upsert_count(dynamodb, AUDIT_TABLE, "run-0", "s3_landing", 0, "job", "jr", "t")
    assert not audit_table.upsert_count(dynamodb, AUDIT_TABLE, "run-0", "s3_landing", 0, "job", "jr", "t")


def test_layers_of_one_run_are_separate_items(dynamodb):
    counts = {"run-1": 3, "run-2": 5}
    for layer in audit_table.LAYERS:
        assert audit_table.record_counts(dynamodb, AUDIT_TABLE, layer, counts, "job", "jr",
                                         now=lambda: "2026-11-28T01:00:00Z") == (2, 0)
    assert dynamodb.scan(TableName=AUDIT_TABLE, Select="COUNT")["Count"] == 8
    assert audit_table.record_counts(dynamodb, AUDIT_TABLE, "s3_landing", {"run-1": 3, "run-2": 6, "run-3": 1},
                                     "job", "jr2") == (2, 1)
    assert audit_table.read_counts(dynamodb, AUDIT_TABLE, "s3_landing") == {"run-1": 3, "run-2": 6, "run-3": 1}
    assert audit_table.read_counts(dynamodb, AUDIT_TABLE, "redshift_final") == counts


@pytest.mark.parametrize("run_id,layer,count,error", [
    ("run-1", "landing", 1, "unknown audit layer"),
    ("run-1", "notified#s3_staging", 1, "unknown audit layer"),
    ("", "s3_landing", 1, "empty run_id"),
    ("run-1", "s3_landing", -1, "negative record count"),
])
def test_bad_input_is_refused_before_writing(dynamodb, run_id, layer, count, error):
    with pytest.raises(ValueError, match=error):
        audit_table.upsert_count(dynamodb, AUDIT_TABLE, run_id, layer, count, "job", "jr", "t")
    assert dynamodb.scan(TableName=AUDIT_TABLE, Select="COUNT")["Count"] == 0


def test_other_dynamodb_errors_are_raised(dynamodb):
    with pytest.raises(dynamodb.exceptions.ResourceNotFoundException):
        audit_table.upsert_count(dynamodb, "no-such-table", "run-1", "s3_landing", 1, "job", "jr", "t")


def test_audit_item_is_the_shared_contract():
    from conftest import contract

    item = contract()["audit_item"]
    assert [layer["name"] for layer in item["layers"]] == list(audit_table.LAYERS)
    assert [layer["name"] for layer in item["layers"] if layer["role"] == "reference"] == [audit_table.S3_LANDING]
    assert (item["partition_key"], item["sort_key"]) == (audit_table.RUN_ID_KEY, audit_table.LAYER_KEY)
    assert [a["name"] for a in item["attributes"]] == [
        audit_table.RECORD_COUNT_ATTR, audit_table.JOB_NAME_ATTR, audit_table.JOB_RUN_ID_ATTR, audit_table.RECORDED_AT_ATTR]
