"""Public award pages: the honour roll and certificate verification."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from . import selectors
from .errors import AwardNotFound
from .services import order_by_run_of_show


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
