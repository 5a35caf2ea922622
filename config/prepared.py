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
parameter. The ORM's own queries keep Django's client-side binding.

Everywhere else (SQLite, or prepared statements turned off for a pooler that cannot
keep them) it is the connection's ordinary cursor.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper


def prepared_cursor(connection: BaseDatabaseWrapper) -> CursorWrapper:
    """A cursor of ``connection`` as ``connection.cursor()`` gives, binding on the server."""
    if (
        connection.vendor != "postgresql"
        or connection.settings_dict["OPTIONS"].get("prepare_threshold") is None
    ):
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    # What BaseDatabaseWrapper._cursor() does, with another kind of cursor: the
    # health check, the connection, errors as Django's, the debug cursor when
    # queries are logged (so that tests and execute_wrapper see these too).
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        # The stubs know psycopg2's class of that name, which takes no connection.
        cursor = ServerBindingCursor(connection.connection)  # type: ignore[call-arg]
    return connection._prepare_cursor(cursor)  # type: ignore[attr-defined]


def sql_text(value: str) -> str:
    """A constant of the code (a status, say) as an SQL string literal, to write into
    a statement that is prepared rather than pass as a parameter."""
    return "'" + value.replace("'", "''") + "'"
