"""Reads of the awards app: who may see which batch, nominations with their scores."""

from typing import Any

from django.db.models import Avg, Count, Max, Min, Prefetch, Q, QuerySet

from events.models import Event

from .errors import AwardNotFound, NotAllowed
from .models import AwardBatch, AwardCategory, Certificate, District, Nomination


def _organised_events(user: Any) -> QuerySet[Event]:
    return Event.objects.for_organiser(user)


def category_get_for_organiser(*, category_id: int, user: Any) -> AwardCategory:
    category = (
        AwardCategory.objects.select_related("event")
        .filter(pk=category_id, event__in=_organised_events(user))
        .first()
        if 0 < category_id < 2**63
        else None
    )
    if category is None:
        raise AwardNotFound()
    return category


def batch_get_visible(*, batch_id: int, user: Any) -> tuple[AwardBatch, bool]:
    """A batch its organisers or judges may see, and whether the user organises it."""
    if not 0 < batch_id < 2**63 or not getattr(user, "is_authenticated", False):
        raise AwardNotFound()
    batch = (
        AwardBatch.objects.select_related("category__event", "ceremony_session")
        .filter(pk=batch_id)
        .filter(Q(category__event__in=_organised_events(user)) | Q(judges=user.pk))
        .distinct()
        .first()
    )
    if batch is None:
        raise AwardNotFound()
    organiser = _organised_events(user).filter(pk=batch.category.event_id).exists()
    return batch, organiser


def batch_get_for_organiser(*, batch_id: int, user: Any) -> AwardBatch:
    batch, organiser = batch_get_visible(batch_id=batch_id, user=user)
    if not organiser:
        raise NotAllowed()
    return batch


def batch_get_in_event(*, event: Event, batch_id: int) -> AwardBatch:
    """A batch of an event the caller already scoped to the organiser; else 404."""
    batch = (
        AwardBatch.objects.select_related("category__event", "ceremony_session")
        .filter(pk=batch_id, category__event=event)
        .first()
        if 0 < batch_id < 2**63
        else None
    )
    if batch is None:
        raise AwardNotFound()
    return batch


def batch_ranking(batch: AwardBatch) -> list[Nomination]:
    """The batch's nominations by mean score, best first, with how far judges differ.

    Each carries ``mean_score``, ``reviews_count``, ``low_score`` and ``high_score``
    (conflicts of interest left out of all but the count); unscored ones come last.
    """
    fair = Q(reviews__conflict_of_interest=False)
    nominations = (
        batch.nominations.select_related("recipient__district")
        .annotate(
            mean_score=Avg("reviews__score", filter=fair),
            reviews_count=Count("reviews"),
            low_score=Min("reviews__score", filter=fair),
            high_score=Max("reviews__score", filter=fair),
        )
        .order_by("pk")
    )
    return sorted(
        nominations,
        key=lambda n: (n.mean_score is None, -(n.mean_score or 0), n.pk),  # type: ignore[attr-defined]
    )


def nominations_with_scores(queryset: QuerySet[Nomination]) -> QuerySet[Nomination]:
    """``mean_score`` leaves out reviews that declare a conflict of interest."""
    return queryset.select_related("recipient__district").annotate(
        mean_score=Avg("reviews__score", filter=Q(reviews__conflict_of_interest=False)),
        reviews_count=Count("reviews"),
    )


def nomination_get_visible(*, nomination_id: int, user: Any) -> tuple[Nomination, bool]:
    if not 0 < nomination_id < 2**63:
        raise AwardNotFound()
    nomination = (
        Nomination.objects.select_related("batch__category__event", "recipient")
        .filter(pk=nomination_id)
        .first()
    )
    if nomination is None:
        raise AwardNotFound()
    _batch, organiser = batch_get_visible(batch_id=nomination.batch_id, user=user)
    return nomination, organiser


def _text_matches(prefix: str, fields: tuple[str, ...], words: str) -> Q:
    """Any of the fields contains the words, in either language."""
    match = Q()
    for name in fields:
        for suffix in ("en", "zh_hans"):
            match |= Q(**{f"{prefix}{name}_{suffix}__icontains": words})
    return match


def honour_roll(
    *,
    district: str = "",
    search: str = "",
    batch_id: int | None = None,
    category_id: int | None = None,
    event: Event | None = None,
) -> QuerySet[AwardBatch]:
    """Announced batches with their awarded nominations (``awarded``), each batch
    holding at least one awardee that fits the filters.

    ``district`` matches a district's name in either language (letter case aside),
    ``search`` also the awardee's name, title, affiliation, street and community.
    """
    awarded = Q(status=Nomination.Status.AWARDED)
    district = " ".join(district.split())
    search = " ".join(search.split())
    if district:
        awarded &= _text_matches("recipient__district__", ("name",), district)
    if search:
        awarded &= _text_matches(
            "recipient__",
            ("name", "title", "affiliation", "street", "community"),
            search,
        ) | _text_matches("recipient__district__", ("name",), search)
    batches = AwardBatch.objects.filter(status=AwardBatch.Status.ANNOUNCED)
    if event is not None:
        batches = batches.filter(category__event=event)
    if batch_id is not None:
        batches = batches.filter(pk=batch_id)
    if category_id is not None:
        batches = batches.filter(category_id=category_id)
    if district or search:
        batches = batches.filter(
            pk__in=Nomination.objects.filter(awarded).values("batch_id")
        )
    return (
        batches.select_related("category__event")
        .prefetch_related(
            Prefetch(
                "nominations",
                queryset=Nomination.objects.filter(awarded)
                .select_related("recipient__district")
                .prefetch_related("certificates")
                .order_by("pk"),
                to_attr="awarded",
            )
        )
        .order_by("category__event__starts_on", "category_id", "number")
    )


def honour_roll_choices() -> tuple[QuerySet[AwardBatch], QuerySet[AwardCategory]]:
    """The announced batches, and their categories, to filter the honour roll by."""
    batches = (
        AwardBatch.objects.filter(status=AwardBatch.Status.ANNOUNCED)
        .select_related("category__event")
        .order_by("category__event__starts_on", "category_id", "number")
    )
    categories = (
        AwardCategory.objects.filter(batches__status=AwardBatch.Status.ANNOUNCED)
        .distinct()
        .order_by("event__starts_on", "pk")
    )
    return batches, categories


def districts_of_event(event: Event) -> QuerySet[District]:
    """The event's district list, with how many recipients each has."""
    return (
        District.objects.filter(event=event)
        .annotate(recipients_count=Count("recipients"))
        .order_by("pk")
    )


def certificate_get_public(*, number: str) -> Certificate:
    certificate = (
        Certificate.objects.select_related(
            "nomination__recipient__district", "batch__category__event"
        )
        .filter(
            number=number.strip().upper(), batch__status=AwardBatch.Status.ANNOUNCED
        )
        .first()
        if number and len(number) <= 40 and all(c.isalnum() or c == "-" for c in number)
        else None
    )
    if certificate is None:
        raise AwardNotFound()
    return certificate


def positive_id(value: str | None) -> int | None:
    """An id as typed in a query string; None for anything else."""
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        return None
    return int(value) or None


def _typed_text(value: str | None, limit: int) -> str:
    """What a reader typed, without control characters (PostgreSQL refuses NUL in
    a text value: a search for it would be a 500)."""
    return "".join(c for c in (value or "") if c.isprintable())[:limit]


def honour_roll_filters(query: Any) -> dict[str, Any]:
    """The honour roll's filters from a query string: district, q, batch, category."""
    return {
        "district": _typed_text(query.get("district"), 100),
        "search": _typed_text(query.get("q"), 200),
        "batch_id": positive_id(query.get("batch")),
        "category_id": positive_id(query.get("category")),
    }


def order_by_run_of_show(
    batch: AwardBatch, nominations: list[Nomination]
) -> list[Nomination]:
    awarded = {n.pk: n for n in nominations}
    ordered = []
    for group in (batch.run_of_show or {}).get("groups", []):
        for pk in group.get("nominations", []):
            if pk in awarded:
                ordered.append(awarded.pop(pk))
    return ordered + sorted(awarded.values(), key=lambda n: n.pk)
