"""Nominations from a CSV file: every row checked before any is imported.

Columns: kind, name, title, affiliation, district, street, community, email, citation
(only ``name`` is required; ``kind`` defaults to the category's recipient kind). A
text may also be given per language: ``name_zh_hans``, ``name_en``, and so on for
title, affiliation, street, community, district and citation; a plain column's
text goes to the language it is written in (any Chinese character: Chinese). A
district is one of the event's by either name, or a new one. The first bad row
stops the import with its line and reason; nothing is half-imported. Used by
``manage.py import_nominations`` and the console's import page alike.
"""

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from config.l10n import language_column

from .console.forms import RecipientTextsForm, free_field, line_field
from .services import Citation, RecipientData

TEXTS = ("name", "title", "affiliation", "street", "community", "citation")
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
LANGUAGE_COLUMNS = [
    f"{name}_{suffix}" for name in (*TEXTS, "district") for suffix in ("zh_hans", "en")
]


class RecipientRow(RecipientTextsForm):
    """The checks of one row: the console's nomination texts, whose limits are the
    API's, and the plain columns of a file, each of which goes to its language."""

    required_texts = ()

    name = line_field(_("Name"), 200)
    title = line_field(_("Title or position"), 200)
    affiliation = line_field(_("Affiliation"), 200)
    street = line_field(_("Street"), 100)
    community = line_field(_("Community"), 100)
    citation = free_field(_("Citation"), 5000, 4)
    district = line_field(_("District"), 100)
    district_zh_hans = line_field(_("District"), 100)
    district_en = line_field(_("District"), 100)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in TEXTS:
            plain = (data.get(name) or "").strip()
            if plain:
                column = f"{name}_{language_column(plain)}"
                data[column] = data.get(column) or plain
        if not self.errors and not any(
            data.get(f"name_{suffix}") for suffix in ("zh_hans", "en")
        ):
            self.add_error("name", _("This field is required."))
        return data

    def recipient(self) -> RecipientData:
        texts = {k: v for k, v in self.texts().items() if not k.startswith("citation")}
        for suffix in ("zh_hans", "en"):
            texts[f"district_{suffix}"] = self.cleaned_data.get(
                f"district_{suffix}", ""
            )
        return RecipientData(
            kind=self.cleaned_data["kind"],
            email=self.cleaned_data.get("email", ""),
            district=self.cleaned_data.get("district", ""),
            texts=texts,
        )

    def citation_texts(self) -> Citation:
        return {k: v for k, v in self.texts().items() if k.startswith("citation")}


@dataclass(frozen=True)
class ImportRow:
    line: int
    recipient: RecipientData
    citation: Citation


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
    unknown = sorted(set(header) - set(COLUMNS) - set(LANGUAGE_COLUMNS))
    if not {"name", "name_zh_hans", "name_en"} & set(header) or unknown:
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
        values = {
            k: (v or "").strip()
            for k, v in row.items()
            if k in COLUMNS or k in LANGUAGE_COLUMNS
        }
        values["kind"] = values.get("kind") or default_kind
        checked = RecipientRow(values)
        if not checked.is_valid():
            reasons = "; ".join(
                f"{field}: {' '.join(str(m) for m in messages)}"
                for field, messages in checked.errors.items()
            )
            raise ImportInvalid(line, reasons)
        rows.append(
            ImportRow(
                line=line,
                recipient=checked.recipient(),
                citation=checked.citation_texts(),
            )
        )
    if not rows:
        raise ImportInvalid(2, _("The file has no rows under its header."))
    return rows
