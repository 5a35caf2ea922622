"""Console: the judges of one award batch: who has scored how much, invite by
email, remind, remove (behind a confirmation). Every step goes through the same
services as the API and is in the audit log.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.problems import DomainError
from events.console.access import organiser_event
from events.models import Event

from .. import services
from ..models import AwardBatch, Nomination, Review
from .batches import batch_in_event

PAGE_SIZE = 50


class JudgeInviteForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Email"),
        # The address becomes the judge's user name, which holds 150 characters.
        max_length=150,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the invitation"),
        choices=settings.LANGUAGES,
        initial="zh-hans",
    )


def _judge_in_batch(batch: AwardBatch, user_id: int) -> Any:
    judge = batch.judges.filter(pk=user_id).first() if 0 < user_id < 2**63 else None
    if judge is None:
        raise Http404
    return judge


def _open_nominations(batch: AwardBatch) -> Any:
    return batch.nominations.exclude(status=Nomination.Status.WITHDRAWN)


def _to_judges(event: Event, batch: AwardBatch) -> HttpResponse:
    return redirect("awards_console:judges", slug=event.slug, batch_id=batch.pk)


@organiser_event
def judges(request: HttpRequest, event: Event, batch_id: int) -> HttpResponse:
    batch = batch_in_event(event, batch_id)
    form = JudgeInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            judge = services.judge_invite(
                batch=batch,
                email=form.cleaned_data["email"],
                language=form.cleaned_data["language"],
                actor=request.user,
            )
        except DomainError as exc:
            form.add_error(None, exc.detail)
        else:
            messages.success(
                request,
                _("%(email)s is a judge of this batch; the invitation is on its way.")
                % {"email": judge.email},
            )
            return _to_judges(event, batch)
    total = _open_nominations(batch).count()
    open_statuses = [
        s for s in Nomination.Status.values if s != Nomination.Status.WITHDRAWN
    ]
    this_batch = Q(
        award_reviews__nomination__batch=batch,
        award_reviews__nomination__status__in=open_statuses,
    )
    judged = (
        batch.judges.annotate(
            scored=Count("award_reviews", filter=this_batch),
            conflicts=Count(
                "award_reviews",
                filter=this_batch & Q(award_reviews__conflict_of_interest=True),
            ),
        )
        .order_by("email", "pk")
        .only("pk", "email", "username", "last_login", "password")
    )
    page = Paginator(judged, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "awards/console/judges.html",
        {
            "event": event,
            "batch": batch,
            "page": page,
            "total": total,
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@organiser_event
def judge_remind(
    request: HttpRequest, event: Event, batch_id: int, user_id: int
) -> HttpResponse:
    batch = batch_in_event(event, batch_id)
    judge = _judge_in_batch(batch, user_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.judge_remind(batch=batch, judge=judge, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(
            request,
            _("A reminder to %(email)s is on its way.") % {"email": judge.email},
        )
    return _to_judges(event, batch)


@organiser_event
def judge_remove(
    request: HttpRequest, event: Event, batch_id: int, user_id: int
) -> HttpResponse:
    batch = batch_in_event(event, batch_id)
    judge = _judge_in_batch(batch, user_id)
    error = None
    if request.method == "POST":
        try:
            services.judge_remove(batch=batch, judge=judge, actor=request.user)
        except DomainError as exc:
            error = exc.detail
        else:
            messages.success(
                request,
                _("%(email)s no longer judges this batch; their scores stay.")
                % {"email": judge.email},
            )
            return _to_judges(event, batch)
    reviews = Review.objects.filter(nomination__batch=batch, judge=judge).count()
    return render(
        request,
        "awards/console/judge_remove.html",
        {
            "event": event,
            "batch": batch,
            "judge": judge,
            "reviews": reviews,
            "error": error,
        },
        status=409 if error else 200,
    )
