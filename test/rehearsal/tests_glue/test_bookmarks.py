"""Job bookmarks through the awsglue shim: a committed run's files are not
read again, an uncommitted run's files are."""
from __future__ import annotations

import sys

import pytest
from rehearsal.glue_local import runtime
from rehearsal.glue_local.bookmark_store import BookmarkStore
from rehearsal.workflow import SHIM_DIR

from .conftest import DATABASE, add_partition, put_landing_orders

JOB = "orders_landing_to_staging"
# landing folders: processing date, hour and run (one run's folder per hour)
HOUR1 = "processing_date=2026-11-28/processing_hour=01/run=r1"
HOUR2 = "processing_date=2026-11-28/processing_hour=02/run=r1"
HOUR3 = "processing_date=2026-11-28/processing_hour=03/run=r1"


@pytest.fixture
def job_run(fresh, spark, tmp_path):
    sys.path.insert(0, str(SHIM_DIR))
    store = BookmarkStore(tmp_path / "bookmarks")
    runs = []

    def run(commit: bool, option: str = "job-bookmark-enable"):
        from awsglue.context import GlueContext
        from awsglue.job import Job

        jr = runtime.JobRun(job_name=JOB, job_run_id="jr_%d" % len(runs), bookmark_option=option,
                            glue=fresh.client("glue"), s3=fresh.client("s3"), store=store)
        runs.append(jr)
        with runtime.activate(jr):
            glue = GlueContext(spark.sparkContext)
            job = Job(glue)
            job.init(JOB, {})
            df = glue.create_dynamic_frame.from_catalog(database=DATABASE, table_name="orders",
                                                        transformation_ctx="landing_orders").toDF()
            got = sorted((r.run_id, r.processing_hour) for r in df.select("run_id", "processing_hour").distinct().collect())
            if commit:
                job.commit()
        return got

    try:
        yield fresh, run
    finally:
        sys.path.remove(str(SHIM_DIR))


def test_committed_files_are_skipped_and_uncommitted_ones_read_again(job_run):
    env, run = job_run
    put_landing_orders(env, HOUR1, "run-a", [1, 2])
    put_landing_orders(env, HOUR3, "run-x", [1])  # folder not in the catalog: never read
    add_partition(env, HOUR1)

    assert run(commit=True) == [("run-a", "01")]
    assert run(commit=True) == []  # nothing new since the committed bookmark

    put_landing_orders(env, HOUR1, "run-b", [1])  # new file in a known partition
    put_landing_orders(env, HOUR2, "run-c", [3])
    add_partition(env, HOUR2)
    assert run(commit=False) == [("run-b", "01"), ("run-c", "02")]  # e.g. the job failed before job.commit()
    assert run(commit=True) == [("run-b", "01"), ("run-c", "02")]  # read again
    assert run(commit=True) == []


def test_paused_and_disabled_bookmarks_do_not_move(job_run):
    env, run = job_run
    put_landing_orders(env, HOUR1, "run-a", [1])
    add_partition(env, HOUR1)
    assert run(commit=True, option="job-bookmark-pause") == [("run-a", "01")]
    assert run(commit=True) == [("run-a", "01")]
    assert run(commit=True) == []
    assert run(commit=True, option="job-bookmark-disable") == [("run-a", "01")]
    assert run(commit=True) == []


def test_an_empty_read_has_the_catalog_schema(job_run, spark):
    import orders_schema

    env, run = job_run
    jr = runtime.JobRun(job_name=JOB, job_run_id="jr_empty", bookmark_option="job-bookmark-enable",
                        glue=env.client("glue"), s3=env.client("s3"), store=BookmarkStore(env.work_dir / "bm-empty"))
    jr.init(JOB)
    df = jr.read_catalog(spark, DATABASE, "orders", "landing_orders")
    assert df.isEmpty()
    assert df.columns == orders_schema.LANDING_COLUMNS + orders_schema.S3_PARTITION_COLUMNS
