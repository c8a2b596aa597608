"""The jobs' Executor on PostgreSQL, so the tests run the jobs' own SQL on a real server."""
from __future__ import annotations

from typing import Any, List, Sequence, Tuple

import psycopg2
from pg_dialect import to_postgres
from redshift_data import Executor


class PostgresExecutor(Executor):
    def __init__(self, dsn: str):
        self.conn = psycopg2.connect(dsn)

    def run(self, statements: Sequence[str]) -> None:
        # `with conn` commits on success and rolls back on any error, like a Data API batch.
        with self.conn, self.conn.cursor() as cur:
            for statement in statements:
                for sql in to_postgres(statement):
                    cur.execute(sql)

    def query(self, sql: str) -> List[Tuple[Any, ...]]:
        with self.conn, self.conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    def close(self) -> None:
        self.conn.close()
