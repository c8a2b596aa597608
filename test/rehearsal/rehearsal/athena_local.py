"""A local Athena: an HTTP server speaking Athena's JSON protocol
(AmazonAthena.StartQueryExecution / GetQueryExecution / GetQueryResults /
StopQueryExecution, as boto3 sends them; point AWS_ENDPOINT_URL_ATHENA at
it) that runs the query text with Spark SQL over the tables of moto's Glue
catalog.

Before each query the Glue catalog is mirrored into the Spark session:
every table with its declared location and schema and only the partitions
registered in Glue, so, as in Athena, data in folders no crawler has added
is invisible. Spark runs in ANSI mode with double-quoted identifiers, so
"ecommerce-database"."orders" parses and cardinality(NULL) is NULL, as in
Trino. Results are written as CSV to the workgroup's output location in
moto S3, as Athena does. Statistics.DataScannedInBytes is the bytes of the
Parquet files the executed plan scanned (FileSourceScanExec.filesSize);
rows scanned (numOutputRows of the scans) and files are recorded too.
"""
from __future__ import annotations

import csv
import datetime
import decimal
import io
import json
import logging
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from . import local_http
from .glue_local import catalog, s3files

log = logging.getLogger(__name__)

PAGE_MAX = 1000

# Spark settings of the Athena session (a child of the rehearsal's session).
SESSION_CONF = {
    "spark.sql.ansi.enabled": "true",
    "spark.sql.ansi.doubleQuotedIdentifiers": "true",
    # The final plan is the executed plan, so the scan metrics can be read from it.
    "spark.sql.adaptive.enabled": "false",
    # Listings are never cached between queries: Athena lists S3 every time.
    "spark.sql.hive.filesourcePartitionFileCacheSize": "0",
    "spark.sql.session.timeZone": "UTC",
}


class AthenaError(local_http.ServiceError):
    pass


@dataclass
class Query:
    id: str
    sql: str
    database: Optional[str]
    workgroup: str
    output: str
    state: str = "QUEUED"
    reason: Optional[str] = None
    submitted: float = field(default_factory=time.time)
    completed: Optional[float] = None
    engine_ms: int = 0
    catalog_ms: int = 0  # of engine_ms: mirroring the Glue catalog into Spark
    columns: List[Dict[str, Any]] = field(default_factory=list)
    rows: List[List[Optional[str]]] = field(default_factory=list)
    bytes_scanned: int = 0
    rows_scanned: int = 0
    files_scanned: int = 0
    context: Optional[tuple] = None  # (run key, step) the query is attributed to
    done: threading.Event = field(default_factory=threading.Event)


def _athena_type(dt) -> Dict[str, Any]:
    from pyspark.sql import types as T

    # (Spark type, Athena's name, its Precision) of the types without parameters
    plain = ((T.StringType, "varchar", 2147483647), (T.LongType, "bigint", 19), (T.IntegerType, "integer", 10),
             (T.ShortType, "smallint", 0), (T.ByteType, "tinyint", 0), (T.DoubleType, "double", 17),
             (T.FloatType, "float", 0), (T.BooleanType, "boolean", 0), (T.DateType, "date", 0),
             (T.ArrayType, "array", 0), (T.StructType, "row", 0), (T.MapType, "map", 0), (T.BinaryType, "varbinary", 0))
    for spark_type, name, precision in plain:
        if isinstance(dt, spark_type):
            return {"Precision": precision, "Scale": 0, "Type": name}
    if isinstance(dt, T.DecimalType):
        return {"Precision": dt.precision, "Scale": dt.scale, "Type": "decimal"}
    if isinstance(dt, (T.TimestampType, T.TimestampNTZType)):
        return {"Precision": 3, "Scale": 0, "Type": "timestamp"}
    return {"Precision": 0, "Scale": 0, "Type": dt.simpleString()}


def render(value: Any) -> Optional[str]:
    """A value as Athena's GetQueryResults shows it (VarCharValue)."""
    from pyspark.sql import Row

    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, Row):
        return "{" + ", ".join("%s=%s" % (k, _inner(v)) for k, v in value.asDict().items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_inner(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join("%s=%s" % (_inner(k), _inner(v)) for k, v in value.items()) + "}"
    if isinstance(value, (bytes, bytearray)):
        return " ".join("%02x" % b for b in value)
    return str(value)


def _inner(v: Any) -> str:
    r = render(v)
    return "null" if r is None else r


def scan_metrics(df) -> Dict[str, int]:
    """Files, bytes and rows scanned by the executed plan's file scans (py4j)."""
    plan = df._jdf.queryExecution().executedPlan()
    totals = {"files": 0, "bytes": 0, "rows": 0}

    def metric(node, name):
        opt = node.metrics().get(name)
        return int(opt.get().value()) if opt.isDefined() else 0

    stack = [plan]
    while stack:
        node = stack.pop()
        if node.getClass().getSimpleName() == "FileSourceScanExec":
            totals["files"] += metric(node, "numFiles")
            totals["bytes"] += metric(node, "filesSize")
            totals["rows"] += metric(node, "numOutputRows")
        children = node.children()
        stack.extend(children.apply(i) for i in range(children.size()))
    return totals


class AthenaLocal(local_http.JsonService):
    """The server. `session` is a Spark session (a child session is made
    with SESSION_CONF); `glue`/`s3` are boto3 clients on moto; `workgroups`
    maps a workgroup name to {"OutputLocation": uri, "Enforce": bool}."""

    name = "athena-local"
    title = "the local Athena"
    target_prefix = "AmazonAthena."
    error = AthenaError

    def __init__(self, session, glue, s3, workgroups: Dict[str, Dict[str, Any]],
                 on_query: Optional[Callable[[Query], None]] = None):
        super().__init__()
        self.session = session.newSession()
        for k, v in SESSION_CONF.items():
            self.session.conf.set(k, v)
        self.glue, self.s3 = glue, s3
        self.workgroups = dict(workgroups)
        self.on_query = on_query
        self.mirror = catalog.SparkCatalogMirror(self.session)
        self.queries: Dict[str, Query] = {}
        self.context: Optional[tuple] = None
        self._lock = threading.Lock()

    def warm_up(self) -> float:
        """Mirrors the catalog once and runs a small aggregate, so the JVM's first
        catalog and query compilation (seconds) is paid at start, not by the first
        audit job. Returns the seconds it took."""
        started = time.monotonic()
        self.mirror.sync(self.glue)
        self.session.sql("SELECT k, SUM(CARDINALITY(v)) FROM VALUES ('a', ARRAY(1, 2)) AS t(k, v) GROUP BY k").collect()
        return time.monotonic() - started

    # ---- operations -----------------------------------------------------------
    def operations(self):
        return {
            "StartQueryExecution": self.start_query_execution,
            "GetQueryExecution": self.get_query_execution,
            "GetQueryResults": self.get_query_results,
            "StopQueryExecution": self.stop_query_execution,
            "GetWorkGroup": self.get_work_group,
        }

    def start_query_execution(self, body):
        sql = body.get("QueryString")
        if not sql:
            raise AthenaError("InvalidRequestException", "QueryString is required")
        wg_name = body.get("WorkGroup") or "primary"
        wg = self.workgroups.get(wg_name)
        if wg is None:
            raise AthenaError("InvalidRequestException", "WorkGroup %s is not found." % wg_name)
        output = wg.get("OutputLocation")
        if not wg.get("Enforce") and (body.get("ResultConfiguration") or {}).get("OutputLocation"):
            output = body["ResultConfiguration"]["OutputLocation"]
        if not output:
            raise AthenaError("InvalidRequestException",
                              "No output location provided. An output location is required either through the "
                              "Workgroup result configuration setting or as an API input.")
        q = Query(id=str(uuid.uuid4()), sql=sql, database=(body.get("QueryExecutionContext") or {}).get("Database"),
                  workgroup=wg_name, output=s3files.folder(output), context=self.context)
        with self._lock:
            self.queries[q.id] = q
        self._pool.submit(self._execute, q)
        return {"QueryExecutionId": q.id}

    def _query(self, body) -> Query:
        qid = body.get("QueryExecutionId")
        q = self.queries.get(qid)
        if q is None:
            raise AthenaError("InvalidRequestException", "QueryExecution %s was not found" % qid)
        return q

    def get_query_execution(self, body):
        q = self._query(body)
        status: Dict[str, Any] = {"State": q.state, "SubmissionDateTime": q.submitted}
        if q.completed:
            status["CompletionDateTime"] = q.completed
        if q.reason:
            status["StateChangeReason"] = q.reason
            status["AthenaError"] = {"ErrorCategory": 2, "ErrorType": 1006, "Retryable": False, "ErrorMessage": q.reason}
        return {"QueryExecution": {
            "QueryExecutionId": q.id, "Query": q.sql, "StatementType": "DML",
            "ResultConfiguration": {"OutputLocation": q.output + q.id + ".csv"},
            "QueryExecutionContext": {"Database": q.database} if q.database else {},
            "Status": status,
            "Statistics": {"EngineExecutionTimeInMillis": q.engine_ms, "DataScannedInBytes": q.bytes_scanned,
                           "TotalExecutionTimeInMillis": int(((q.completed or time.time()) - q.submitted) * 1000)},
            "WorkGroup": q.workgroup,
            "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3",
                              "EffectiveEngineVersion": "Athena engine version 3"},
        }}

    def get_query_results(self, body):
        q = self._query(body)
        if q.state != "SUCCEEDED":
            raise AthenaError("InvalidRequestException", "Query has not yet finished. Current state: %s" % q.state)
        start = int(body.get("NextToken") or 0)
        size = min(int(body.get("MaxResults") or PAGE_MAX), PAGE_MAX)
        header = [{"Data": [{"VarCharValue": c["Name"]} for c in q.columns]}]
        rows = header + [{"Data": [({"VarCharValue": v} if v is not None else {}) for v in r]} for r in q.rows]
        page = rows[start:start + size]
        out: Dict[str, Any] = {"UpdateCount": 0, "ResultSet": {"Rows": page, "ResultSetMetadata": {"ColumnInfo": q.columns}}}
        if start + size < len(rows):
            out["NextToken"] = str(start + size)
        return out

    def stop_query_execution(self, body):
        q = self._query(body)
        if q.state in ("QUEUED", "RUNNING"):
            q.state, q.completed = "CANCELLED", time.time()
        return {}

    def get_work_group(self, body):
        name = body.get("WorkGroup")
        wg = self.workgroups.get(name)
        if wg is None:
            raise AthenaError("InvalidRequestException", "WorkGroup %s is not found." % name)
        return {"WorkGroup": {"Name": name, "State": "ENABLED", "Configuration": {
            "ResultConfiguration": {"OutputLocation": wg.get("OutputLocation")},
            "EnforceWorkGroupConfiguration": bool(wg.get("Enforce"))}}}

    # ---- execution ------------------------------------------------------------
    def _execute(self, q: Query) -> None:
        if q.state == "CANCELLED":
            q.done.set()
            return
        q.state = "RUNNING"
        started = time.monotonic()
        try:
            self.mirror.sync(self.glue)
            q.catalog_ms = int((time.monotonic() - started) * 1000)
            if q.database:
                self.session.catalog.setCurrentDatabase("`%s`" % q.database.replace("`", "``"))
            df = self.session.sql(q.sql)
            rows = df.collect()
            metrics = scan_metrics(df)
            q.columns = [dict(Name=f.name, Label=f.name, CatalogName="hive", SchemaName="", TableName="",
                              Nullable="UNKNOWN", **_athena_type(f.dataType)) for f in df.schema.fields]
            for c in q.columns:
                c["CaseSensitive"] = c["Type"] == "varchar"
            q.rows = [[render(v) for v in r] for r in rows]
            q.bytes_scanned, q.rows_scanned, q.files_scanned = metrics["bytes"], metrics["rows"], metrics["files"]
            self._write_results(q)
            q.state = "SUCCEEDED"
        except Exception as err:  # noqa: BLE001 - the error text is the query's StateChangeReason
            # The reason first: a poll between the two must never see FAILED without it.
            q.reason = _reason(err)
            q.state = "FAILED"
            log.info("Athena query %s failed: %s\n%s", q.id, q.reason, traceback.format_exc())
        finally:
            q.engine_ms = int((time.monotonic() - started) * 1000)
            q.completed = time.time()
            if self.on_query is not None:
                try:
                    self.on_query(q)
                except Exception:  # noqa: BLE001 - bookkeeping must not change the query's outcome
                    log.exception("recording Athena query %s", q.id)
            q.done.set()

    def _write_results(self, q: Query) -> None:
        buf = io.StringIO()
        w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
        w.writerow([c["Name"] for c in q.columns])
        for r in q.rows:
            w.writerow(["" if v is None else v for v in r])
        bucket, key = s3files.split_uri(q.output + q.id + ".csv")
        self.s3.put_object(Bucket=bucket, Key=key, Body=buf.getvalue().encode("utf-8"))
        self.s3.put_object(Bucket=bucket, Key=key + ".metadata", Body=json.dumps({"ColumnInfo": q.columns}).encode())


def _reason(err: Exception) -> str:
    text = str(err)
    # py4j/Spark errors carry a JVM stack trace after the message.
    first = text.strip().split("\n\tat ")[0].strip()
    return first[:4000] or type(err).__name__

