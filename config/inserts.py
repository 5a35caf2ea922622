"""INSERTs of the registration request, written out once per process.

The ORM compiles an ``INSERT`` (or ``bulk_create``'s upsert) anew for every call,
and for a registration that compiling cost more CPU than PostgreSQL spent on the
statements (bench/README.md). ``RowInsert`` writes the statement once, from the
model's own fields, and on each call only prepares the values as the fields do
(``get_db_prep_save``: JSON, dates, booleans, each backend its way). It speaks the
SQL that PostgreSQL and SQLite share (``ON CONFLICT``, ``RETURNING``), and
PostgreSQL keeps it prepared on the connection (``config.prepared``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from django.db import connections, models

from config.prepared import prepared_cursor

# Values a field of these kinds stores as they are (its get_db_prep_save gives them
# back unchanged); any other value, or field, is prepared by the field.
_AS_THEY_ARE: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(("CharField", "TextField", "SlugField"), (str, type(None))),
    **dict.fromkeys(
        (
            "IntegerField",
            "BigIntegerField",
            "PositiveIntegerField",
            "PositiveSmallIntegerField",
            "PositiveBigIntegerField",
            "SmallIntegerField",
            "ForeignKey",
            "AutoField",
            "BigAutoField",
        ),
        (int, type(None)),
    ),
    "BooleanField": (bool,),
}


def _fields(
    model: type[models.Model], names: Sequence[str]
) -> list[models.Field[Any, Any]]:
    return [
        cast("models.Field[Any, Any]", model._meta.get_field(name)) for name in names
    ]


class RowInsert:
    """``INSERT INTO <model> (<fields>) VALUES ... [ON CONFLICT ...] [RETURNING ...]``.

    ``conflict`` names the unique fields of an ``ON CONFLICT`` clause: with
    ``update`` the named fields take the new row's values (an upsert), without it
    a conflicting row is skipped. ``returning`` names fields read back, one tuple
    per row written (a skipped row returns nothing).
    """

    def __init__(
        self,
        model: type[models.Model],
        fields: Sequence[str],
        *,
        conflict: Sequence[str] = (),
        update: Sequence[str] = (),
        returning: Sequence[str] = (),
    ) -> None:
        self.model = model
        self.fields = _fields(model, fields)
        self.conflict = _fields(model, conflict)
        self.update = _fields(model, update)
        self.returning = _fields(model, returning)
        self._as_they_are = [
            _AS_THEY_ARE.get(f.get_internal_type(), ()) for f in self.fields
        ]
        self._statements: dict[tuple[str, int], str] = {}

    def _tail(self, qn: Any) -> str:
        statement = ""
        if self.conflict:
            target = ", ".join(qn(str(f.column)) for f in self.conflict)
            if self.update:
                assignments = ", ".join(
                    f"{qn(str(f.column))} = EXCLUDED.{qn(str(f.column))}"
                    for f in self.update
                )
                statement += f" ON CONFLICT ({target}) DO UPDATE SET {assignments}"
            else:
                statement += f" ON CONFLICT ({target}) DO NOTHING"
        if self.returning:
            statement += " RETURNING " + ", ".join(
                qn(str(f.column)) for f in self.returning
            )
        return statement

    def _head(self, qn: Any) -> str:
        columns = ", ".join(qn(str(f.column)) for f in self.fields)
        return f"INSERT INTO {qn(self.model._meta.db_table)} ({columns}) "

    def _values(
        self, row: Sequence[Any], connection: Any, expressions: Mapping[str, str]
    ) -> list[Any]:
        """A row's values as the fields prepare them, but for those of fields whose
        expression takes none."""
        return [
            value if type(value) in plain else field.get_db_prep_save(value, connection)
            for field, plain, value in zip(
                self.fields, self._as_they_are, row, strict=True
            )
            if "%s" in expressions.get(field.name, "%s")
        ]

    def _sql(self, alias: str, rows: int) -> str:
        statement = self._statements.get((alias, rows))
        if statement is not None:
            return statement
        qn = connections[alias].ops.quote_name
        row = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        statement = (
            self._head(qn) + f"VALUES {', '.join([row] * rows)}" + self._tail(qn)
        )
        self._statements[(alias, rows)] = statement
        return statement

    def select_sql(
        self, alias: str, *, source: str, expressions: Mapping[str, str]
    ) -> str:
        """``INSERT INTO <model> (<fields>) SELECT ... FROM <source>`` and the same
        clauses as ``execute``'s: one row for each row of ``source`` (none when it
        has none), for a statement that writes several tables at once.

        Each field is its value (a parameter) unless ``expressions`` names it: an SQL
        expression that may read ``source``, with one ``%s`` where the field's value
        goes or none if it needs no value (``select_params`` leaves it out). A bare
        parameter takes the column's type (PostgreSQL types the SELECT of an INSERT
        by its columns).
        """
        unknown = set(expressions) - {f.name for f in self.fields}
        if unknown:
            raise ValueError(f"not fields of this insert: {sorted(unknown)}")
        if any(e.count("%s") > 1 for e in expressions.values()):
            raise ValueError("an expression takes its field's value once at most")
        qn = connections[alias].ops.quote_name
        values = ", ".join(expressions.get(f.name, "%s") for f in self.fields)
        select = f"SELECT {values} FROM {source}"  # noqa: S608 - the caller's SQL, from the models' own tables
        return self._head(qn) + select + self._tail(qn)

    def select_params(
        self,
        row: Sequence[Any],
        *,
        expressions: Mapping[str, str],
        using: str | None = None,
    ) -> list[Any]:
        """The parameters of ``select_sql(expressions=...)`` for one row of values in
        the order of ``fields`` (those of fields whose expression takes none are
        left out)."""
        connection = connections[using or self.model._default_manager.db]
        return self._values(row, connection, expressions)

    def execute(
        self, rows: Sequence[Sequence[Any]], *, using: str | None = None
    ) -> list[tuple[Any, ...]]:
        """Writes ``rows`` (values in the order of ``fields``) in one statement."""
        if not rows:
            return []
        alias = using or self.model._default_manager.db
        connection = connections[alias]
        params: list[Any] = []
        for row in rows:
            params.extend(self._values(row, connection, {}))
        with prepared_cursor(connection) as cursor:
            cursor.execute(self._sql(alias, len(rows)), params)
            return [tuple(r) for r in cursor.fetchall()] if self.returning else []
