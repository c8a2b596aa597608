"""Counts records per run id in the Redshift layers (one row per product in both).

Only the runs of the workflow run's manifest are counted (WHERE run_id IN),
so with final.orders sorted by run the count reads those runs' blocks only.
"""
from __future__ import annotations

import re
from typing import Dict, Sequence

import audit_table

LAYER_TABLES = {
    audit_table.REDSHIFT_STAGING: "staging.orders",
    audit_table.REDSHIFT_FINAL: "final.orders",
}

_RUN_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def run_list(run_ids: Sequence[str]) -> str:
    """'a', 'b' for an IN list; refuses anything that is not a run id."""
    for r in run_ids:
        if not _RUN_ID.match(r):
            raise ValueError("not a run id: %r" % r)
    return ", ".join("'%s'" % r for r in sorted(set(run_ids)))


def count_query(layer: str, run_ids: Sequence[str]) -> str:
    if layer not in LAYER_TABLES:
        raise ValueError("Redshift counts only the layers %s, not %r" % (", ".join(LAYER_TABLES), layer))
    if not run_ids:
        raise ValueError("no run to count")
    return ("SELECT run_id, COUNT(*) AS num_records FROM %s WHERE run_id IN (%s) GROUP BY run_id"
            % (LAYER_TABLES[layer], run_list(run_ids)))


def counts_per_run(executor, layer: str, run_ids: Sequence[str]) -> Dict[str, int]:
    if not run_ids:
        return {}
    return {run_id: int(n) for run_id, n in executor.query(count_query(layer, run_ids))}
