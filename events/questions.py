"""An event's own questions: what is asked of whom, the one check of answers, and
the writes of the console's question editor.

``answers_clean`` is the single server-side check of answers; the registration page,
the API and ``events.services.registration_create`` all go through it, so the two
doors accept and refuse the same answers.
"""

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Prefetch, Q
from django.utils.translation import gettext, gettext_lazy

from config.problems import DomainError

from .models import Answer, Event, Question, Registration, Session
from .validators import clean_free_text, no_control_characters

SHORT_TEXT_MAX = 500
LONG_TEXT_MAX = 5000
CHOICE_VALUE_MAX = 100
MAX_CHOICES = 50
YES = ("yes", "true", "1", "on")
NO = ("no", "false", "0", "off")


class AnswersInvalid(DomainError):
    """Answers refused; ``errors`` maps a question's id (as text) to its messages."""

    title = gettext_lazy("Some answers are not valid.")

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(
            " ".join(message for messages in errors.values() for message in messages)
        )


# Reads ---------------------------------------------------------------------------


def questions_for_event(*, event: Event, active_only: bool = True) -> list[Question]:
    """The event's questions in order, each with its sessions prefetched."""
    questions = Question.objects.filter(event=event).prefetch_related(
        Prefetch("sessions", queryset=Session.objects.order_by("starts_at", "pk"))
    )
    if active_only:
        questions = questions.filter(active=True)
    return list(questions.order_by("position", "pk"))


def questions_for_session(*, session: Session) -> list[Question]:
    """The active questions asked of someone registering for ``session``."""
    return list(
        Question.objects.filter(event_id=session.event_id, active=True)
        .filter(Q(sessions__isnull=True) | Q(sessions=session.pk))
        .distinct()
        .order_by("position", "pk")
    )


def question_applies(question: Question, session_id: int | None) -> bool:
    """Whether a question with prefetched sessions is asked for ``session_id``."""
    ids = [s.pk for s in question.sessions.all()]
    return not ids or session_id in ids


def question_get_for_event(*, event: Event, question_id: int) -> Question | None:
    if not 0 < question_id < 2**63:
        return None
    return (
        Question.objects.filter(event=event, pk=question_id)
        .prefetch_related("sessions")
        .first()
    )


def registration_answers(*, registration: Registration) -> list[Answer]:
    return list(
        Answer.objects.filter(registration=registration).order_by(
            "question__position", "question_id"
        )
    )


def question_summary(*, event: Event) -> list[dict[str, Any]]:
    """Per question of the event: counts per choice (choice and yes/no questions)
    or the number of answers (others), over active registrations. Three queries,
    however many questions and answers there are.
    """
    questions = list(Question.objects.filter(event=event).order_by("position", "pk"))
    if not questions:
        return []
    answers = Answer.objects.filter(
        question__event=event,
        registration__status__in=Registration.ACTIVE_STATUSES,
        value__isnull=False,
    )
    choice_kinds = [*Question.CHOICE_KINDS, Question.Kind.YES_NO]
    grouped = (
        answers.filter(question__kind__in=choice_kinds)
        .values("question_id", "value")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_value: dict[int, dict[str, int]] = {}
    for row in grouped:
        counts = per_value.setdefault(row["question_id"], {})
        values = row["value"] if isinstance(row["value"], list) else [row["value"]]
        for value in values:
            key = str(value).lower() if isinstance(value, bool) else str(value)
            counts[key] = counts.get(key, 0) + row["n"]
    totals = dict(
        answers.values("question_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("question_id", "n")
    )
    summary = []
    for question in questions:
        counts = per_value.get(question.pk, {})
        rows: list[dict[str, Any]] = []
        if question.kind == Question.Kind.YES_NO:
            rows = [
                {"label": gettext("Yes"), "count": counts.get("true", 0)},
                {"label": gettext("No"), "count": counts.get("false", 0)},
            ]
        elif question.kind in Question.CHOICE_KINDS:
            known = dict(question.choice_options())
            rows = [
                {"label": label, "count": counts.get(value, 0)}
                for value, label in known.items()
            ]
            # Answers with a choice since removed: still counted, by their value.
            rows += [
                {"label": value, "count": n, "removed": True}
                for value, n in counts.items()
                if value not in known
            ]
        summary.append(
            {
                "question": question,
                "label": question.label(),
                "kind": question.get_kind_display(),
                "active": question.active,
                "answers": totals.get(question.pk, 0),
                "rows": rows,
            }
        )
    return summary


# The one check of answers ----------------------------------------------------------


def _blank(value: Any) -> bool:
    return (
        value is None
        or value == ""
        or value == []
        or (isinstance(value, str) and not value.strip())
    )


def _text(value: Any, *, long: bool) -> str:
    if not isinstance(value, str):
        raise ValidationError(gettext("Give text."))
    value = value.strip()
    limit = LONG_TEXT_MAX if long else SHORT_TEXT_MAX
    if len(value) > limit:
        raise ValidationError(
            gettext("Keep it to %(limit)d characters.") % {"limit": limit}
        )
    (clean_free_text if long else no_control_characters)(value)
    return value


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationError(gettext("Give a number."))
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationError(gettext("Give a number.")) from None
    if not number.is_finite() or abs(number) >= Decimal("1e15"):
        raise ValidationError(gettext("Give a number."))
    if number == number.to_integral_value():
        return int(number)
    result = float(number)
    if not math.isfinite(result):
        raise ValidationError(gettext("Give a number."))
    return result


def _date(value: Any) -> str:
    message = gettext("Give a date as YYYY-MM-DD, e.g. 2026-09-20.")
    if not isinstance(value, str) or len(value.strip()) != 10:
        raise ValidationError(message)
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(message) from None
    if not dt.date(1900, 1, 1) <= day <= dt.date(2100, 12, 31):
        raise ValidationError(gettext("Give a date between 1900 and 2100."))
    return day.isoformat()


def _yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in YES:
        return True
    if isinstance(value, str) and value.strip().lower() in NO:
        return False
    raise ValidationError(gettext("Answer yes or no."))


def _choice(question: Question, value: Any) -> str:
    values = [v for v, _label in question.choice_options()]
    if not isinstance(value, str) or value not in values:
        raise ValidationError(gettext("Pick one of the choices given."))
    return value


def _choices(question: Question, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > MAX_CHOICES:
        raise ValidationError(gettext("Pick from the choices given."))
    picked = []
    for item in value:
        choice = _choice(question, item)
        if choice not in picked:
            picked.append(choice)
    # In the organiser's order, whatever order they came in.
    order = [v for v, _label in question.choice_options()]
    return sorted(picked, key=order.index)


def answer_clean(question: Question, value: Any) -> Any:
    """One answer, checked and normalised for its question; raises ValidationError."""
    kind = question.kind
    if kind == Question.Kind.SHORT_TEXT:
        return _text(value, long=False)
    if kind == Question.Kind.LONG_TEXT:
        return _text(value, long=True)
    if kind == Question.Kind.NUMBER:
        return _number(value)
    if kind == Question.Kind.DATE:
        return _date(value)
    if kind == Question.Kind.SINGLE_CHOICE:
        return _choice(question, value)
    if kind == Question.Kind.MULTIPLE_CHOICE:
        return _choices(question, value)
    return _yes_no(value)


def answers_clean(
    *, questions: Sequence[Question], raw: Mapping[str, Any] | None
) -> dict[int, Any]:
    """The answers to ``questions`` (those asked), checked; keyed by question id.

    ``raw`` maps a question's id (as text) to its answer. A required question left
    blank, an answer of the wrong kind, or an answer to a question not asked is
    refused with ``AnswersInvalid``, whose ``errors`` name each question's id.
    """
    raw = raw or {}
    asked = {str(q.pk): q for q in questions}
    errors: dict[str, list[str]] = {}
    cleaned: dict[int, Any] = {}
    for key in raw:
        if str(key) not in asked:
            errors[str(key)] = [gettext("This question is not asked here.")]
    for key, question in asked.items():
        value = raw.get(key)
        if _blank(value):
            if question.required:
                errors[key] = [gettext("This question needs an answer.")]
            continue
        try:
            cleaned[question.pk] = answer_clean(question, value)
        except ValidationError as exc:
            errors[key] = [str(m) for m in exc.messages]
    if errors:
        raise AnswersInvalid(errors)
    return cleaned


def answers_insert(
    *,
    registration: Registration,
    questions: Iterable[Question],
    answers: Mapping[int, Any],
) -> list[Answer]:
    """Stores checked answers with the words of their questions as they read now.

    Called inside the registration's transaction (events.services).
    """
    rows = []
    for question in questions:
        if question.pk not in answers:
            continue
        value = answers[question.pk]
        picked = value if isinstance(value, list) else [value]
        rows.append(
            Answer(
                registration=registration,
                question=question,
                kind=question.kind,
                value=value,
                label_zh_hans=question.label_zh_hans,
                label_en=question.label_en,
                choice_labels=[
                    c
                    for c in question.choices or []
                    if question.kind in Question.CHOICE_KINDS
                    and str(c.get("value")) in picked
                ],
            )
        )
    return Answer.objects.bulk_create(rows)


# Writes of the console's editor ----------------------------------------------------

QUESTION_FIELDS = (
    "kind",
    "required",
    "label_zh_hans",
    "label_en",
    "help_zh_hans",
    "help_en",
    "choices",
)


@transaction.atomic
def question_create(
    *, event: Event, data: Mapping[str, Any], sessions: Iterable[Session] = ()
) -> Question:
    """Adds a question at the end of the event's list."""
    Event.objects.select_for_update().filter(pk=event.pk).first()
    last = Question.objects.filter(event=event).aggregate(last=Max("position"))["last"]
    question = Question(
        event=event,
        position=(last or 0) + 1,
        **{k: v for k, v in data.items() if k in QUESTION_FIELDS},
    )
    question.full_clean()
    question.save()
    question.sessions.set([s for s in sessions if s.event_id == event.pk])
    return question


@transaction.atomic
def question_update(
    *,
    question: Question,
    data: Mapping[str, Any],
    sessions: Iterable[Session] | None = None,
) -> Question:
    """Rewords a question. Answers already given keep the words they were given
    under (Answer's copies); a question that has answers keeps its kind.
    """
    locked = Question.objects.select_for_update().get(pk=question.pk)
    if (
        "kind" in data
        and data["kind"] != locked.kind
        and Answer.objects.filter(question=locked).exists()
    ):
        raise DomainError(
            gettext("People have answered this question: its kind cannot change.")
        )
    for field, value in data.items():
        if field in QUESTION_FIELDS:
            setattr(locked, field, value)
    locked.full_clean()
    locked.save()
    if sessions is not None:
        locked.sessions.set([s for s in sessions if s.event_id == locked.event_id])
    return locked


@transaction.atomic
def question_move(*, question: Question, up: bool) -> None:
    """Swaps a question with its neighbour above or below (a no-op at either end)."""
    Event.objects.select_for_update().filter(pk=question.event_id).first()
    ordered = list(
        Question.objects.filter(event_id=question.event_id).order_by("position", "pk")
    )
    index = next(i for i, q in enumerate(ordered) if q.pk == question.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(ordered):
        return
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered, start=1):
        item.position = position
    Question.objects.bulk_update(ordered, ["position"])


@transaction.atomic
def question_delete(*, question: Question) -> None:
    """Deletes a question nobody has answered; one with answers is retired instead."""
    locked = Question.objects.select_for_update().get(pk=question.pk)
    if Answer.objects.filter(question=locked).exists():
        raise DomainError(
            gettext(
                "People have answered this question: stop asking it instead, so "
                "that their answers stay."
            )
        )
    locked.delete()


@transaction.atomic
def question_set_active(*, question: Question, active: bool) -> Question:
    """Retires a question (no longer asked; its answers stay) or asks it again."""
    Question.objects.filter(pk=question.pk).update(active=active)
    question.active = active
    return question
