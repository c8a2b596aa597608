"""Columns of the landing and staging layers, shared by the Spark jobs and the SQL.

Landing (internal/orders/order.go) has one row per order with a ``products``
array; staging has one row per product. The staging column order here is
the order of the Parquet files the Redshift COPY reads and of
``staging.orders`` in sql/ddl.sql: COPY maps Parquet columns by position.
"""
from __future__ import annotations

from typing import List

# Order-level columns of the landing table, before the products array.
ORDER_COLUMNS = [
    "order_id", "order_timestamp", "customer_id", "order_status",
    "payment_method", "currency", "shipping_country",
]
PRODUCTS_COLUMN = "products"
PROCESSING_COLUMNS = ["processing_timestamp", "run_id"]
# The processing-time partitions (UTC date and hour of processing_timestamp);
# they are also columns of the warehouse tables.
PARTITION_COLUMNS = ["processing_date", "processing_hour"]
# The third partition of both S3 layers: the run id again (landing: from the
# transformer's partition keys; staging: written by the Spark job), so a
# query of one run reads only that run's files.
RUN_PARTITION = "run"
S3_PARTITION_COLUMNS = PARTITION_COLUMNS + [RUN_PARTITION]

LANDING_COLUMNS = ORDER_COLUMNS + [PRODUCTS_COLUMN] + PROCESSING_COLUMNS

# Fields of one element of ``products``.
PRODUCT_FIELDS = ["product_code", "product_name", "category", "quantity", "unit_price"]

# 1-based position of the product in its order; with run_id and order_id it
# identifies a staging row, which makes reloading a batch harmless.
LINE_NUMBER = "line_number"

# Staging columns in file and table order (types: sql/ddl.sql).
STAGING_COLUMN_NAMES = (
    ORDER_COLUMNS[:] + [LINE_NUMBER] + PRODUCT_FIELDS + PROCESSING_COLUMNS + PARTITION_COLUMNS
)

# Columns that identify one staging row.
STAGING_KEY = ["run_id", "order_id", LINE_NUMBER]

_EXPLODED = "product"
_POSITION = "product_index"


def explode_exprs() -> List[str]:
    """Spark SQL select expressions that give one row per product, keeping the order's columns.

    posexplode drops orders with a NULL or empty products array, exactly as
    sum(cardinality(products)) counts them as 0 in the landing audit.
    """
    keep = ORDER_COLUMNS + PROCESSING_COLUMNS + PARTITION_COLUMNS
    return keep + ["posexplode(%s) AS (%s, %s)" % (PRODUCTS_COLUMN, _POSITION, _EXPLODED)]


def staging_exprs() -> List[str]:
    """Spark SQL select expressions over the exploded rows, in STAGING_COLUMN_NAMES order."""
    exprs = []
    for name in STAGING_COLUMN_NAMES:
        if name == LINE_NUMBER:
            exprs.append("%s + 1 AS %s" % (_POSITION, LINE_NUMBER))
        elif name in PRODUCT_FIELDS:
            exprs.append("%s.%s AS %s" % (_EXPLODED, name, name))
        else:
            exprs.append(name)
    return exprs
