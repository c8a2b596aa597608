"""A local Redshift Data API: an HTTP server speaking its JSON protocol
(RedshiftData.ExecuteStatement / BatchExecuteStatement / DescribeStatement /
GetStatementResult / ListStatements / CancelStatement; point
AWS_ENDPOINT_URL_REDSHIFT_DATA at it) that runs the SQL on PostgreSQL.

- Every call runs in its own session (a new connection), as the Data API
  does; a batch runs as one transaction, so a failing statement rolls back
  the whole batch and its temporary tables live only through it.
- The database is a PostgreSQL database of the same name (created on
  start), reached with psycopg2.
- The one Redshift-only statement the pipeline sends, COPY <table> FROM
  's3://prefix' IAM_ROLE '<arn>' FORMAT AS PARQUET, is the only statement
  replaced: the stand-in lists every object under the prefix in moto S3,
  reads each as Parquet (pyarrow) and inserts its rows into the table in
  the same transaction, by column position as Redshift COPY maps Parquet
  columns. The role must be one the namespace has (from the template); a
  string longer than its VARCHAR(n) in bytes fails the load, as in Redshift
  (PostgreSQL counts characters).
- Work per statement (rows scanned, inserted, updated, deleted) comes from
  pg_stat_xact_user_tables before and after the statement, inside its
  transaction.
"""
from __future__ import annotations

import base64
import datetime
import decimal
import io
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

from . import local_http
from .env import glue_script_tests_on_path
from .glue_local import s3files

glue_script_tests_on_path()
from pg_dialect import to_postgres  # noqa: E402 - the tests' one Redshift-to-PostgreSQL rule

log = logging.getLogger(__name__)

PAGE_MAX = 1000

COPY_PARQUET = re.compile(
    r"^\s*COPY\s+(?P<table>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s+FROM\s+'(?P<source>[^']*)'"
    r"\s+IAM_ROLE\s+'(?P<role>[^']*)'\s+FORMAT\s+AS\s+PARQUET\s*;?\s*$", re.I | re.S)
IS_COPY = re.compile(r"^\s*COPY\b", re.I)

_PG_TYPES = {16: "bool", 18: "char", 19: "name", 20: "int8", 21: "int2", 23: "int4", 25: "text", 700: "float4",
             701: "float8", 1042: "bpchar", 1043: "varchar", 1082: "date", 1083: "time", 1114: "timestamp",
             1184: "timestamptz", 1700: "numeric"}

_STATS_SQL = ("SELECT relid, schemaname, relname, seq_tup_read, COALESCE(idx_tup_fetch, 0), n_tup_ins, n_tup_upd, n_tup_del "
              "FROM pg_stat_xact_user_tables")


class DataApiError(local_http.ServiceError):
    pass


class StatementFailed(Exception):
    """A statement's error, in Redshift's text form ('ERROR: ...')."""


@dataclass
class Sub:
    id: str
    sql: str
    status: str = "SUBMITTED"
    error: Optional[str] = None
    has_result: bool = False
    columns: List[Dict[str, Any]] = field(default_factory=list)
    rows: List[List[Dict[str, Any]]] = field(default_factory=list)
    result_rows: int = -1
    started: Optional[float] = None
    ended: Optional[float] = None
    # rows_scanned, rows_inserted, rows_updated, rows_deleted, copy_files, copy_rows, copy_bytes, and per table
    work: Dict[str, int] = field(default_factory=dict)
    tables: Dict[str, Dict[str, int]] = field(default_factory=dict)

    @property
    def duration_ns(self) -> int:
        if self.started is None:
            return -1
        return int(((self.ended or time.time()) - self.started) * 1e9)


@dataclass
class Statement:
    id: str
    subs: List[Sub]
    is_batch: bool
    request: Dict[str, Any]
    status: str = "SUBMITTED"
    error: Optional[str] = None
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    pid: int = 0
    context: Optional[tuple] = None
    done: threading.Event = field(default_factory=threading.Event)

    def work(self) -> Dict[str, int]:
        total: Dict[str, int] = {}
        for s in self.subs:
            for k, v in s.work.items():
                total[k] = total.get(k, 0) + v
        return total


def field_of(value: Any) -> Dict[str, Any]:
    """A Python value as a Data API result field."""
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"blobValue": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime.datetime):
        return {"stringValue": value.isoformat(sep=" ")}
    if isinstance(value, (datetime.date, datetime.time, decimal.Decimal)):
        return {"stringValue": str(value)}
    return {"stringValue": str(value)}


def _pg_error(err) -> str:
    diag = getattr(err, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    return "ERROR: " + (primary or str(err).strip().split("\n")[0])


class DataApiLocal(local_http.JsonService):
    """`pg_dsn` reaches the PostgreSQL server (any database); `s3` is a boto3
    client on moto (for COPY); `workgroups`/`clusters` and `databases` are
    the targets the templates declare, `secrets` the secret ARNs the
    warehouse accepts, `copy_roles` the IAM roles its namespace may assume."""

    name = "dataapi-local"
    title = "the local Data API"
    target_prefix = "RedshiftData."
    error = DataApiError

    def __init__(self, pg_dsn: str, s3, workgroups: Sequence[str] = (), clusters: Sequence[str] = (),
                 databases: Sequence[str] = ("dev",), secrets: Sequence[str] = (), copy_roles: Sequence[str] = (),
                 on_statement: Optional[Callable[[Statement], None]] = None):
        super().__init__()
        self.pg_dsn = pg_dsn
        self.s3 = s3
        self.workgroups, self.clusters = set(workgroups), set(clusters)
        self.databases = set(databases)
        self.secrets, self.copy_roles = set(secrets), set(copy_roles)
        self.on_statement = on_statement
        self.statements: Dict[str, Statement] = {}
        self.context: Optional[tuple] = None

    # ---- databases ----------------------------------------------------------
    def dsn(self, database: str) -> str:
        """The psycopg2 DSN of a warehouse database (pg_dsn with dbname replaced)."""
        parts = [p for p in self.pg_dsn.split() if not p.startswith("dbname=")]
        return " ".join(parts + ["dbname=%s" % database])

    def create_databases(self) -> None:
        import psycopg2

        conn = psycopg2.connect(self.pg_dsn)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                for name in sorted(self.databases):
                    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                    if not cur.fetchone():
                        cur.execute('CREATE DATABASE "%s"' % name.replace('"', '""'))
        finally:
            conn.close()

    # ---- server ---------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self.create_databases()
        return super().start(host, port)

    # ---- operations -------------------------------------------------------------
    def operations(self):
        return {
            "ExecuteStatement": self.execute_statement,
            "BatchExecuteStatement": self.batch_execute_statement,
            "DescribeStatement": self.describe_statement,
            "GetStatementResult": self.get_statement_result,
            "ListStatements": self.list_statements,
            "CancelStatement": self.cancel_statement,
        }

    def _check_target(self, body) -> None:
        wg, cluster = body.get("WorkgroupName"), body.get("ClusterIdentifier")
        if bool(wg) == bool(cluster):
            raise DataApiError("ValidationException", "Either WorkgroupName or ClusterIdentifier must be provided, not both.")
        if wg and wg not in self.workgroups:
            raise DataApiError("ValidationException", "Redshift endpoint doesn't exist in this region.")
        if cluster and cluster not in self.clusters:
            raise DataApiError("ValidationException", "Cluster doesn't exist in this region.")
        if not body.get("Database"):
            raise DataApiError("ValidationException", "Database is required.")
        secret = body.get("SecretArn")
        if secret and self.secrets and secret not in self.secrets:
            raise DataApiError("ValidationException", "Secrets Manager secret %s was not found or is not accessible." % secret)
        if cluster and not secret and not body.get("DbUser"):
            raise DataApiError("ValidationException", "Either SecretArn or DbUser must be provided for a cluster.")
        if body.get("Parameters"):
            raise DataApiError("ValidationException", "Parameters are not supported by the local Data API.")

    def _submit(self, body, sqls: List[str], is_batch: bool) -> Dict[str, Any]:
        self._check_target(body)
        sid = str(uuid.uuid4())
        subs = [Sub(id="%s:%d" % (sid, i + 1) if is_batch else sid, sql=s) for i, s in enumerate(sqls)]
        stmt = Statement(id=sid, subs=subs, is_batch=is_batch, request=dict(body), context=self.context)
        self.statements[sid] = stmt
        self._pool.submit(self._run, stmt)
        out = {"Id": sid, "CreatedAt": stmt.created, "Database": body["Database"]}
        for k in ("WorkgroupName", "ClusterIdentifier", "SecretArn", "DbUser"):
            if body.get(k):
                out[k] = body[k]
        return out

    def execute_statement(self, body):
        if not body.get("Sql"):
            raise DataApiError("ValidationException", "Sql is required.")
        return self._submit(body, [body["Sql"]], False)

    def batch_execute_statement(self, body):
        sqls = body.get("Sqls") or []
        if not sqls or len(sqls) > 40:
            raise DataApiError("ValidationException", "Sqls must hold 1 to 40 statements.")
        return self._submit(body, list(sqls), True)

    def _find(self, sid: str):
        parent_id, _, index = (sid or "").partition(":")
        stmt = self.statements.get(parent_id)
        if stmt is None:
            raise DataApiError("ResourceNotFoundException", "Query does not exist.")
        if index:
            i = int(index) - 1
            if not stmt.is_batch or not 0 <= i < len(stmt.subs):
                raise DataApiError("ResourceNotFoundException", "Query does not exist.")
            return stmt, stmt.subs[i]
        return stmt, None

    def describe_statement(self, body):
        stmt, sub = self._find(body.get("Id"))
        if sub is not None:
            return self._describe_sub(stmt, sub)
        req = stmt.request
        out: Dict[str, Any] = {
            "Id": stmt.id, "Status": stmt.status, "CreatedAt": stmt.created, "UpdatedAt": stmt.updated,
            "Database": req.get("Database"), "RedshiftPid": stmt.pid, "RedshiftQueryId": 0,
            "HasResultSet": any(s.has_result for s in stmt.subs),
            "Duration": sum(max(s.duration_ns, 0) for s in stmt.subs) if stmt.status == "FINISHED" else -1,
            "ResultRows": sum(max(s.result_rows, 0) for s in stmt.subs) if not stmt.is_batch else -1,
            "ResultSize": -1,
        }
        if not stmt.is_batch:
            out["QueryString"] = stmt.subs[0].sql
            out["ResultRows"] = stmt.subs[0].result_rows
        for k in ("WorkgroupName", "ClusterIdentifier", "SecretArn", "DbUser"):
            if req.get(k):
                out[k] = req[k]
        if stmt.error:
            out["Error"] = stmt.error
        if stmt.is_batch:
            out["SubStatements"] = [self._describe_sub(stmt, s) for s in stmt.subs]
        return out

    @staticmethod
    def _describe_sub(stmt: Statement, s: Sub) -> Dict[str, Any]:
        out = {"Id": s.id, "Status": s.status, "QueryString": s.sql, "HasResultSet": s.has_result,
               "ResultRows": s.result_rows, "ResultSize": -1, "Duration": s.duration_ns,
               "CreatedAt": stmt.created, "UpdatedAt": s.ended or stmt.updated, "RedshiftQueryId": 0}
        if s.error:
            out["Error"] = s.error
        return out

    def get_statement_result(self, body):
        stmt, sub = self._find(body.get("Id"))
        if sub is None:
            if stmt.is_batch:
                raise DataApiError("ValidationException", "Query id of a batch: use the id of a sub-statement (<id>:<n>).")
            sub = stmt.subs[0]
        if sub.status != "FINISHED":
            raise DataApiError("ResourceNotFoundException", "Query does not have result. Please check query status with DescribeStatement.")
        if not sub.has_result:
            raise DataApiError("ResourceNotFoundException", "Query does not have result.")
        start = int(body.get("NextToken") or 0)
        page = sub.rows[start:start + PAGE_MAX]
        out: Dict[str, Any] = {"Records": page, "ColumnMetadata": sub.columns, "TotalNumRows": len(sub.rows)}
        if start + PAGE_MAX < len(sub.rows):
            out["NextToken"] = str(start + PAGE_MAX)
        return out

    def list_statements(self, body):
        status = body.get("Status", "ALL")
        items = sorted(self.statements.values(), key=lambda s: s.created, reverse=True)
        out = []
        for s in items:
            if status != "ALL" and s.status != status:
                continue
            entry = {"Id": s.id, "Status": s.status, "CreatedAt": s.created, "UpdatedAt": s.updated,
                     "IsBatchStatement": s.is_batch}
            if s.is_batch:
                entry["QueryStrings"] = [x.sql for x in s.subs]
            else:
                entry["QueryString"] = s.subs[0].sql
            out.append(entry)
        return {"Statements": out[:int(body.get("MaxResults") or 100)]}

    def cancel_statement(self, body):
        self._find(body.get("Id"))
        # Statements run to completion here; like a statement that already ended, nothing is cancelled.
        return {"Status": False}

    # ---- execution --------------------------------------------------------------
    def _run(self, stmt: Statement) -> None:
        import psycopg2

        stmt.status = "PICKED"
        conn = None
        try:
            stmt.status = "STARTED"
            conn = psycopg2.connect(self.dsn(stmt.request["Database"]))
            conn.autocommit = False
            stmt.pid = conn.get_backend_pid()
            with conn.cursor() as cur:
                # Redshift reads only the blocks of the sort-key values a query
                # selects (zone maps); without this, PostgreSQL's planner scans
                # small tables whole and the rows scanned would follow history.
                cur.execute("SET enable_seqscan = off")
                failed = None
                for i, sub in enumerate(stmt.subs):
                    sub.status, sub.started = "STARTED", time.time()
                    try:
                        before = self._stats(cur)
                        if IS_COPY.match(sub.sql):
                            self._copy(cur, sub)
                        else:
                            for sql in to_postgres(sub.sql):
                                cur.execute(sql)
                            sub.result_rows = cur.rowcount
                            if cur.description is not None:
                                sub.has_result = True
                                sub.columns = [self._column(d) for d in cur.description]
                                rows = cur.fetchall()
                                sub.rows = [[field_of(v) for v in r] for r in rows]
                                sub.result_rows = len(rows)
                        self._work(sub, before, self._stats(cur))
                        sub.status = "FINISHED"
                    except (psycopg2.Error, StatementFailed) as err:
                        # The error first: a poll must never see FAILED without it.
                        sub.error = _pg_error(err) if isinstance(err, psycopg2.Error) else str(err)
                        sub.status = "FAILED"
                        failed = sub
                    finally:
                        sub.ended = time.time()
                    if failed is not None:
                        for later in stmt.subs[i + 1:]:
                            later.status = "ABORTED"
                        break
            if failed is None:
                conn.commit()
                stmt.status = "FINISHED"
            else:
                conn.rollback()
                stmt.error, stmt.status = failed.error, "FAILED"
        except Exception as err:  # noqa: BLE001 - a connection failure fails the statement, visibly
            stmt.error, stmt.status = "ERROR: %s" % (_pg_error(err) if hasattr(err, "diag") else err), "FAILED"
            log.exception("local Data API statement %s", stmt.id)
        finally:
            if conn is not None:
                conn.close()
            stmt.updated = time.time()
            if self.on_statement is not None:
                try:
                    self.on_statement(stmt)
                except Exception:  # noqa: BLE001 - bookkeeping must not change the outcome
                    log.exception("recording Data API statement %s", stmt.id)
            stmt.done.set()

    @staticmethod
    def _column(desc) -> Dict[str, Any]:
        type_name = _PG_TYPES.get(desc.type_code, str(desc.type_code))
        return {"name": desc.name, "label": desc.name, "typeName": type_name, "nullable": 1,
                "isCaseSensitive": type_name in ("varchar", "text", "bpchar"), "isCurrency": False,
                "isSigned": type_name in ("int2", "int4", "int8", "numeric", "float4", "float8"),
                "length": 0, "precision": desc.precision or 0, "scale": desc.scale or 0,
                "schemaName": "", "tableName": ""}

    @staticmethod
    def _stats(cur) -> Dict[int, tuple]:
        cur.execute(_STATS_SQL)
        return {r[0]: r[1:] for r in cur.fetchall()}

    @staticmethod
    def _work(sub: Sub, before: Dict[int, tuple], after: Dict[int, tuple]) -> None:
        totals = {"rows_scanned": 0, "rows_inserted": 0, "rows_updated": 0, "rows_deleted": 0}
        for relid, now in after.items():
            was = before.get(relid, (now[0], now[1], 0, 0, 0, 0, 0))
            d = [int(a) - int(b) for a, b in zip(now[2:], was[2:])]
            if not any(d):
                continue
            name = "%s.%s" % (now[0], now[1]) if not now[0].startswith("pg_temp") else "pg_temp.%s" % now[1]
            sub.tables[name] = {"rows_scanned": d[0] + d[1], "rows_inserted": d[2], "rows_updated": d[3], "rows_deleted": d[4]}
            for k, v in sub.tables[name].items():
                totals[k] += v
        for k, v in totals.items():
            sub.work[k] = sub.work.get(k, 0) + v

    # ---- COPY from Parquet ----------------------------------------------------
    def _copy(self, cur, sub: Sub) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq
        from psycopg2.extras import execute_values

        m = COPY_PARQUET.match(sub.sql)
        if m is None:
            raise StatementFailed("ERROR: the local Data API runs only COPY <table> FROM 's3://...' IAM_ROLE '<arn>' "
                                  "FORMAT AS PARQUET (got: %s)" % " ".join(sub.sql.split())[:200])
        table, source, role = m.group("table"), m.group("source"), m.group("role")
        if self.copy_roles and role.lower() != "default" and role not in self.copy_roles:
            raise StatementFailed("ERROR: User is not authorized to assume IAM Role %s" % role)
        bucket, prefix = s3files.split_uri(source)
        objs = [o for o in s3files.list_objects(self.s3, source, skip_hidden=False) if not o.key.endswith("/")]
        if not objs:
            raise StatementFailed("ERROR: The specified S3 prefix '%s' does not exist" % prefix)
        cur.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass "
                    "AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (table,))
        described = cur.fetchall()
        columns = [r[0] for r in described]
        # Redshift's VARCHAR(n)/CHAR(n) hold n bytes (UTF-8), PostgreSQL's n characters.
        byte_limits = {}
        for i, (_, type_text) in enumerate(described):
            m = re.match(r"^(?:character varying|character)\((\d+)\)$", type_text)
            if m:
                byte_limits[i] = int(m.group(1))
        insert = "INSERT INTO %s (%s) VALUES %%s" % (table, ", ".join('"%s"' % c for c in columns))
        files = rows = size = 0
        for o in objs:
            body = self.s3.get_object(Bucket=o.bucket, Key=o.key)["Body"].read()
            try:
                data = pq.read_table(io.BytesIO(body))
            except Exception as err:  # noqa: BLE001 - Redshift fails the COPY on an unreadable file
                raise StatementFailed("ERROR: COPY: %s is not a readable Parquet file: %s" % (o.uri, err)) from err
            if data.num_columns != len(columns):
                raise StatementFailed("ERROR: COPY: %s has %d columns, %s has %d (Parquet columns map to table columns "
                                      "by position)" % (o.uri, data.num_columns, table, len(columns)))
            cols = []
            for col in data.columns:
                if pa.types.is_timestamp(col.type) and col.type.unit == "ns":
                    col = col.cast(pa.timestamp("us", col.type.tz))
                cols.append(col.to_pylist())
            for i, limit in byte_limits.items():
                for value in cols[i]:
                    if isinstance(value, str) and len(value.encode("utf-8")) > limit:
                        raise StatementFailed(
                            "ERROR: Load into table '%s' failed. Check 'stl_load_errors' system table for details. "
                            "(String length exceeds DDL length: column %s holds %d bytes, VARCHAR(%d), in %s)"
                            % (table, columns[i], len(value.encode("utf-8")), limit, o.uri))
            values = list(zip(*cols))
            if values:
                execute_values(cur, insert, values, page_size=1000)
            files += 1
            rows += len(values)
            size += len(body)
        sub.result_rows = rows
        sub.work.update(copy_files=files, copy_rows=rows, copy_bytes=size)

