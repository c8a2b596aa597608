"""The Glue job run that the awsglue shim serves.

The workflow activates one JobRun around an in-process Spark script; the
shim's GlueContext and Job find it here. It resolves catalog reads against
moto's Glue catalog and S3, applies and commits the job bookmark, and
records what was read (the step's work figures).
"""
from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional

from . import catalog, s3files
from .bookmark_store import BookmarkStore

log = logging.getLogger(__name__)

BOOKMARK_ENABLE = "job-bookmark-enable"
BOOKMARK_DISABLE = "job-bookmark-disable"
BOOKMARK_PAUSE = "job-bookmark-pause"


@dataclass
class CatalogRead:
    database: str
    table: str
    context: str
    partitions: int = 0
    # partitions in the catalog before push_down_predicate chose some (Glue
    # lists them all and filters them in the job)
    partitions_in_catalog: int = 0
    objects_listed: int = 0
    objects_read: int = 0
    bytes_read: int = 0
    objects_skipped_by_bookmark: int = 0
    frame: object = None  # the DataFrame handed to the script


@dataclass
class JobRun:
    job_name: str
    job_run_id: str
    bookmark_option: str
    glue: object  # boto3 Glue client on moto
    s3: object  # boto3 S3 client on moto
    store: BookmarkStore
    initialized: bool = False
    committed: bool = False
    # Fault injection: the run dies when the script calls job.commit() (as a Glue job
    # run can die after its writes and before the bookmark is saved).
    fail_commit: bool = False
    pending: Dict[str, Dict[str, float]] = field(default_factory=dict)
    reads: List[CatalogRead] = field(default_factory=list)
    _state: Optional[dict] = None

    # ---- Job.init / Job.commit -------------------------------------------
    def init(self, job_name: str, args: Optional[dict] = None) -> None:
        if job_name != self.job_name:
            # Glue keys the bookmark by the job the service runs, whatever the script passes.
            log.warning("Job.init(%r) in job %s: bookmarks stay keyed by %s", job_name, self.job_name, self.job_name)
        self._state = self.store.load(self.job_name)
        self.initialized = True

    def commit(self) -> None:
        if not self.initialized:
            raise RuntimeError("Job.commit() before Job.init()")
        if self.fail_commit:
            raise RuntimeError("injected fault: job run %s died before job.commit() saved the bookmark" % self.job_run_id)
        if self.bookmark_option != BOOKMARK_ENABLE:
            self.committed = True
            return
        state = self.store.load(self.job_name)
        for context, files in self.pending.items():
            entry = state["contexts"].setdefault(context, {"files": {}})
            entry["files"].update(files)
        state["run"] = int(state.get("run", 0)) + 1
        state["last_job_run_id"] = self.job_run_id
        self.store.save(self.job_name, state)
        self.pending.clear()
        self.committed = True

    # ---- GlueContext.create_dynamic_frame.from_catalog --------------------
    def read_catalog(self, spark, database: str, table_name: str, context: str = "",
                     push_down_predicate: str = "", additional_options: Optional[dict] = None):
        table = catalog.get_table(self.glue, database, table_name)
        fmt = catalog.classification(table)
        if fmt != "parquet":
            raise NotImplementedError("table %s.%s is %r; the local Glue adapter reads Parquet only" % (database, table_name, fmt))
        keys = catalog.partition_keys(table)
        # catalogPartitionPredicate: the catalog returns only the matching
        # partitions; push_down_predicate: the job filters what it got.
        server_side = (additional_options or {}).get("catalogPartitionPredicate", "")
        if keys:
            parts = [(p["Values"], p["StorageDescriptor"]["Location"])
                     for p in catalog.get_partitions(self.glue, database, table_name, server_side)]
        else:
            if push_down_predicate or server_side:
                raise ValueError("push_down_predicate on %s.%s, which has no partition keys" % (database, table_name))
            parts = [([], table["StorageDescriptor"]["Location"])]
        listed = len(parts)
        if push_down_predicate:
            parts = select_partitions(spark, keys, parts, push_down_predicate)
        read = CatalogRead(database, table_name, context, partitions=len(parts), partitions_in_catalog=listed)

        use_bookmark = bool(context) and self.initialized and self.bookmark_option in (BOOKMARK_ENABLE, BOOKMARK_PAUSE)
        seen = dict(self._state["contexts"].get(context, {}).get("files", {})) if use_bookmark else {}
        now_seen: Dict[str, float] = {}
        frames = []
        from pyspark.sql import functions as F

        for values, location in parts:
            objs = s3files.list_objects(self.s3, s3files.folder(location))
            read.objects_listed += len(objs)
            new = []
            for o in objs:
                now_seen[o.uri] = o.mtime
                if use_bookmark and seen.get(o.uri) == o.mtime:
                    read.objects_skipped_by_bookmark += 1
                    continue
                new.append(o)
            if not new:
                continue
            read.objects_read += len(new)
            read.bytes_read += sum(o.size for o in new)
            df = spark.read.option("mergeSchema", "true").parquet(*[o.uri for o in new])
            for key, value in zip(keys, values):
                df = df.withColumn(key, F.lit(value).cast("string"))
            frames.append(df)
        if use_bookmark and context:
            self.pending.setdefault(context, {}).update(now_seen)
        if frames:
            result = frames[0]
            for df in frames[1:]:
                result = result.unionByName(df, allowMissingColumns=True)
        else:
            cols = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
            cols += [(k["Name"], k["Type"]) for k in table.get("PartitionKeys") or []]
            result = spark.createDataFrame([], catalog.spark_ddl(cols))
        read.frame = result
        self.reads.append(read)
        log.info("catalog read %s.%s ctx=%r: %d partition(s), %d object(s) listed, %d new, %d skipped by the bookmark",
                 database, table_name, context, read.partitions, read.objects_listed, read.objects_read,
                 read.objects_skipped_by_bookmark)
        return result


def select_partitions(spark, keys: List[str], parts: list, predicate: str) -> list:
    """The partitions whose values satisfy push_down_predicate, a Spark SQL
    expression over the partition columns (all strings, as Glue gives them
    to the predicate)."""
    if not parts:
        return []
    from pyspark.sql import types as T

    schema = T.StructType([T.StructField("__i", T.IntegerType())] + [T.StructField(k, T.StringType()) for k in keys])
    rows = [tuple([i] + [str(v) for v in values]) for i, (values, _) in enumerate(parts)]
    chosen = {r["__i"] for r in spark.createDataFrame(rows, schema).where(predicate).select("__i").collect()}
    return [p for i, p in enumerate(parts) if i in chosen]


_current: Optional[JobRun] = None


def current() -> JobRun:
    if _current is None:
        raise RuntimeError("no Glue job run is active: the awsglue shim works only inside the rehearsal workflow")
    return _current


@contextlib.contextmanager
def activate(run: JobRun) -> Iterator[JobRun]:
    global _current
    if _current is not None:
        raise RuntimeError("a Glue job run is already active")
    _current = run
    try:
        yield run
    finally:
        _current = None
