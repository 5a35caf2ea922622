"""Console: an event's award categories and batches, with where each batch stands."""

from typing import Any

from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from events.console.access import organiser_event
from events.console.home import HomeSection
from events.models import Event

from ..models import AwardBatch, AwardCategory


@organiser_event
def awards_index(request: HttpRequest, event: Event) -> HttpResponse:
    batches = AwardBatch.objects.select_related("ceremony_session").annotate(
        nominations_count=Count("nominations", distinct=True),
        awarded_count=Count(
            "nominations", filter=Q(nominations__status="awarded"), distinct=True
        ),
    )
    categories = AwardCategory.objects.filter(event=event).prefetch_related(
        Prefetch("batches", queryset=batches.order_by("number"))
    )
    return render(
        request,
        "awards/console/index.html",
        {"event": event, "categories": categories},
    )


def judge_home_section(user: Any) -> HomeSection | None:
    """The batches a judge scores, for the console's front page."""
    if not getattr(user, "is_authenticated", False):
        return None
    # The open batches; when none is open any more, the closed ones (their pages
    # read-only), so that a judge who signs in after the decision does not land
    # on an empty console.
    judged = list(
        AwardBatch.objects.filter(judges=user)
        .select_related("category__event")
        .order_by("-pk")
    )
    batches = [b for b in judged if b.is_draft] or judged
    links = [
        (
            f"{batch.category.event.title} · {batch.title}"
            + ("" if batch.is_draft else f" ({batch.get_status_display()})"),
            reverse("awards:judging", kwargs={"batch_id": batch.pk}),
        )
        for batch in batches
    ]
    if not links:
        return None
    return HomeSection(title=_("Batches you judge"), links=links)
