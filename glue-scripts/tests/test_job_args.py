"""Job arguments as Glue passes them."""
from __future__ import annotations

import job_args
import pytest

GLUE_ARGV = ["script.py", "--job-bookmark-option", "job-bookmark-disable", "--JOB_ID", "j_1",
             "--JOB_RUN_ID", "jr_abc", "--JOB_NAME", "orders_landing_audit_load", "--layer", "s3_landing",
             "--database", "ecommerce-database", "--table", "orders"]


def test_required_and_present_optional_arguments_are_resolved():
    assert job_args.resolve(GLUE_ARGV, ["layer", "database"], ["table", "audit_table"]) == {
        "layer": "s3_landing", "database": "ecommerce-database", "table": "orders"}


def test_a_missing_required_argument_is_named():
    with pytest.raises(job_args.ArgumentError, match="--audit_table, --athena_workgroup"):
        job_args.resolve(GLUE_ARGV, ["layer", "audit_table", "athena_workgroup"])


def test_run_identity():
    assert job_args.run_identity(GLUE_ARGV) == {"JOB_NAME": "orders_landing_audit_load", "JOB_RUN_ID": "jr_abc"}
    assert job_args.run_identity(["script.py"]) == {"JOB_NAME": "unknown", "JOB_RUN_ID": "unknown"}


@pytest.mark.parametrize("uri,expected", [
    ("s3://bucket/sql/ddl.sql", ("bucket", "sql/ddl.sql")),
    ("s3://bucket/redshift-copy/", ("bucket", "redshift-copy/")),
])
def test_split_s3_uri(uri, expected):
    assert job_args.split_s3_uri(uri) == expected


@pytest.mark.parametrize("uri", ["https://bucket/key", "s3://bucket", "s3:///key", "bucket/key"])
def test_split_s3_uri_refuses(uri):
    with pytest.raises(job_args.ArgumentError):
        job_args.split_s3_uri(uri)


def test_the_workflow_run_id_names_the_manifest_and_a_job_run_by_hand_is_manual():
    assert job_args.workflow_run_id(["job.py", "--WORKFLOW_RUN_ID", "wr_1", "--layer", "x"]) == "wr_1"
    assert job_args.workflow_run_id(["job.py", "--layer", "x"]) == "manual"
