"""What a Spark job's bookmark has not seen yet.

Both Spark jobs read a catalog table through a job bookmark and must end
successfully, without writing, when nothing is new (seed note 3: in the
continuous loop most runs find nothing). This is that one rule.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

import glue_catalog


def read_new_rows(glue: Any, job: Any, database: str, table: str, context: str,
                  log: logging.Logger, catalog: Any = None) -> Optional[Any]:
    """Returns the rows of database.table the bookmark named context has not seen, as a
    DataFrame; or None after committing the bookmark when there are none. With a Glue
    API client as catalog, a table that does not exist yet (a crawler creates it with
    the first data) holds no rows either."""
    if catalog is not None and not glue_catalog.table_exists(catalog, database, table):
        log.info("no table %s.%s in the catalog yet: nothing to write", database, table)
        job.commit()
        return None
    rows = glue.create_dynamic_frame.from_catalog(
        database=database, table_name=table, transformation_ctx=context,
    ).toDF()
    if rows.isEmpty():
        log.info("no new rows in %s.%s since the last bookmark: nothing to write", database, table)
        job.commit()
        return None
    return rows
