"""Console: check-in at the door, made for a phone.

The page scans the ticket's QR code with the camera (static/console/checkin.js)
and posts each code to :func:`scan`, which answers JSON; without a camera or
JavaScript the same page takes a typed code and searches by name, phone or code.
Both go through ``services.registration_check_in``, the API's service: its
conditional UPDATE lets several doors scan at once without counting anyone twice.
"""

from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from config.security import allow_camera

from .. import selectors, services
from ..errors import NotActive, RegistrationNotFound
from ..forms import CheckInForm
from ..models import Event, Registration, Session
from .access import organiser_event

SEARCH_PAGE_SIZE = 20

# HTTP status of each result, for the form and the JSON endpoint alike.
STATUS = {"ok": 200, "already": 200, "not_found": 404, "not_active": 409}


class SearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Name, phone or ticket code"),
        max_length=100,
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "enterkeyhint": "search"}
        ),
    )


def _hh_mm(event: Event, at: Any) -> str:
    return timezone.localtime(at, event.tzinfo).strftime("%H:%M") if at else ""


def _not_today(event: Event, session: Session) -> str:
    """A note when the ticket's session does not take place today (event's zone).

    The person is checked in all the same: the door decides whether to let them in.
    """
    zone = event.tzinfo
    today = timezone.localdate(timezone=zone)
    first = timezone.localtime(session.starts_at, zone).date()
    last = timezone.localtime(session.ends_at, zone).date()
    if first <= today <= last:
        return ""
    return _("This ticket is for %(session)s on %(date)s, not today.") % {
        "session": session.title,
        "date": date_format(first, "DATE_FORMAT"),
    }


def check_in_result(*, event: Event, code: str) -> dict[str, Any]:
    """Checks a code in and describes the outcome for the person at the door."""
    result: dict[str, Any] = {
        "result": "not_found",
        "code": services.normalise_code(code),
        "name": "",
        "session": "",
        "checked_in_at": "",
        "warning": "",
    }
    try:
        registration, already = services.registration_check_in(event=event, code=code)
    except RegistrationNotFound:
        result["headline"] = _("Not registered for this event")
        result["detail"] = _("No ticket of this event has this code.")
        return result
    except NotActive:
        registration = selectors.registration_get_for_event(event=event, code=code)
        result["result"] = "not_active"
        result["headline"] = _("Not registered for this event")
        if registration.status == Registration.Status.WAITLISTED:
            result["detail"] = _(
                "On the waiting list (number %(position)s), not confirmed."
            ) % {"position": registration.waitlist_position}
        else:
            result["detail"] = _("This registration is cancelled.")
    else:
        at = _hh_mm(event, registration.checked_in_at)
        result["result"] = "already" if already else "ok"
        result["checked_in_at"] = at
        result["headline"] = (
            _("Already checked in at %(time)s") % {"time": at}
            if already
            else _("Checked in")
        )
        result["detail"] = ""
        result["warning"] = _not_today(event, registration.session)
    result["code"] = registration.code
    result["name"] = registration.full_name
    result["session"] = registration.session.title
    return result


def _page(
    request: HttpRequest,
    event: Event,
    *,
    form: CheckInForm,
    result: dict[str, Any] | None = None,
    query: str = "",
    status: int = 200,
) -> HttpResponse:
    search = SearchForm({"q": query} if query else None)
    results = None
    if query and search.is_valid():
        found = selectors.registration_search_for_check_in(
            event=event, query=search.cleaned_data["q"]
        )
        results = Paginator(found, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
        for registration in results:
            registration.checked_in_time = _hh_mm(event, registration.checked_in_at)  # type: ignore[attr-defined]
    return render(
        request,
        "console/check_in.html",
        {
            "event": event,
            "form": form,
            "search": search,
            "query": query,
            "results": results,
            "result": result,
            "counts": selectors.check_in_counts(event=event),
        },
        status=status,
    )


@organiser_event
@allow_camera
@require_http_methods(["GET", "POST"])
def check_in(request: HttpRequest, event: Event) -> HttpResponse:
    """The door page; a POST checks a typed (or searched) code in."""
    if request.method != "POST":
        return _page(request, event, form=CheckInForm(), query=request.GET.get("q", ""))
    form = CheckInForm(request.POST)
    query = request.POST.get("q", "")
    if not form.is_valid():
        return _page(request, event, form=form, query=query, status=400)
    result = check_in_result(event=event, code=form.cleaned_data["code"])
    return _page(
        request,
        event,
        form=CheckInForm(),
        result=result,
        query=query,
        status=STATUS[result["result"]],
    )


@organiser_event
@require_POST
def scan(request: HttpRequest, event: Event) -> JsonResponse:
    """A scanned (or typed) code, checked in; JSON for the camera page's script."""
    form = CheckInForm(request.POST)
    code = form.cleaned_data["code"] if form.is_valid() else ""
    result = check_in_result(event=event, code=code)
    result["counts"] = selectors.check_in_counts(event=event)
    return JsonResponse(result, status=STATUS[result["result"]])


urlpatterns = [
    path("<slug:slug>/check-in/", check_in, name="check_in"),
    path("<slug:slug>/check-in/scan/", scan, name="check_in_scan"),
]
