"""Counts records per run id in the S3 layers with Athena.

Landing holds one row per order with a ``products`` array, staging one row
per product; counting landing as sum(cardinality(products)) makes both
layers count products, so the scanner can compare them (seed note 4).
"""
from __future__ import annotations

import logging
import re
import time
from typing import Callable, Dict, Iterable, List, Optional

import audit_table

log = logging.getLogger(__name__)

# What one record is in each S3 layer.
COUNT_EXPRESSIONS = {
    audit_table.S3_LANDING: 'SUM(CARDINALITY("products"))',
    audit_table.S3_STAGING: "COUNT(*)",
}

_IDENTIFIER = re.compile(r"^[A-Za-z0-9_\-]{1,255}$")
_DONE = ("SUCCEEDED", "FAILED", "CANCELLED")


class AthenaQueryError(RuntimeError):
    """An Athena query did not succeed; the message carries Athena's reason."""


def quote_identifier(name: str) -> str:
    """Double-quotes a catalog name (the seed's database has a '-')."""
    if not _IDENTIFIER.match(name):
        raise ValueError("not a Glue catalog name: %r" % name)
    return '"%s"' % name


def count_query(layer: str, database: str, table: str) -> str:
    """The per-run-id count query of an S3 layer."""
    if layer not in COUNT_EXPRESSIONS:
        raise ValueError("Athena counts only the S3 layers %s, not %r" % (", ".join(COUNT_EXPRESSIONS), layer))
    return (
        "SELECT run_id, %s AS num_records FROM %s.%s WHERE run_id IS NOT NULL GROUP BY run_id"
        % (COUNT_EXPRESSIONS[layer], quote_identifier(database), quote_identifier(table))
    )


def start_query(client, sql: str, database: str, workgroup: str) -> str:
    # No ResultConfiguration: the workgroup enforces its encrypted output location.
    response = client.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": database},
        WorkGroup=workgroup,
    )
    return response["QueryExecutionId"]


def wait_for_query(client, query_id: str, poll_seconds: float = 2.0, timeout_seconds: float = 1800.0,
                   sleep: Callable[[float], None] = time.sleep) -> None:
    """Polls until the query ends; raises with Athena's reason unless it SUCCEEDED."""
    waited = 0.0
    while True:
        status = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        state = status["State"]
        if state == "SUCCEEDED":
            return
        if state in _DONE:
            raise AthenaQueryError("Athena query %s %s: %s" % (query_id, state, status.get("StateChangeReason", "no reason given")))
        if waited >= timeout_seconds:
            raise AthenaQueryError("Athena query %s still %s after %.0f s" % (query_id, state, waited))
        sleep(poll_seconds)
        waited += poll_seconds


def _cell(datum: dict) -> Optional[str]:
    return datum.get("VarCharValue")


def parse_counts(pages: Iterable[dict]) -> Dict[str, int]:
    """Turns GetQueryResults pages of (run_id, num_records) into {run_id: count}.

    The first row of the first page is the header. A NULL sum (every order of
    the run had a NULL products array) counts as 0 products.
    """
    counts: Dict[str, int] = {}
    header_seen = False
    for page in pages:
        for row in page["ResultSet"]["Rows"]:
            cells: List[Optional[str]] = [_cell(d) for d in row["Data"]]
            if not header_seen:
                header_seen = True
                if cells[:2] == ["run_id", "num_records"]:
                    continue
                raise AthenaQueryError("unexpected result header %r" % cells)
            if len(cells) != 2 or cells[0] is None:
                raise AthenaQueryError("unexpected result row %r" % cells)
            counts[cells[0]] = int(cells[1]) if cells[1] is not None else 0
    return counts


def result_pages(client, query_id: str) -> Iterable[dict]:
    token = None
    while True:
        kwargs = {"QueryExecutionId": query_id, "MaxResults": 1000}
        if token:
            kwargs["NextToken"] = token
        page = client.get_query_results(**kwargs)
        yield page
        token = page.get("NextToken")
        if not token:
            return


def counts_per_run(client, layer: str, database: str, table: str, workgroup: str,
                   poll_seconds: float = 2.0, sleep: Callable[[float], None] = time.sleep) -> Dict[str, int]:
    """Runs the layer's count query in the workgroup and returns {run_id: records}."""
    sql = count_query(layer, database, table)
    query_id = start_query(client, sql, database, workgroup)
    log.info("Athena query %s: %s", query_id, sql)
    wait_for_query(client, query_id, poll_seconds=poll_seconds, sleep=sleep)
    return parse_counts(result_pages(client, query_id))
