"""Console: one award batch, from decisions through approval to announcement.

The page always says where the batch stands and what the next step will do; the
irreversible steps (approve, announce) each have a confirmation page that spells
out their effects before the POST that carries them out.
"""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from config.problems import DomainError
from events.console.access import organiser_event
from events.models import Event

from .. import selectors, services
from ..errors import AwardNotFound
from ..models import AwardBatch, Nomination


def batch_in_event(event: Event, batch_id: int) -> AwardBatch:
    try:
        return selectors.batch_get_in_event(event=event, batch_id=batch_id)
    except AwardNotFound:
        raise Http404 from None


DECISIONS = [
    (Nomination.Status.AWARDED, gettext_lazy("Award")),
    (Nomination.Status.NOT_AWARDED, gettext_lazy("Do not award")),
    (Nomination.Status.SHORTLISTED, gettext_lazy("Shortlist")),
    (Nomination.Status.WITHDRAWN, gettext_lazy("Withdraw")),
]


class DecisionForm(forms.Form):
    nominations = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Nominations"), coerce=int
    )
    decision = forms.ChoiceField(label=gettext_lazy("Decision"), choices=DECISIONS)

    def __init__(self, *args: object, batch: AwardBatch, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["nominations"].choices = [  # type: ignore[attr-defined]
            (n.pk, str(n.pk)) for n in batch.nominations.all()
        ]
        self.fields["nominations"].error_messages["required"] = _(
            "Tick at least one nomination."
        )


def _counts(batch: AwardBatch) -> dict[str, int]:
    statuses = list(batch.nominations.values_list("status", flat=True))
    return {
        "total": len(statuses),
        "awarded": statuses.count(Nomination.Status.AWARDED),
        "not_awarded": statuses.count(Nomination.Status.NOT_AWARDED),
        "withdrawn": statuses.count(Nomination.Status.WITHDRAWN),
        "undecided": sum(1 for s in statuses if s not in Nomination.DECIDED),
    }


@organiser_event
def batch_detail(request: HttpRequest, event: Event, batch_id: int) -> HttpResponse:
    batch = batch_in_event(event, batch_id)
    form = DecisionForm(batch=batch)
    status = 200
    if request.method == "POST":
        if not batch.is_draft:
            messages.error(request, _("This batch can no longer be changed."))
            return redirect("awards_console:batch", slug=event.slug, batch_id=batch.pk)
        data = request.POST.copy()
        one = request.POST.get("one", "")
        if ":" in one:  # a row's own button: "<nomination>:<decision>"
            pk, _sep, decision = one.partition(":")
            data.setlist("nominations", [pk])
            data["decision"] = decision
        form = DecisionForm(data, batch=batch)
        if form.is_valid():
            try:
                changed = services.nominations_decide(
                    batch=batch,
                    nomination_ids=form.cleaned_data["nominations"],
                    status=form.cleaned_data["decision"],
                    actor=request.user,
                )
            except DomainError as exc:
                messages.error(request, exc.detail)
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(count)d nomination is now “%(status)s”.",
                        "%(count)d nominations are now “%(status)s”.",
                        changed,
                    )
                    % {
                        "count": changed,
                        "status": Nomination.Status(
                            form.cleaned_data["decision"]
                        ).label,
                    },
                )
            return redirect("awards_console:batch", slug=event.slug, batch_id=batch.pk)
        status = 400
    return render(
        request,
        "awards/console/batch.html",
        {
            "event": event,
            "batch": batch,
            "ranking": selectors.batch_ranking(batch),
            "counts": _counts(batch),
            "form": form,
            "decisions": DECISIONS,
            "reserved_seats": _reserved_seats(batch),
        },
        status=status,
    )


def _reserved_seats(batch: AwardBatch) -> int:
    session = batch.ceremony_session
    if session is None:
        return 0
    return session.registrations.filter(reserved=True, status="confirmed").count()


@organiser_event
def batch_approve(request: HttpRequest, event: Event, batch_id: int) -> HttpResponse:
    batch = batch_in_event(event, batch_id)
    error = None
    if request.method == "POST":
        try:
            services.batch_approve(batch=batch, actor=request.user)
        except DomainError as exc:
            error = exc.detail
        else:
            messages.success(
                request, _("The batch is approved and locked: it can be announced.")
            )
            return redirect("awards_console:batch", slug=event.slug, batch_id=batch.pk)
    unscored = (
        batch.nominations.exclude(status=Nomination.Status.WITHDRAWN)
        .exclude(reviews__score__isnull=False)
        .count()
    )
    return render(
        request,
        "awards/console/batch_approve.html",
        {
            "event": event,
            "batch": batch,
            "counts": _counts(batch),
            "error": error,
            "unscored": unscored,
            "judges": batch.judges.count(),
        },
        status=409 if error else 200,
    )


@organiser_event
def batch_announce(request: HttpRequest, event: Event, batch_id: int) -> HttpResponse:
    batch = batch_in_event(event, batch_id)
    error = None
    if request.method == "POST":
        try:
            services.batch_announce(batch=batch, actor=request.user)
        except DomainError as exc:
            error = exc.detail
        else:
            messages.success(
                request,
                _(
                    "The batch is announced: certificates are numbered, awardees "
                    "are being mailed and the honour roll shows them."
                ),
            )
            return redirect("awards_console:batch", slug=event.slug, batch_id=batch.pk)
    awarded = services.awarded_in_order(batch)
    with_email = [n for n in awarded if n.recipient.email]
    prefix = f"{batch.category.prefix}-{event.starts_on.year}-{batch.number:02d}"
    return render(
        request,
        "awards/console/batch_announce.html",
        {
            "event": event,
            "batch": batch,
            "awarded": awarded,
            "mailed": len(with_email),
            "first_number": f"{prefix}-001",
            "last_number": f"{prefix}-{len(awarded):03d}",
            "ceremony": batch.ceremony_session,
            "error": error,
        },
        status=409 if error else 200,
    )
