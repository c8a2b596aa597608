"""Each job's entry point refuses bad arguments before touching any AWS service."""
from __future__ import annotations

import athena_audit_load
import job_args
import orders_redshift_staging_to_redshift_final as final_job
import pytest
import redshift_audit_load

SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-admin-AbCdEf"


def test_athena_audit_job_names_its_missing_arguments():
    with pytest.raises(job_args.ArgumentError, match="--athena_workgroup, --audit_table"):
        athena_audit_load.main(["job.py", "--layer", "s3_landing", "--database", "db", "--table", "orders"])


def test_athena_audit_job_refuses_a_redshift_layer(dynamodb):
    args = {"layer": "redshift_final", "database": "db", "table": "orders", "athena_workgroup": "wg",
            "audit_table": "t"}
    with pytest.raises(ValueError, match="Athena counts only the S3 layers"):
        athena_audit_load.run(args, {"JOB_NAME": "j", "JOB_RUN_ID": "jr"}, None, dynamodb)


def test_redshift_audit_job_needs_a_warehouse_target():
    with pytest.raises(job_args.ArgumentError, match="exactly one of --workgroup_name or --cluster_identifier"):
        redshift_audit_load.main(["job.py", "--layer", "redshift_staging", "--audit_table", "t",
                                  "--manifest_path", "s3://staging/manifests/",
                                  "--redshift_database", "dev", "--secret_arn", SECRET])


def test_redshift_audit_job_refuses_an_s3_layer(warehouse, dynamodb):
    with pytest.raises(ValueError, match="Redshift counts only the layers"):
        redshift_audit_load.run({"layer": "s3_staging", "audit_table": "t"},
                                {"JOB_NAME": "j", "JOB_RUN_ID": "jr"}, warehouse, dynamodb, ["r"])


def test_final_job_needs_both_sql_files():
    with pytest.raises(job_args.ArgumentError, match="--enrich_final_sql_uri"):
        final_job.main(["job.py", "--ddl_sql_uri", "s3://assets/sql/ddl.sql", "--redshift_database", "dev",
                        "--secret_arn", SECRET, "--workgroup_name", "orders"])


def _glue_without(table):
    """A Glue client whose catalog has no `table` (botocore Stubber: no AWS call)."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("glue", region_name="eu-west-1")
    stub = Stubber(client)
    stub.add_client_error("get_table", service_error_code="EntityNotFoundException",
                          service_message="Table %s not found." % table,
                          expected_params={"DatabaseName": "ecommerce-database", "Name": table})
    stub.activate()
    return client, stub


def test_athena_audit_of_a_table_no_crawler_created_yet_audits_nothing(dynamodb):
    # Before the first staging data the staging crawler has created no staging_orders;
    # Athena would fail the query with TABLE_NOT_FOUND.
    glue, stub = _glue_without("staging_orders")
    args = {"layer": "s3_staging", "database": "ecommerce-database", "table": "staging_orders",
            "athena_workgroup": "wg", "audit_table": "t"}
    assert athena_audit_load.run(args, {"JOB_NAME": "j", "JOB_RUN_ID": "jr"}, None, dynamodb, glue=glue) == (0, 0)
    stub.assert_no_pending_responses()
