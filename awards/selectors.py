"""Reads of the awards app: who may see which batch, nominations with their scores."""

from typing import Any

from django.db.models import Avg, Count, Max, Min, Prefetch, Q, QuerySet

from events.models import Event

from .errors import AwardNotFound, NotAllowed
from .models import AwardBatch, AwardCategory, Certificate, Nomination


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
        batch.nominations.select_related("recipient")
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
    return queryset.select_related("recipient").annotate(
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


def honour_roll() -> QuerySet[AwardBatch]:
    return (
        AwardBatch.objects.filter(status=AwardBatch.Status.ANNOUNCED)
        .select_related("category__event")
        .prefetch_related(
            Prefetch(
                "nominations",
                queryset=Nomination.objects.filter(status=Nomination.Status.AWARDED)
                .select_related("recipient")
                .prefetch_related("certificates")
                .order_by("pk"),
                to_attr="awarded",
            )
        )
        .order_by("category__event__starts_on", "category_id", "number")
    )


def certificate_get_public(*, number: str) -> Certificate:
    certificate = (
        Certificate.objects.select_related(
            "nomination__recipient", "batch__category__event"
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
