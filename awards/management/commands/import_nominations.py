"""``manage.py import_nominations FILE.csv --batch ID``: all rows, or none.

Columns: kind, name, title, affiliation, district, street, community, email, citation
(only ``name`` is required; ``kind`` defaults to the category's recipient kind), and
per language name_zh_hans, name_en, district_zh_hans, district_en and so on. The
console's import page does the same through the same functions.
"""

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from awards.errors import BatchLocked
from awards.imports import ImportInvalid, nominations_parse
from awards.models import AwardBatch
from awards.services import nominations_import


class Command(BaseCommand):
    help = "Imports nominations into a draft batch from a CSV file; a bad row imports nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--batch", type=int, required=True, help="The award batch's id."
        )

    def handle(self, *args: Any, file: Path, batch: int, **options: Any) -> None:
        award_batch = (
            AwardBatch.objects.select_related("category").filter(pk=batch).first()
        )
        if award_batch is None:
            raise CommandError(f"No award batch with the id {batch}.")
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        try:
            rows = nominations_parse(
                text, default_kind=award_batch.category.recipient_kind
            )
        except ImportInvalid as exc:
            raise CommandError(
                f"{file}: line {exc.line}: {exc.reason} Nothing was imported."
            ) from exc
        try:
            count = nominations_import(
                batch=award_batch,
                rows=[(row.recipient, row.citation) for row in rows],
                actor=None,
                progress=self._progress,
            )
        except BatchLocked as exc:
            raise CommandError(
                f"The batch is {award_batch.status}: {exc.detail}"
            ) from exc
        sys.stderr.write("\n")
        self.stdout.write(
            self.style.SUCCESS(f"Imported {count} nominations into {award_batch}.")
        )

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        sys.stderr.flush()
