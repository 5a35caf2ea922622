"""Public award pages: the honour roll and certificate verification."""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.problems import DomainError

from . import selectors, services
from .errors import AwardNotFound, NotAllowed
from .models import AwardBatch, Review
from .selectors import order_by_run_of_show


class ReviewForm(forms.Form):
    nomination = forms.IntegerField(
        widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1
    )
    score = forms.IntegerField(
        label=gettext_lazy("Score (1-10)"), min_value=1, max_value=10
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    conflict_of_interest = forms.BooleanField(
        label=gettext_lazy("I have a conflict of interest"), required=False
    )


def honour_roll(request: HttpRequest) -> HttpResponse:
    district = request.GET.get("district", "").strip()[:100]
    batches = []
    for batch in selectors.honour_roll():
        awarded = order_by_run_of_show(batch, batch.awarded)  # type: ignore[attr-defined]
        if district:
            awarded = [
                n for n in awarded if district.lower() in n.recipient.district.lower()
            ]
        if awarded:
            batches.append({"batch": batch, "awarded": awarded})
    return render(
        request, "awards/honour_roll.html", {"batches": batches, "district": district}
    )


def verify(request: HttpRequest, number: str) -> HttpResponse:
    try:
        certificate = selectors.certificate_get_public(number=number)
    except AwardNotFound:
        raise Http404 from None
    return render(request, "awards/verify.html", {"certificate": certificate})


def _batch_for_organiser(request: HttpRequest, batch_id: int) -> AwardBatch:
    try:
        return selectors.batch_get_for_organiser(batch_id=batch_id, user=request.user)
    except (AwardNotFound, NotAllowed):
        raise Http404 from None


def _old_batch_url(page: str) -> "Callable[[HttpRequest, int], HttpResponse]":
    """The batch pages moved into the console; old links land on the new ones."""

    @login_required
    def view(request: HttpRequest, batch_id: int) -> HttpResponse:
        batch = _batch_for_organiser(request, batch_id)
        return redirect(
            page, slug=batch.category.event.slug, batch_id=batch.pk, permanent=True
        )

    return view


batch_manage = _old_batch_url("awards_console:batch")
run_of_show_edit = _old_batch_url("awards_console:run_of_show")
announcer_script = _old_batch_url("awards_console:script")


@login_required
def judging(request: HttpRequest, batch_id: int) -> HttpResponse:
    """A judge's nominations with their progress, and the score form."""
    try:
        batch, _organiser = selectors.batch_get_visible(
            batch_id=batch_id, user=request.user
        )
    except AwardNotFound:
        raise Http404 from None
    if not batch.judges.filter(pk=request.user.pk or 0).exists():
        raise Http404
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        nomination = batch.nominations.filter(
            pk=form.cleaned_data["nomination"]
        ).first()
        if nomination is None:
            raise Http404
        try:
            services.review_create(
                nomination=nomination,
                judge=request.user,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
                conflict_of_interest=form.cleaned_data["conflict_of_interest"],
            )
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, _("Your score is saved."))
        return redirect("awards:judging", batch_id=batch.pk)
    mine = {
        r.nomination_id: r
        for r in Review.objects.filter(
            nomination__batch=batch, judge_id=request.user.pk
        )
    }
    nominations = list(batch.nominations.select_related("recipient").order_by("pk"))
    return render(
        request,
        "awards/judging.html",
        {
            "batch": batch,
            "rows": [{"nomination": n, "review": mine.get(n.pk)} for n in nominations],
            "scored": len(mine),
            "total": len(nominations),
            "form": form,
        },
    )
