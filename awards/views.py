"""Public award pages: the honour roll and certificate verification."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.problems import DomainError
from events.validators import no_control_characters

from . import selectors, services
from .errors import AwardNotFound, NotAllowed
from .models import AwardBatch, Nomination, Review
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


@login_required
def batch_manage(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The organiser's batch: ranking by mean score, approve and announce."""
    batch = _batch_for_organiser(request, batch_id)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "approve":
                services.batch_approve(batch=batch, actor=request.user)
                messages.success(request, _("The batch is approved and locked."))
            elif action == "announce":
                services.batch_announce(batch=batch, actor=request.user)
                messages.success(
                    request,
                    _(
                        "The batch is announced: certificates numbered, awardees mailed."
                    ),
                )
        except DomainError as exc:
            messages.error(request, exc.detail)
        return redirect("awards:batch_manage", batch_id=batch.pk)
    ranking = sorted(
        selectors.nominations_with_scores(batch.nominations.all()),
        key=lambda n: (n.mean_score is None, -(n.mean_score or 0), n.pk),  # type: ignore[attr-defined]
    )
    return render(
        request, "awards/batch_manage.html", {"batch": batch, "ranking": ranking}
    )


@login_required
def run_of_show_edit(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Groups of awardees called up together, each with a presenter; no JavaScript needed."""
    batch = _batch_for_organiser(request, batch_id)
    awarded = services.awarded_in_order(batch)
    locked = services.ceremony_has_started(batch)
    position = {
        pk: (number, order)
        for number, group in enumerate(batch.run_of_show.get("groups", []), start=1)
        for order, pk in enumerate(group.get("nominations", []), start=1)
    }
    presenters = {
        number: group.get("presenter", "")
        for number, group in enumerate(batch.run_of_show.get("groups", []), start=1)
    }
    group_count = max(len(presenters), (len(awarded) + 4) // 5, 1)
    if request.method == "POST" and not locked:
        groups: dict[int, list[tuple[int, int]]] = {}
        for index, nomination in enumerate(awarded):
            number = _int(
                request.POST.get(f"group-{nomination.pk}"),
                default=1,
                low=1,
                high=group_count,
            )
            order = _int(
                request.POST.get(f"order-{nomination.pk}"),
                default=index + 1,
                low=1,
                high=10_000,
            )
            groups.setdefault(number, []).append((order, nomination.pk))
        typed = {
            number: request.POST.get(f"presenter-{number}", "").strip()
            for number in range(1, group_count + 1)
        }
        presenter_errors = _presenter_errors(typed)
        if presenter_errors:
            # Refused as the API refuses it; the organiser sees what they typed.
            return render(
                request,
                "awards/run_of_show.html",
                {
                    "batch": batch,
                    "rows": _run_of_show_rows(awarded, position),
                    "groups": [
                        (n, typed[n], presenter_errors.get(n))
                        for n in range(1, group_count + 1)
                    ],
                    "locked": locked,
                },
                status=400,
            )
        payload = [
            {
                "presenter": typed.get(number, ""),
                "nominations": [pk for _order, pk in sorted(groups[number])],
            }
            for number in sorted(groups)
        ]
        try:
            services.run_of_show_update(batch=batch, groups=payload, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, _("The run-of-show is saved."))
        return redirect("awards:run_of_show", batch_id=batch.pk)
    return render(
        request,
        "awards/run_of_show.html",
        {
            "batch": batch,
            "rows": _run_of_show_rows(awarded, position),
            "groups": [
                (n, presenters.get(n, ""), None) for n in range(1, group_count + 1)
            ],
            "locked": locked,
        },
    )


def _presenter_errors(typed: dict[int, str]) -> dict[int, str]:
    """The messages of presenters the API would refuse, by group number."""
    errors = {}
    for number, presenter in typed.items():
        if len(presenter) > 200:
            errors[number] = _("Give at most 200 characters.")
            continue
        try:
            no_control_characters(presenter)
        except ValidationError as exc:
            errors[number] = " ".join(exc.messages)
    return errors


def _run_of_show_rows(
    awarded: list[Nomination], position: dict[int, tuple[int, int]]
) -> list[dict[str, Any]]:
    return [
        {
            "nomination": n,
            "group": position.get(n.pk, (1 + i // 5, 0))[0],
            "order": position.get(n.pk, (0, i + 1))[1] or i + 1,
        }
        for i, n in enumerate(awarded)
    ]


def _int(value: str | None, *, default: int, low: int, high: int) -> int:
    try:
        number = int(value or "")
    except ValueError:
        return default
    return min(max(number, low), high)


@login_required
def announcer_script(request: HttpRequest, batch_id: int) -> HttpResponse:
    """A printable script: who presents, whom to call up, in order."""
    batch = _batch_for_organiser(request, batch_id)
    awarded = {n.pk: n for n in services.awarded_in_order(batch)}
    groups = [
        {
            "presenter": group.get("presenter", ""),
            "nominations": [
                awarded[pk] for pk in group.get("nominations", []) if pk in awarded
            ],
        }
        for group in batch.run_of_show.get("groups", [])
    ]
    placed = {n.pk for g in groups for n in g["nominations"]}
    unplaced = [n for pk, n in awarded.items() if pk not in placed]
    if unplaced:
        groups.append({"presenter": "", "nominations": unplaced})
    return render(request, "awards/script.html", {"batch": batch, "groups": groups})


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
