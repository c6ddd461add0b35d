"""The cursor a PostgreSQL transaction hands the engine: SQLite's dialect and sqlite3's
cursor surface (execute, executemany, fetchone/fetchall, rowcount, lastrowid), so the same
statements run on both stores (pg_schema.to_postgres translates them)."""
from __future__ import annotations

import time

import psycopg

from desktop.engine.storage.pg_schema import to_postgres


class PgCursor:
    """The cursor surface the engine uses inside transactions, in SQLite's dialect."""

    def __init__(self, cursor: psycopg.Cursor) -> None:
        self._cur = cursor
        self.wrote_meta = False

    def execute(self, sql: str, params: tuple = ()) -> PgResult:
        statement = to_postgres(sql)
        self.wrote_meta |= statement.writes_meta
        self._cur.execute(statement.sql, params)
        if statement.returns_id:
            row = self._cur.fetchone()
            return PgResult(self._cur, row[0] if row else None)
        return PgResult(self._cur, None)

    def executemany(self, sql: str, rows: list[tuple]) -> PgResult:
        statement = to_postgres(sql, many=True)
        self.wrote_meta |= statement.writes_meta
        self._cur.executemany(statement.sql, rows)
        return PgResult(self._cur, None)

    def set_meta(self, key: str, value: object) -> None:
        self.execute("INSERT INTO meta(key, value) VALUES (?, ?) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, str(value)))

    def reset_identity(self, table: str) -> None:
        """After inserting explicit ids (db copy): new rows continue above the highest."""
        self._cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                          f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)")

    def claim(self, key: str) -> bool:
        """Record an idempotency key in this transaction; False if it was applied before."""
        self._cur.execute("INSERT INTO applied_ops(key, applied_at) VALUES (%s, %s) "
                          "ON CONFLICT DO NOTHING", (key, time.time()))
        return self._cur.rowcount == 1


class PgResult:
    """What sqlite3's cursor offers after execute: fetchone/fetchall/rowcount/lastrowid."""

    def __init__(self, cursor: psycopg.Cursor, lastrowid: int | None) -> None:
        self._cur = cursor
        self.lastrowid = lastrowid
        self.rowcount = cursor.rowcount

    def fetchone(self) -> tuple | None:
        return None if self.lastrowid is not None else self._cur.fetchone()

    def fetchall(self) -> list[tuple]:
        return [] if self.lastrowid is not None else self._cur.fetchall()
