"""``manage.py import_nominations FILE.csv --batch ID``: all rows, or none.

Columns: kind, name, title, affiliation, district, street, community, email, citation
(only ``name`` is required; ``kind`` defaults to the category's recipient kind).
"""

import csv
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from awards.api.serializers import RecipientSerializer
from awards.errors import BatchLocked
from awards.models import AwardBatch
from awards.services import RecipientData, nomination_create

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
        reader = csv.DictReader(text.splitlines())
        unknown = set(reader.fieldnames or []) - set(COLUMNS)
        if not reader.fieldnames or "name" not in reader.fieldnames or unknown:
            raise CommandError(
                f"{file}: the header must name columns among {', '.join(COLUMNS)}"
                + (f" (unknown: {', '.join(sorted(unknown))})" if unknown else "")
            )
        rows = [(reader.line_num, row) for row in reader]  # the line each row ends on
        with transaction.atomic():
            for count, (line, row) in enumerate(rows, start=1):
                values = {k: (v or "").strip() for k, v in row.items() if k in COLUMNS}
                values.setdefault("kind", "")
                values["kind"] = values["kind"] or award_batch.category.recipient_kind
                citation = values.pop("citation", "")
                street, community = (
                    values.pop("street", ""),
                    values.pop("community", ""),
                )
                checked = RecipientSerializer(data=values)
                if not checked.is_valid():
                    reasons = "; ".join(
                        f"{field}: {' '.join(str(m) for m in messages)}"
                        for field, messages in checked.errors.items()
                    )
                    raise CommandError(f"line {line}: {reasons}. Nothing was imported.")
                try:
                    nomination_create(
                        batch=award_batch,
                        recipient=RecipientData(
                            **checked.validated_data, street=street, community=community
                        ),
                        citation=citation,
                        actor=None,
                    )
                except BatchLocked as exc:
                    raise CommandError(
                        f"The batch is {award_batch.status}: {exc.detail}"
                    ) from exc
                self._progress(count, len(rows))
        sys.stderr.write("\n")
        self.stdout.write(
            self.style.SUCCESS(f"Imported {len(rows)} nominations into {award_batch}.")
        )

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        sys.stderr.flush()
