"""The Glue Data Catalog as the jobs see it.

The staging table `staging_orders` exists only once the staging crawler has
found data: before the first batch with products reached staging, there is
no table to count or read, which means nothing to do, not a failure
(seed note 3: runs without new data must succeed).
"""
from __future__ import annotations

from botocore.exceptions import ClientError


def table_exists(glue_client, database: str, table: str) -> bool:
    """True when database.table is in the catalog; other errors (access, throttling) raise."""
    try:
        glue_client.get_table(DatabaseName=database, Name=table)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "EntityNotFoundException":
            return False
        raise
    return True
