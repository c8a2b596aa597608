"""Counts records per run id in the S3 layers with Athena.

Landing holds one row per order with a ``products`` array, staging one row
per product; counting landing as sum(cardinality(products)) makes both
layers count products, so the scanner can compare them (seed note 4).
"""
from __future__ import annotations

import logging
import re
import time
from typing import Callable, Dict, Iterable, List, Optional, Sequence

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


_RUN_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def _literal(run_id: str) -> str:
    if not _RUN_ID.match(run_id):
        raise ValueError("not a run id: %r" % run_id)
    return "'%s'" % run_id


# What one distinct record is in each S3 layer under the duplicate rule:
# landing holds an order per row (its products counted once per order id),
# staging a product line per row (counted once per order id and line).
_DISTINCT = {
    audit_table.S3_LANDING: ("order_id, MAX(CARDINALITY(products)) AS n", "order_id"),
    audit_table.S3_STAGING: ("order_id, line_number, 1 AS n", "order_id, line_number"),
}


def check_s3_layer(layer: str) -> str:
    if audit_table.check_layer(layer) not in _DISTINCT:
        raise ValueError("Athena counts only the S3 layers %s, not %r" % (", ".join(_DISTINCT), layer))
    return layer


def runs_count_query(layer: str, database: str, table: str, runs: Sequence[dict]) -> str:
    """The count of the given runs under the duplicate rule (README "Duplicates"):
    within a run, one record per order id (and line); an order that the run
    before it (previous_run_id) also holds belongs to that earlier run and is
    not counted here. Every read names its run partitions, so the query reads
    the files of these runs and their predecessors only."""
    if layer not in _DISTINCT:
        raise ValueError("Athena counts only the S3 layers %s, not %r" % (", ".join(_DISTINCT), layer))
    if not runs:
        raise ValueError("no run to count")
    select, group = _DISTINCT[layer]
    source = "%s.%s" % (quote_identifier(database), quote_identifier(table))
    counted = sorted({r["run_id"] for r in runs})
    previous = sorted({r["previous_run_id"] for r in runs if r.get("previous_run_id")})
    pairs = ", ".join("(%s, %s)" % (_literal(r["run_id"]), _literal(r["previous_run_id"]) if r.get("previous_run_id") else "''")
                      for r in sorted(runs, key=lambda r: r["run_id"]))
    earlier = ("(SELECT DISTINCT run, order_id FROM %s WHERE run IN (%s))" % (source, ", ".join(map(_literal, previous)))
               if previous else "(SELECT run, order_id FROM %s WHERE 1 = 0)" % source)
    return (
        "SELECT r.run_id, SUM(x.n) AS num_records "
        "FROM (VALUES %s) AS r(run_id, previous_run_id) "
        "JOIN (SELECT run, %s FROM %s WHERE run IN (%s) GROUP BY run, %s) x ON x.run = r.run_id "
        "LEFT JOIN %s p ON p.run = r.previous_run_id AND p.order_id = x.order_id "
        "WHERE p.order_id IS NULL "
        "GROUP BY r.run_id"
        % (pairs, select, source, ", ".join(map(_literal, counted)), group, earlier))


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


def counts_per_run(client, layer: str, database: str, table: str, workgroup: str, runs: Sequence[dict],
                   poll_seconds: float = 2.0, sleep: Callable[[float], None] = time.sleep) -> Dict[str, int]:
    """Counts the given runs in the workgroup (runs_count_query) and returns {run_id: records};
    a run with no rows is absent."""
    if not runs:
        return {}
    sql = runs_count_query(layer, database, table, runs)
    query_id = start_query(client, sql, database, workgroup)
    log.info("Athena query %s: %s", query_id, sql)
    wait_for_query(client, query_id, poll_seconds=poll_seconds, sleep=sleep)
    return parse_counts(result_pages(client, query_id))
