"""Runs SQL on Redshift through the Redshift Data API (no driver, no VPC).

Jobs talk to an Executor: ``run`` applies statements in one transaction,
``query`` returns rows. DataApiExecutor is the Redshift one; the tests run
the same SQL through a PostgreSQL executor with the same two methods.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

log = logging.getLogger(__name__)

_FAILED = ("FAILED", "ABORTED")


class RedshiftStatementError(RuntimeError):
    """A statement FAILED or was ABORTED; the message carries Redshift's error text."""


class Executor:
    """What the jobs need from a warehouse connection."""

    def run(self, statements: Sequence[str]) -> None:
        """Runs the statements in order as one transaction: all or nothing."""
        raise NotImplementedError

    def query(self, sql: str) -> List[Tuple[Any, ...]]:
        """Runs one SELECT and returns its rows."""
        raise NotImplementedError


class DataApiExecutor(Executor):
    def __init__(self, client, database: str, secret_arn: Optional[str], workgroup_name: Optional[str] = None,
                 cluster_identifier: Optional[str] = None, poll_seconds: float = 1.0,
                 timeout_seconds: float = 3600.0, sleep: Callable[[float], None] = time.sleep):
        if bool(workgroup_name) == bool(cluster_identifier):
            raise ValueError("give exactly one of workgroup_name or cluster_identifier")
        self._client = client
        self._target: Dict[str, str] = {"Database": database}
        if secret_arn:
            self._target["SecretArn"] = secret_arn
        if workgroup_name:
            self._target["WorkgroupName"] = workgroup_name
        else:
            self._target["ClusterIdentifier"] = cluster_identifier  # type: ignore[assignment]
        self._poll = poll_seconds
        self._timeout = timeout_seconds
        self._sleep = sleep

    @classmethod
    def from_args(cls, client, args: Dict[str, str], **kwargs) -> "DataApiExecutor":
        """Builds the executor from the warehouse job arguments (job_args.warehouse)."""
        return cls(client, args["redshift_database"], args.get("secret_arn") or None,
                   workgroup_name=args.get("workgroup_name") or None,
                   cluster_identifier=args.get("cluster_identifier") or None, **kwargs)

    def run(self, statements: Sequence[str]) -> None:
        statements = [s for s in statements if s.strip()]
        if not statements:
            return
        if len(statements) == 1:
            statement_id = self._client.execute_statement(Sql=statements[0], **self._target)["Id"]
        else:
            # A batch is one transaction in one session (temporary tables live through it).
            statement_id = self._client.batch_execute_statement(Sqls=list(statements), **self._target)["Id"]
        self.wait(statement_id, statements)

    def query(self, sql: str) -> List[Tuple[Any, ...]]:
        statement_id = self._client.execute_statement(Sql=sql, **self._target)["Id"]
        described = self.wait(statement_id, [sql])
        if not described.get("HasResultSet"):
            return []
        rows: List[Tuple[Any, ...]] = []
        token = None
        while True:
            kwargs = {"Id": statement_id}
            if token:
                kwargs["NextToken"] = token
            page = self._client.get_statement_result(**kwargs)
            rows.extend(tuple(field_value(f) for f in record) for record in page.get("Records", []))
            token = page.get("NextToken")
            if not token:
                return rows

    def wait(self, statement_id: str, statements: Sequence[str]) -> Dict[str, Any]:
        """Polls DescribeStatement until FINISHED; raises with Redshift's error otherwise."""
        waited = 0.0
        while True:
            described = self._client.describe_statement(Id=statement_id)
            status = described["Status"]
            if status == "FINISHED":
                return described
            if status in _FAILED:
                raise RedshiftStatementError(failure_message(statement_id, described, statements))
            if waited >= self._timeout:
                raise RedshiftStatementError("statement %s still %s after %.0f s" % (statement_id, status, waited))
            self._sleep(self._poll)
            waited += self._poll


def failure_message(statement_id: str, described: Dict[str, Any], statements: Sequence[str]) -> str:
    """Redshift's error text, naming the failing statement of a batch when it can."""
    message = "Redshift statement %s %s: %s" % (statement_id, described["Status"], described.get("Error", "no error text"))
    for index, sub in enumerate(described.get("SubStatements") or []):
        if sub.get("Status") in _FAILED:
            sql = statements[index] if index < len(statements) else sub.get("QueryString", "")
            message += "\n  failing statement %d of %d: %s" % (index + 1, len(statements), " ".join(sql.split())[:300])
            if sub.get("Error"):
                message += "\n  error: %s" % sub["Error"]
            break
    return message


def field_value(field: Dict[str, Any]) -> Any:
    """One Data API result cell as a Python value."""
    if field.get("isNull"):
        return None
    for key in ("stringValue", "longValue", "doubleValue", "booleanValue", "blobValue"):
        if key in field:
            return field[key]
    raise ValueError("unknown Data API field %r" % field)
