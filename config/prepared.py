"""Cursors whose statements PostgreSQL keeps planned, for the registration request.

Django binds parameters on the client (psycopg's ``ClientCursor``): each statement
reaches PostgreSQL as new text, to be parsed, analysed and planned again. For the
registration request that was half of the server's CPU (bench/README.md, issue 11).
``prepared_cursor`` gives a cursor that binds on the server instead, so that
psycopg prepares a statement once it has run ``prepare_threshold`` times on the
connection (``DATABASES["default"]["OPTIONS"]``, set from
``DATABASE_PREPARED_STATEMENTS``) and PostgreSQL reuses its plan.

Only statements written out once by Podium go through it (``config.inserts``, the
seat and the registration's lookup), each with its constants written into the SQL:
a generic plan cannot use a partial index whose condition it only gets as a
parameter. The ORM's own queries keep Django's client-side binding and are never
prepared.

What psycopg does that matters here: a rollback on the connection (a refused
registration, say) makes it forget and ``DEALLOCATE`` every prepared statement, and
they are prepared again after five more runs; and a migration that changes the type
of a column a prepared statement returns makes PostgreSQL refuse that statement
("cached plan must not change result type"), which ``PreparedCursorWrapper`` answers
by dropping the connection's prepared statements and, outside a transaction,
running the statement once more.

Everywhere else (SQLite, or prepared statements turned off for a pooler that cannot
keep them) it is the connection's ordinary cursor.
"""

from __future__ import annotations

from typing import Any

from django.db import NotSupportedError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper

_RESULT_TYPE_CHANGED = "cached plan must not change result type"


def _forget_prepared(connection: BaseDatabaseWrapper) -> None:
    """Drops the connection's prepared statements, on the server and in psycopg
    (which clears its own cache when it sees ``DEALLOCATE ALL`` succeed)."""
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")


class PreparedCursorWrapper(CursorWrapper):
    def execute(self, sql: Any, params: Any = None) -> Any:
        try:
            return super().execute(sql, params)
        except NotSupportedError as exc:
            if _RESULT_TYPE_CHANGED not in str(exc):
                raise
            if self.db.in_atomic_block:
                # The transaction is aborted; its rollback makes psycopg forget
                # its prepared statements, so the next request plans afresh.
                raise
            _forget_prepared(self.db)
            return super().execute(sql, params)


class PreparedCursorDebugWrapper(CursorDebugWrapper, PreparedCursorWrapper):
    pass


def prepared_cursor(connection: BaseDatabaseWrapper) -> CursorWrapper:
    """A cursor of ``connection`` as ``connection.cursor()`` gives, binding on the server."""
    if (
        connection.vendor != "postgresql"
        or connection.settings_dict["OPTIONS"].get("prepare_threshold") is None
    ):
        return connection.cursor()
    from django.db.backends.postgresql.base import (
        TIMESTAMPTZ_OID,
        ServerBindingCursor,
    )
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    # What BaseDatabaseWrapper._cursor() and the backend's create_cursor() do, with
    # another kind of cursor: the health check, the connection, errors as Django's,
    # the zone of timestamps read, the debug cursor when queries are logged (so that
    # tests and execute_wrapper see these statements too).
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        # django-stubs declare the class without psycopg's constructor.
        cursor = ServerBindingCursor(connection.connection)  # type: ignore[call-arg]
        loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        if connection.timezone != loader.timezone:
            register_tzloader(connection.timezone, cursor)
    connection.validate_thread_sharing()
    if connection.queries_logged:
        return PreparedCursorDebugWrapper(cursor, connection)
    return PreparedCursorWrapper(cursor, connection)


def sql_text(value: str) -> str:
    """A constant of the code (a status, say) as an SQL string literal, to write into
    a statement that is prepared rather than pass as a parameter (``%`` doubled for
    psycopg's placeholders)."""
    return "'" + value.replace("'", "''").replace("%", "%%") + "'"
