"""Console: a batch's certificates (download, revoke with a reason, reissue) and the
exports of an event's awards (honour roll as CSV and as a printable page, a batch's
scores as CSV)."""

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from config.problems import DomainError
from events.console.access import organiser_event
from events.exports import csv_cell
from events.models import Event

from .. import selectors, services
from ..models import AwardBatch, Certificate, Nomination, Review
from .batches import batch_in_event
from .forms import RevokeForm


def _certificate_in_batch(batch: AwardBatch, number: str) -> Certificate:
    certificate = (
        batch.certificates.select_related("nomination__recipient", "replaces")
        .filter(number=number)
        .first()
    )
    if certificate is None:
        raise Http404
    return certificate


@organiser_event
def certificate_list(request: HttpRequest, event: Event, batch_id: int) -> HttpResponse:
    batch = batch_in_event(event, batch_id)
    certificates = batch.certificates.select_related(
        "nomination__recipient", "replaces"
    ).order_by("sequence")
    replaced = set(
        Certificate.objects.filter(replaces__batch=batch).values_list(
            "replaces_id", flat=True
        )
    )
    return render(
        request,
        "awards/console/certificates.html",
        {
            "event": event,
            "batch": batch,
            "certificates": certificates,
            "replaced": replaced,
        },
    )


@organiser_event
def certificate_revoke(
    request: HttpRequest, event: Event, batch_id: int, number: str
) -> HttpResponse:
    batch = batch_in_event(event, batch_id)
    certificate = _certificate_in_batch(batch, number)
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.certificate_revoke(
            certificate=certificate,
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )
        messages.success(
            request,
            _("Certificate %(number)s is revoked; its verification page says so.")
            % {"number": certificate.number},
        )
        return redirect(
            "awards_console:certificates", slug=event.slug, batch_id=batch.pk
        )
    return render(
        request,
        "awards/console/certificate_revoke.html",
        {"event": event, "batch": batch, "certificate": certificate, "form": form},
        status=400 if form.errors else 200,
    )


@organiser_event
def certificate_reissue(
    request: HttpRequest, event: Event, batch_id: int, number: str
) -> HttpResponse:
    batch = batch_in_event(event, batch_id)
    certificate = _certificate_in_batch(batch, number)
    error = None
    if request.method == "POST":
        try:
            new = services.certificate_reissue(
                certificate=certificate, actor=request.user
            )
        except DomainError as exc:
            error = exc.detail
        else:
            messages.success(
                request,
                _("Certificate %(new)s is issued in place of %(old)s.")
                % {"new": new.number, "old": certificate.number},
            )
            return redirect(
                "awards_console:certificates", slug=event.slug, batch_id=batch.pk
            )
    return render(
        request,
        "awards/console/certificate_reissue.html",
        {"event": event, "batch": batch, "certificate": certificate, "error": error},
        status=409 if error else 200,
    )


def _csv_response(rows: Iterable[list[Any]], filename: str) -> StreamingHttpResponse:
    def chunks() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        yield "\ufeff"  # spreadsheet programs then read UTF-8, and Chinese, right
        for row in rows:
            writer.writerow([csv_cell(value) for value in row])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    response = StreamingHttpResponse(chunks(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _honour_roll(event: Event) -> list[dict[str, Any]]:
    batches = selectors.honour_roll(event=event)
    return [
        {
            "batch": batch,
            "awarded": selectors.order_by_run_of_show(batch, batch.awarded),  # type: ignore[attr-defined]
        }
        for batch in batches
    ]


@organiser_event
def honour_roll_csv(request: HttpRequest, event: Event) -> StreamingHttpResponse:
    def rows() -> Iterator[list[Any]]:
        yield [
            "category",
            "batch_number",
            "batch",
            "announced_at",
            "name",
            "kind",
            "title",
            "affiliation",
            "district",
            "certificate_number",
            "certificate_status",
            "name_zh_hans",
            "name_en",
            "district_zh_hans",
            "district_en",
        ]
        for entry in _honour_roll(event):
            batch = entry["batch"]
            for nomination in entry["awarded"]:
                person = nomination.recipient
                certificate = nomination.certificate
                yield [
                    batch.category.name,
                    batch.number,
                    batch.title,
                    batch.announced_at,
                    person.name,
                    person.kind,
                    person.title,
                    person.affiliation,
                    person.district,
                    certificate.number if certificate else "",
                    certificate.status if certificate else "",
                    person.name_zh_hans,
                    person.name_en,
                    person.district.name_zh_hans if person.district else "",
                    person.district.name_en if person.district else "",
                ]

    return _csv_response(rows(), f"{event.slug}-honour-roll.csv")


@organiser_event
def honour_roll_print(request: HttpRequest, event: Event) -> HttpResponse:
    return render(
        request,
        "awards/console/honour_roll_print.html",
        {"event": event, "entries": _honour_roll(event)},
    )


@organiser_event
def scores_csv(
    request: HttpRequest, event: Event, batch_id: int
) -> StreamingHttpResponse:
    batch = batch_in_event(event, batch_id)
    ranking = selectors.batch_ranking(batch)
    nominations = Nomination.objects.filter(batch=batch).prefetch_related(
        Prefetch(
            "reviews",
            queryset=Review.objects.select_related("judge").order_by("judge__email"),
        )
    )
    reviews = {n.pk: list(n.reviews.all()) for n in nominations}

    def rows() -> Iterator[list[Any]]:
        yield [
            "rank",
            "nomination",
            "name",
            "district",
            "status",
            "mean_score",
            "reviews",
            "judge",
            "score",
            "conflict_of_interest",
            "comment",
        ]
        for rank, nomination in enumerate(ranking, start=1):
            mean = nomination.mean_score  # type: ignore[attr-defined]
            head = [
                rank,
                nomination.pk,
                nomination.recipient.name,
                nomination.recipient.district,
                nomination.status,
                f"{mean:.2f}" if mean is not None else "",
                nomination.reviews_count,  # type: ignore[attr-defined]
            ]
            if not reviews.get(nomination.pk):
                yield [*head, "", "", "", ""]
            for review in reviews.get(nomination.pk, []):
                yield [
                    *head,
                    review.judge.email or review.judge.get_username(),
                    review.score,
                    "yes" if review.conflict_of_interest else "no",
                    review.comment,
                ]

    return _csv_response(rows(), f"{event.slug}-batch-{batch.number}-scores.csv")
