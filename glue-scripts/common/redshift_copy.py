"""=== REDSHIFT-ONLY SQL ===

The one statement of the pipeline that PostgreSQL does not accept: COPY from
Parquet files in S3 with an IAM role. Everything else runs on both engines
and is tested on PostgreSQL, where a plain INSERT of the same rows stands in
for this COPY.
"""
from __future__ import annotations

import re

import job_args

_ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@\-/]+$")
_TABLE = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")


def copy_parquet(table: str, s3_prefix: str, role_arn: str) -> str:
    """COPY <table> FROM '<prefix>' IAM_ROLE '<role>' FORMAT AS PARQUET.

    Parquet columns map to the table's columns by position, so the files are
    written in orders_schema.STAGING_COLUMN_NAMES order.
    """
    if not _TABLE.match(table):
        raise ValueError("not a table name: %r" % table)
    job_args.split_s3_uri(s3_prefix)
    if "'" in s3_prefix or "\\" in s3_prefix:
        raise ValueError("quote or backslash in S3 prefix %r" % s3_prefix)
    if not _ROLE_ARN.match(role_arn):
        raise ValueError("not an IAM role ARN: %r" % role_arn)
    return "COPY %s FROM '%s' IAM_ROLE '%s' FORMAT AS PARQUET" % (table, s3_prefix, role_arn)
