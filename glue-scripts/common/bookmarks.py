"""What a Spark job's bookmark has not seen yet.

Both Spark jobs read a catalog table through a job bookmark and must end
successfully, without writing, when nothing is new (seed note 3: in the
continuous loop most runs find nothing). This is that one rule.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

import glue_catalog


def partition_filter(predicate: str) -> dict:
    """The from_catalog arguments that read only the partitions matching predicate:
    the catalog filters them (catalogPartitionPredicate, GetPartitions with an
    expression) so the job never lists the table's whole history of partitions, and
    push_down_predicate applies the same filter to what the catalog returns."""
    return {"push_down_predicate": predicate, "additional_options": {"catalogPartitionPredicate": predicate}}


def read_new_rows(glue: Any, job: Any, database: str, table: str, context: str,
                  log: logging.Logger, catalog: Any = None, predicate: str = "") -> Optional[Any]:
    """Returns the rows of database.table the bookmark named context has not seen, as a
    DataFrame, in the partitions matching predicate if one is given; or None after
    committing the bookmark when there are none. With a Glue API client as catalog, a
    table that does not exist yet (a crawler creates it with the first data) holds no
    rows either."""
    if catalog is not None and not glue_catalog.table_exists(catalog, database, table):
        log.info("no table %s.%s in the catalog yet: nothing to write", database, table)
        job.commit()
        return None
    rows = glue.create_dynamic_frame.from_catalog(
        database=database, table_name=table, transformation_ctx=context,
        **(partition_filter(predicate) if predicate else {}),
    ).toDF()
    if rows.isEmpty():
        log.info("no new rows in %s.%s since the last bookmark: nothing to write", database, table)
        job.commit()
        return None
    return rows
