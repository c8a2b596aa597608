"""Loads a batch of staging rows into ``staging.orders`` so that loading it again changes nothing.

The batch goes into a session table first (by COPY on Redshift), rows with
the same key are replaced, all in one transaction: a job run that failed
after its COPY but before its bookmark was committed can simply run again.
"""
from __future__ import annotations

from typing import List

import orders_schema

TARGET = "staging.orders"
BATCH_TABLE = "orders_load"


def load_statements(fill_batch: str) -> List[str]:
    """The statements of one load; fill_batch puts the new rows into BATCH_TABLE."""
    key_match = " AND ".join("%s.%s = %s.%s" % (TARGET, c, BATCH_TABLE, c) for c in orders_schema.STAGING_KEY)
    columns = ", ".join(orders_schema.STAGING_COLUMN_NAMES)
    return [
        "CREATE TEMP TABLE %s (LIKE %s)" % (BATCH_TABLE, TARGET),
        fill_batch,
        "DELETE FROM %s USING %s WHERE %s" % (TARGET, BATCH_TABLE, key_match),
        "INSERT INTO %s (%s) SELECT %s FROM %s" % (TARGET, columns, columns, BATCH_TABLE),
        "DROP TABLE %s" % BATCH_TABLE,
    ]
