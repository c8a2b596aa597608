"""Splitting SQL files into Data API statements, and reading them from S3."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import boto3
import pytest
import sql_script
from botocore.config import Config
from conftest import REPO, ROOT, free_port, wait_for_port


def test_splits_on_semicolons_outside_quotes_and_comments():
    text = """
    -- leading comment; not a statement
    CREATE SCHEMA IF NOT EXISTS staging;
    /* block; comment */
    INSERT INTO t VALUES ('a;b', 'it''s; fine', "odd;name");
    SELECT 1 -- trailing; comment
    ;
    -- only a comment at the end;
    """
    assert sql_script.split_statements(text) == [
        "-- leading comment; not a statement\n    CREATE SCHEMA IF NOT EXISTS staging",
        "/* block; comment */\n    INSERT INTO t VALUES ('a;b', 'it''s; fine', \"odd;name\")",
        "SELECT 1 -- trailing; comment",
    ]


def test_last_statement_needs_no_semicolon():
    assert sql_script.split_statements("SELECT 1; SELECT 2") == ["SELECT 1", "SELECT 2"]


@pytest.mark.parametrize("text", ["SELECT 'open", "SELECT 1 /* open"])
def test_unterminated_quotes_and_comments_are_errors(text):
    with pytest.raises(ValueError):
        sql_script.split_statements(text)


@pytest.fixture(scope="module")
def s3():
    """An s3rver on 127.0.0.1, as the stacks' SQL assets bucket."""
    binary = os.path.join(REPO, "node_modules", ".bin", "s3rver")
    if not os.path.exists(binary):
        pytest.fail("s3rver missing: run `make node-tools` (npm ci) first")
    directory = tempfile.mkdtemp(prefix="glue-scripts-s3-")
    port = free_port()
    proc = subprocess.Popen([binary, "--directory", directory, "--port", str(port), "--address", "127.0.0.1",
                             "--silent"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc, "s3rver")
        # s3rver's fixed development credentials.
        yield boto3.client("s3", endpoint_url="http://127.0.0.1:%d" % port,
                           aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER",
                           config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(directory, ignore_errors=True)


def test_the_jobs_read_the_sql_files_from_s3(s3):
    s3.create_bucket(Bucket="assets", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with open(os.path.join(ROOT, "sql", "enrich_final.sql"), "rb") as f:
        s3.put_object(Bucket="assets", Key="sql/enrich_final.sql", Body=f.read())
    statements = sql_script.load_statements(s3, "s3://assets/sql/enrich_final.sql")
    assert len(statements) == 2 and "DELETE FROM final.orders" in statements[0]
    s3.put_object(Bucket="assets", Key="sql/empty.sql", Body=b"-- nothing here\n")
    with pytest.raises(ValueError, match="no SQL statement"):
        sql_script.load_statements(s3, "s3://assets/sql/empty.sql")
    with pytest.raises(s3.exceptions.NoSuchKey):
        sql_script.read_s3_text(s3, "s3://assets/sql/missing.sql")
