"""CSV export of registrations, for the API and the admin."""

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from .models import Answer, Question, Registration

CSV_COLUMNS = [
    ("code", "code"),
    ("session", "session.title"),
    ("session_starts_at", "session.starts_at"),
    ("status", "status"),
    ("waitlist_position", "waitlist_position"),
    ("full_name", "full_name"),
    ("email", "email"),
    ("phone", "phone"),
    ("organisation", "organisation"),
    ("language", "language"),
    ("created_at", "created_at"),
    ("checked_in_at", "checked_in_at"),
]


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        value = (
            timezone.localtime(value).isoformat()
            if timezone.is_aware(value)
            else value.isoformat()
        )
    text = str(value)
    # A cell that starts like a formula is run by spreadsheets: keep it text.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def registrations_csv(
    registrations: QuerySet[Registration], questions: Sequence[Question] = ()
) -> Iterator[str]:
    """The rows of a registration export, as text chunks to stream.

    Then one column per question, headed by its label, each answer as a person
    reads it (the question's and choices' words as they were answered, in the
    reader's language).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return value

    yield "\ufeff"  # so that spreadsheet programs read UTF-8 (and Chinese names) right
    writer.writerow(
        [name for name, _path in CSV_COLUMNS] + [csv_cell(q.label()) for q in questions]
    )
    yield flush()
    if questions:
        registrations = registrations.prefetch_related(
            Prefetch("answers", queryset=Answer.objects.order_by()),
        )
    for registration in registrations.iterator(chunk_size=1000):
        row = []
        for _name, path in CSV_COLUMNS:
            value: Any = registration
            for part in path.split("."):
                value = getattr(value, part)
            row.append(csv_cell(value))
        if questions:
            answers = {a.question_id: a for a in registration.answers.all()}
            row += [
                csv_cell(answers[q.pk].display()) if q.pk in answers else ""
                for q in questions
            ]
        writer.writerow(row)
        yield flush()
