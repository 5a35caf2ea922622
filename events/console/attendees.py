"""Console: an event's attendees, one person's registration, and what may be done to it.

The list reads the details a person gave to this event (the Registration row), never
the Attendee row that all events share. Every registration is looked up within the
event of the URL, so another event's ticket code is a 404.
"""

from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.problems import DomainError

from ..errors import RegistrationNotFound
from ..exports import registrations_csv
from ..models import Event, Registration
from ..questions import questions_for_event, registration_answers
from ..selectors import (
    registration_get_for_event,
    registration_list_for_console,
    registration_notifications,
    registration_others_in_event,
    registration_waitlist_head,
)
from ..services import (
    registration_cancel_by_organiser,
    registration_check_in,
    registration_confirmation_resend,
)
from .access import organiser_event
from .attendee_forms import AttendeeFilterForm
from .mail import with_kind_labels

PAGE_SIZE = 50

# The list's columns that sort, by the selector's sort key.
SORTABLE_COLUMNS = [
    ("name", gettext_lazy("Name")),
    ("session", gettext_lazy("Session")),
    ("status", gettext_lazy("Status")),
    ("registered", gettext_lazy("Registered")),
]


def _filter_form(request: HttpRequest, event: Event) -> AttendeeFilterForm:
    form = AttendeeFilterForm(request.GET or None, event=event)
    if form.is_bound:
        # Invalid fields (a foreign session id, an unknown sort) are shown as errors
        # and left out; the valid ones still apply.
        form.is_valid()
    return form


def _sort_links(request: HttpRequest, current: str) -> dict[str, dict[str, str]]:
    """Per sortable column: the link that sorts by it (again: reversed) and aria-sort."""
    links = {}
    for key, label in SORTABLE_COLUMNS:
        query = request.GET.copy()
        query.pop("page", None)
        active = current.lstrip("-") == key
        descending = current.startswith("-")
        query["sort"] = f"-{key}" if active and not descending else key
        links[key] = {
            "label": str(label),
            "url": f"?{query.urlencode()}",
            "aria_sort": (
                ("descending" if descending else "ascending") if active else ""
            ),
        }
    return links


def _without(query: QueryDict, *names: str) -> str:
    query = query.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


@organiser_event
def attendees(request: HttpRequest, event: Event) -> HttpResponse:
    form = _filter_form(request, event)
    filters = form.filters()
    registrations = registration_list_for_console(event=event, **filters)
    page = Paginator(registrations, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "console/attendees.html",
        {
            "event": event,
            "form": form,
            "page": page,
            "sort_links": _sort_links(request, filters["sort"]),
            "query": _without(request.GET, "page"),
            "export_url": _export_url(event, _without(request.GET, "page")),
            "filtered": any(
                filters[name] is not None
                for name in ("search", "session_id", "status", "checked_in")
            ),
        },
    )


def _export_url(event: Event, query: str) -> str:
    url = reverse("console:attendees_export", kwargs={"slug": event.slug})
    return f"{url}?{query}" if query else url


def _in_event_time_zone(event: Event, chunks: Iterator[str]) -> Iterator[str]:
    # The response is streamed after the view returns: the zone is set per chunk.
    for chunk in chunks:
        with timezone.override(event.tzinfo):
            yield chunk


@organiser_event
def attendees_export(request: HttpRequest, event: Event) -> StreamingHttpResponse:
    """The list as on screen (same search, filters and sort), every page, as CSV."""
    form = _filter_form(request, event)
    registrations = registration_list_for_console(event=event, **form.filters())
    with timezone.override(event.tzinfo):
        chunks = registrations_csv(
            registrations,
            questions=questions_for_event(event=event, active_only=False),
        )
    response = StreamingHttpResponse(
        _in_event_time_zone(event, chunks), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{event.slug}-attendees.csv"'
    )
    return response


def _registration(event: Event, code: str) -> Registration:
    try:
        return registration_get_for_event(event=event, code=code)
    except RegistrationNotFound:
        raise Http404 from None


def _history(registration: Registration) -> list[dict[str, Any]]:
    """What happened to a registration, oldest first, from its own timestamps."""
    # A waiting-list number, once given, stays with the registration.
    waited = registration.waitlist_number is not None
    entries = [
        {
            "at": registration.created_at,
            "what": _("Registered, on the waiting list")
            if waited
            else _("Registered, seat confirmed"),
            "kind": "registered",
        }
    ]
    if registration.promoted_at:
        entries.append(
            {
                "at": registration.promoted_at,
                "what": _("Moved from the waiting list into a seat"),
                "kind": "promoted",
            }
        )
    if registration.checked_in_at:
        entries.append(
            {
                "at": registration.checked_in_at,
                "what": _("Checked in"),
                "kind": "checked_in",
            }
        )
    if registration.cancelled_at:
        entries.append(
            {
                "at": registration.cancelled_at,
                "what": _("Cancelled"),
                "kind": "cancelled",
            }
        )
    return sorted(entries, key=lambda entry: entry["at"])


@organiser_event
def attendee_detail(request: HttpRequest, event: Event, code: str) -> HttpResponse:
    registration = _registration(event, code)
    return render(
        request,
        "console/attendee_detail.html",
        {
            "event": event,
            "registration": registration,
            "history": _history(registration),
            "emails": with_kind_labels(
                registration_notifications(registration=registration)
            ),
            "others": registration_others_in_event(registration=registration),
            "answers": registration_answers(registration=registration),
        },
    )


@organiser_event
def attendee_cancel(request: HttpRequest, event: Event, code: str) -> HttpResponse:
    """GET: what cancelling will do, and a button; POST: cancel through the service."""
    registration = _registration(event, code)
    detail = redirect(
        "console:attendee_detail", slug=event.slug, code=registration.code
    )
    if registration.status == Registration.Status.CANCELLED:
        messages.info(request, _("This registration is already cancelled."))
        return detail
    takes_a_seat = (
        registration.status == Registration.Status.CONFIRMED
        and not registration.reserved
    )
    head = (
        registration_waitlist_head(session_id=registration.session_id)
        if takes_a_seat
        else None
    )
    if request.method == "POST":
        registration_cancel_by_organiser(registration=registration)
        messages.success(
            request,
            _(
                "%(name)s’s registration is cancelled; a notice is on its way to %(email)s."
            )
            % {"name": registration.full_name, "email": registration.email},
        )
        if head is not None:
            head.refresh_from_db(fields=["status"])
            if head.status == Registration.Status.CONFIRMED:
                messages.success(
                    request,
                    _(
                        "%(name)s moved from the waiting list into the seat and is "
                        "emailed their ticket."
                    )
                    % {"name": head.full_name},
                )
        return detail
    return render(
        request,
        "console/attendee_cancel.html",
        {
            "event": event,
            "registration": registration,
            "takes_a_seat": takes_a_seat,
            "waitlist_head": head,
        },
    )


@organiser_event
def attendee_resend(request: HttpRequest, event: Event, code: str) -> HttpResponse:
    registration = _registration(event, code)
    if request.method != "POST":  # after the lookup: a foreign code is a 404
        return HttpResponseNotAllowed(["POST"])
    try:
        notification = registration_confirmation_resend(registration=registration)
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        if notification.kind == "registration_waitlisted":
            text = _("The waiting-list notice is queued for %(email)s.")
        else:
            text = _("The confirmation and ticket are queued for %(email)s.")
        messages.success(request, text % {"email": registration.email})
    return redirect("console:attendee_detail", slug=event.slug, code=registration.code)


@organiser_event
def attendee_check_in(request: HttpRequest, event: Event, code: str) -> HttpResponse:
    registration = _registration(event, code)
    if request.method != "POST":  # after the lookup: a foreign code is a 404
        return HttpResponseNotAllowed(["POST"])
    try:
        registration, already = registration_check_in(
            event=event, code=registration.code
        )
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        if already:
            assert registration.checked_in_at is not None
            with timezone.override(event.tzinfo):
                at = date_format(
                    timezone.localtime(registration.checked_in_at), "TIME_FORMAT"
                )
            messages.warning(
                request,
                _("%(name)s was already checked in at %(time)s.")
                % {"name": registration.full_name, "time": at},
            )
        else:
            messages.success(
                request, _("%(name)s is checked in.") % {"name": registration.full_name}
            )
    return redirect("console:attendee_detail", slug=event.slug, code=registration.code)


urlpatterns = [
    path("<slug:slug>/attendees/", attendees, name="attendees"),
    path("<slug:slug>/attendees/export/", attendees_export, name="attendees_export"),
    path("<slug:slug>/attendees/<str:code>/", attendee_detail, name="attendee_detail"),
    path(
        "<slug:slug>/attendees/<str:code>/cancel/",
        attendee_cancel,
        name="attendee_cancel",
    ),
    path(
        "<slug:slug>/attendees/<str:code>/resend/",
        attendee_resend,
        name="attendee_resend",
    ),
    path(
        "<slug:slug>/attendees/<str:code>/check-in/",
        attendee_check_in,
        name="attendee_check_in",
    ),
]
