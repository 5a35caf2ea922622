"""Nominations from a CSV file: every row checked before any is imported.

Columns: kind, name, title, affiliation, district, street, community, email, citation
(only ``name`` is required; ``kind`` defaults to the category's recipient kind). The
first bad row stops the import with its line and reason; nothing is half-imported.
Used by ``manage.py import_nominations`` and the console's import page alike.
"""

import csv
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .console.forms import NominationForm
from .services import RecipientData

COLUMNS = [
    "kind",
    "name",
    "title",
    "affiliation",
    "district",
    "street",
    "community",
    "email",
    "citation",
]


class RecipientRow(NominationForm):
    """The checks of one row: the console's nomination form, whose limits are the
    API's, without the language of the recipient's mail (a file does not give it)."""

    language = None  # type: ignore[assignment]


@dataclass(frozen=True)
class ImportRow:
    line: int
    recipient: RecipientData
    citation: str


class ImportInvalid(Exception):
    """The file cannot be imported: ``line`` is the first bad row's (0: the header)."""

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")


def _unreadable(reader: csv.DictReader, exc: csv.Error) -> ImportInvalid:
    """A line the csv module cannot read (a field over its size limit, mostly)."""
    if "field limit" in str(exc):
        reason = _(
            "A field is too long: at most %(limit)s characters fit in one field."
        ) % {"limit": f"{csv.field_size_limit():,}"}
    else:
        reason = _("The line is not valid CSV (%(error)s).") % {"error": exc}
    # DictReader's own line_num is the last good row's: the failing line is its
    # underlying reader's.
    return ImportInvalid(max(reader.reader.line_num, 1), reason)


def _read_rows(reader: csv.DictReader) -> Iterator[dict[str, str | None]]:
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _unreadable(reader, exc) from exc
        yield row


def nominations_parse(text: str, *, default_kind: str) -> list[ImportRow]:
    """Every row of the file, checked; raises ImportInvalid at the first bad one."""
    reader = csv.DictReader(text.lstrip("\ufeff").splitlines())
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        raise _unreadable(reader, exc) from exc
    header = [name.strip() for name in fieldnames or []]
    unknown = sorted(set(header) - set(COLUMNS))
    if "name" not in header or unknown:
        raise ImportInvalid(
            1,
            _("The first line must name the columns, among: %(columns)s.")
            % {"columns": ", ".join(COLUMNS)}
            + (
                " " + _("Unknown: %(unknown)s.") % {"unknown": ", ".join(unknown)}
                if unknown
                else ""
            ),
        )
    reader.fieldnames = header
    rows = []
    for row in _read_rows(reader):
        line = reader.line_num  # the line the row ends on
        values = {k: (v or "").strip() for k, v in row.items() if k in COLUMNS}
        values["kind"] = values.get("kind") or default_kind
        checked = RecipientRow(values)
        if not checked.is_valid():
            reasons = "; ".join(
                f"{field}: {' '.join(str(m) for m in messages)}"
                for field, messages in checked.errors.items()
            )
            raise ImportInvalid(line, reasons)
        data = dict(checked.cleaned_data)
        citation = data.pop("citation")
        rows.append(
            ImportRow(line=line, recipient=RecipientData(**data), citation=citation)
        )
    if not rows:
        raise ImportInvalid(2, _("The file has no rows under its header."))
    return rows
