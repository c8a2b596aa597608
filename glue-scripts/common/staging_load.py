"""Loads a batch of staging rows into ``staging.orders`` under the duplicate rule.

``staging.orders`` is the load's working area: it holds the rows of the last
load only (the runs of one workflow run's manifest), so every statement on it
reads a batch, not the history. The batch goes into a session table first
(by COPY on Redshift); within it each (run_id, order_id, line_number) is kept
once, the copy with the earliest processing_timestamp (a record delivered
twice in one run). The Spark job has already dropped the orders that the
run before each run holds (they belong to that earlier run). All of it is
one transaction, so a job run that failed after its COPY but before its
bookmark was committed can simply run again.
"""
from __future__ import annotations

from typing import List

import orders_schema

TARGET = "staging.orders"
BATCH_TABLE = "orders_load"


def load_statements(fill_batch: str) -> List[str]:
    """The statements of one load; fill_batch puts the new rows into BATCH_TABLE."""
    columns = ", ".join(orders_schema.STAGING_COLUMN_NAMES)
    key = ", ".join(orders_schema.STAGING_KEY)
    return [
        "CREATE TEMP TABLE %s (LIKE %s)" % (BATCH_TABLE, TARGET),
        fill_batch,
        # Retention: the previous load's rows are in final.orders by now.
        "DELETE FROM %s" % TARGET,
        "INSERT INTO %s (%s) SELECT %s FROM (SELECT %s, ROW_NUMBER() OVER (PARTITION BY %s "
        "ORDER BY processing_timestamp) AS copy_number FROM %s) AS batch WHERE copy_number = 1"
        % (TARGET, columns, columns, columns, key, BATCH_TABLE),
        "DROP TABLE %s" % BATCH_TABLE,
    ]
