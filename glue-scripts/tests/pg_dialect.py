"""Redshift DDL on the PostgreSQL stand-ins: the one translation the jobs' SQL
needs. A table's SORTKEY lets Redshift skip the blocks whose run ids a query
does not ask for (zone maps); PostgreSQL gets a B-tree index on the same
columns instead, which its plans use the same way (the rehearsal's Data API
stand-in turns sequential scans off, so a plan skips rows as Redshift's does)."""
from __future__ import annotations

import re
from typing import List

_CREATE = re.compile(r"CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?(?P<table>[\w.]+)", re.IGNORECASE)
_SORTKEY = re.compile(r"\)\s*(?:COMPOUND\s+)?SORTKEY\s*\((?P<cols>[^)]*)\)\s*;?\s*$", re.IGNORECASE)


def to_postgres(statement: str) -> List[str]:
    """The PostgreSQL statements for one Redshift statement."""
    create, sortkey = _CREATE.search(statement), _SORTKEY.search(statement)
    if not (create and sortkey):
        return [statement]
    table = create.group("table")
    cols = ", ".join(c.strip() for c in sortkey.group("cols").split(","))
    index = table.split(".")[-1] + "_sortkey"
    return [statement[:sortkey.start()] + ")",
            "CREATE INDEX IF NOT EXISTS %s ON %s (%s)" % (index, table, cols)]
