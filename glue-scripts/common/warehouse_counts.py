"""Counts records per run id in the Redshift layers (one row per product in both)."""
from __future__ import annotations

from typing import Dict

import audit_table

LAYER_TABLES = {
    audit_table.REDSHIFT_STAGING: "staging.orders",
    audit_table.REDSHIFT_FINAL: "final.orders",
}


def count_query(layer: str) -> str:
    if layer not in LAYER_TABLES:
        raise ValueError("Redshift counts only the layers %s, not %r" % (", ".join(LAYER_TABLES), layer))
    return ("SELECT run_id, COUNT(*) AS num_records FROM %s WHERE run_id IS NOT NULL GROUP BY run_id"
            % LAYER_TABLES[layer])


def counts_per_run(executor, layer: str) -> Dict[str, int]:
    return {run_id: int(n) for run_id, n in executor.query(count_query(layer))}
