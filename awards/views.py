"""Public award pages: the honour roll and certificate verification; the judges'
pages: their welcome (choose a password) and the judging page.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from config.problems import DomainError
from events.models import Event
from events.validators import clean_free_text

from . import selectors, services
from .errors import AwardNotFound, BatchLocked, NotAllowed
from .models import AwardBatch, Nomination, Review
from .selectors import order_by_run_of_show
from .tokens import account_serves_one_event, judge_invitation_token


def honour_roll(request: HttpRequest) -> HttpResponse:
    """Everyone awarded, in the reader's language; found by district (either
    language), by words, by batch and by category."""
    filters = selectors.honour_roll_filters(request.GET)
    batches = [
        {
            "batch": batch,
            "awarded": order_by_run_of_show(batch, batch.awarded),  # type: ignore[attr-defined]
        }
        for batch in selectors.honour_roll(**filters)
    ]
    batch_choices, category_choices = selectors.honour_roll_choices()
    return render(
        request,
        "awards/honour_roll.html",
        {
            "batches": batches,
            "district": filters["district"].strip(),
            "search": filters["search"].strip(),
            "batch_id": filters["batch_id"],
            "category_id": filters["category_id"],
            "filtered": any(filters.values()),
            "batch_choices": batch_choices,
            "category_choices": category_choices,
        },
    )


def verify(request: HttpRequest, number: str) -> HttpResponse:
    try:
        certificate = selectors.certificate_get_public(number=number)
    except AwardNotFound:
        # Said plainly, with the form to try again: a typo is the usual cause.
        return render(
            request,
            "awards/verify_lookup.html",
            {"number": number[:40], "not_found": True},
            status=404,
        )
    event = certificate.batch.category.event
    # The issuing event's logo and colour, where its own pages are public too.
    public = event.status in (Event.Status.PUBLISHED, Event.Status.CANCELLED)
    return render(
        request,
        "awards/verify.html",
        {"certificate": certificate, "event": event if public else None},
    )


def verify_lookup(request: HttpRequest) -> HttpResponse:
    """A certificate number typed in (or read off the paper) leads to its page."""
    number = request.GET.get("number", "").strip().upper().replace(" ", "")[:40]
    if number and all(c.isascii() and (c.isalnum() or c == "-") for c in number):
        return redirect("awards:verify", number=number)
    return render(
        request,
        "awards/verify_lookup.html",
        {"number": number, "invalid": bool(number)},
        status=400 if number else 200,
    )


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


class ReviewRowForm(forms.Form):
    """One nomination's row of the judging page (prefix ``n<nomination id>``)."""

    score = forms.IntegerField(
        label=gettext_lazy("Score (1-10)"), min_value=1, max_value=10, required=False
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"),
        required=False,
        max_length=5000,
        validators=[clean_free_text],
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    conflict_of_interest = forms.BooleanField(
        label=gettext_lazy("I have a conflict of interest"), required=False
    )

    def __init__(self, *args: Any, review: Review | None = None, **kwargs: Any) -> None:
        self.review = review
        if review is not None and not args:
            kwargs["initial"] = {
                "score": review.score,
                "comment": review.comment,
                "conflict_of_interest": review.conflict_of_interest,
            }
        super().__init__(*args, **kwargs)

    @property
    def blank(self) -> bool:
        """Nothing filled in where nothing was saved: not an error, nothing to save."""
        data = self.cleaned_data
        return (
            self.review is None
            and data.get("score") is None
            and not data.get("comment")
            and not data.get("conflict_of_interest")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            not self.errors
            and not data.get("conflict_of_interest")
            and data.get("score") is None
            and not self.blank
        ):
            self.add_error(
                "score",
                _("Give a score from 1 to 10, or declare a conflict of interest."),
            )
        return data

    def entry(self, nomination_id: int) -> services.ReviewEntry:
        data = self.cleaned_data
        return services.ReviewEntry(
            nomination_id=nomination_id,
            score=data.get("score"),
            comment=data.get("comment", ""),
            conflict_of_interest=bool(data.get("conflict_of_interest")),
        )


def _batch_for_judge(request: HttpRequest, batch_id: int) -> AwardBatch:
    try:
        batch, _organiser = selectors.batch_get_visible(
            batch_id=batch_id, user=request.user
        )
    except AwardNotFound:
        raise Http404 from None
    if not batch.judges.filter(pk=request.user.pk or 0).exists():
        raise Http404
    return batch


def _progress(scored: int, total: int) -> str:
    return _("Scored %(scored)s of %(total)s") % {"scored": scored, "total": total}


def _row_errors(form: ReviewRowForm) -> list[str]:
    return [str(error) for errors in form.errors.values() for error in errors]


@login_required
def judging(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Every open nomination of the batch in one form, with the judge's progress.

    Without JavaScript the one Save button posts every row; judging.js posts a row
    (``only=<id>``, answered in JSON) as soon as one of its fields changes. Rows are
    checked one by one: a bad row is not saved and says why; the good ones are.
    """
    batch = _batch_for_judge(request, batch_id)
    nominations = list(
        batch.nominations.exclude(status=Nomination.Status.WITHDRAWN)
        .select_related("recipient__district")
        .order_by("pk")
    )
    mine = {
        r.nomination_id: r
        for r in Review.objects.filter(
            nomination__in=nominations, judge_id=request.user.pk
        )
    }
    only = request.POST.get("only", "") if request.method == "POST" else ""
    as_json = bool(only)
    forms_by_pk: dict[int, ReviewRowForm] = {}
    status = 200
    if request.method == "POST":
        targets = nominations
        if only:
            targets = [n for n in nominations if str(n.pk) == only]
            if not targets:
                raise Http404
        for nomination in targets:
            forms_by_pk[nomination.pk] = ReviewRowForm(
                request.POST, prefix=f"n{nomination.pk}", review=mine.get(nomination.pk)
            )
        valid = {pk: f for pk, f in forms_by_pk.items() if f.is_valid()}
        bad = [pk for pk in forms_by_pk if pk not in valid]
        entries = [f.entry(pk) for pk, f in valid.items() if not f.blank]
        error = None
        try:
            if not batch.is_draft:
                raise BatchLocked()
            if entries:
                services.reviews_save(batch=batch, judge=request.user, entries=entries)
        except DomainError as exc:
            error = exc.detail
        scored = Review.objects.filter(
            nomination__in=nominations, judge_id=request.user.pk
        ).count()
        if as_json:
            form = forms_by_pk[targets[0].pk]
            answer = {
                "saved": error is None and not bad,
                "errors": [error] if error else _row_errors(form),
                "scored": scored,
                "total": len(nominations),
                "progress": _progress(scored, len(nominations)),
            }
            code = 409 if error else (400 if bad else 200)
            return JsonResponse(answer, status=code)
        if error:
            messages.error(request, error)
            return redirect("awards:judging", batch_id=batch.pk)
        if not bad:
            messages.success(request, _("Your scores are saved."))
            return redirect("awards:judging", batch_id=batch.pk)
        messages.error(
            request,
            ngettext(
                "%(count)d row is not saved: see the message in it. The others are saved.",
                "%(count)d rows are not saved: see the message in each. The others are saved.",
                len(bad),
            )
            % {"count": len(bad)},
        )
        status = 400
        mine = {
            r.nomination_id: r
            for r in Review.objects.filter(
                nomination__in=nominations, judge_id=request.user.pk
            )
        }
        # Saved rows show what is saved; bad rows keep what the judge typed.
        for pk in valid:
            forms_by_pk[pk] = ReviewRowForm(prefix=f"n{pk}", review=mine.get(pk))
    rows = []
    for nomination in nominations:
        review = mine.get(nomination.pk)
        form = forms_by_pk.get(nomination.pk) or ReviewRowForm(
            prefix=f"n{nomination.pk}", review=review
        )
        rows.append({"nomination": nomination, "review": review, "form": form})
    return render(
        request,
        "awards/judging.html",
        {
            "batch": batch,
            "rows": rows,
            "scored": len(mine),
            "total": len(nominations),
            "scores": range(1, 11),
        },
        status=status,
    )


def _batch_id(value: str) -> int | None:
    """A batch id as typed in a link: ASCII digits only ("²" is a digit to Python)."""
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        return None
    return int(value) if int(value) > 0 else None


class JudgeWelcomeView(auth_views.PasswordResetConfirmView):
    """The invitation's one-time link: choose a password, be signed in, judge.

    Django's password-reset check: the token stops working once the password is
    set or the judge signs in, and after PASSWORD_RESET_TIMEOUT. The batch to land
    on rides in ``?batch=``, kept across the step that hides the token from the URL.
    """

    template_name = "awards/judge_welcome.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    token_generator = judge_invitation_token

    def get_user(self, uidb64: str) -> Any:
        user = super().get_user(uidb64)
        # Checked again now, not only when the invitation was written: an account
        # that has since gained another role is not opened by this link.
        if user is None or not account_serves_one_event(user):
            return None
        return user

    def dispatch(self, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = super().dispatch(*args, **kwargs)
        batch = self.request.GET.get("batch", "")
        if (
            not self.validlink
            and isinstance(response, HttpResponseRedirect)
            and _batch_id(batch) is not None
        ):
            response["Location"] = f"{response['Location']}?batch={_batch_id(batch)}"
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        batch = self._batch()
        context["batch"] = batch
        if self.validlink and self.user is not None:
            context["email"] = self.user.email or self.user.get_username()
        sign_in = reverse("login")
        if batch is not None:
            judging_url = reverse("awards:judging", kwargs={"batch_id": batch.pk})
            sign_in = f"{sign_in}?next={judging_url}"
        context["sign_in_url"] = sign_in
        return context

    def _batch(self) -> AwardBatch | None:
        batch_id = _batch_id(self.request.GET.get("batch", ""))
        if batch_id is None or self.user is None:
            return None
        return (
            AwardBatch.objects.select_related("category__event")
            .filter(pk=batch_id, judges=self.user)
            .first()
        )

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(
            self.request, _("Your password is saved and you are signed in.")
        )
        return response

    def get_success_url(self) -> str:
        batch = self._batch()
        if batch is None:
            return reverse("console:home")
        return reverse("awards:judging", kwargs={"batch_id": batch.pk})
