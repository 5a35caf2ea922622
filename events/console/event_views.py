"""Console: an event's settings and its sessions, written through ``events.services``.

The pages do what the API does (the same service functions): publishing and
cancelling the event, adding, moving, resizing and cancelling sessions. Each
irreversible step has a confirmation page that says who will be told.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config.problems import DomainError

from .. import services
from ..errors import CapacityBelowConfirmed
from ..models import Event, Registration, Session
from .access import organiser_event
from .event_forms import EventCreateForm, EventForm, SessionForm

SESSIONS_PER_PAGE = 50


def _add_model_errors(form: Form, error: ValidationError) -> None:
    """A model's refusal (from a service's ``full_clean``) as errors of the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _sessions_with_fill(event: Event) -> QuerySet[Session]:
    """The event's sessions with their confirmed, reserved and waiting counts."""
    return (
        Session.objects.filter(event=event)
        .select_related("venue")
        .annotate(
            reserved_count=Count(
                "registrations",
                filter=Q(
                    registrations__status=Registration.Status.CONFIRMED,
                    registrations__reserved=True,
                ),
            ),
            waiting_count=Count(
                "registrations",
                filter=Q(registrations__status=Registration.Status.WAITLISTED),
            ),
        )
        .order_by("starts_at", "pk")
    )


def _active_counts(sessions: QuerySet[Session]) -> dict[str, int]:
    """How many confirmed and waiting registrations the sessions hold."""
    return Registration.objects.filter(session__in=sessions).aggregate(
        confirmed=Count("pk", filter=Q(status=Registration.Status.CONFIRMED)),
        waitlisted=Count("pk", filter=Q(status=Registration.Status.WAITLISTED)),
    )


def _session_of(event: Event, session_id: int) -> Session:
    """A session of this event; another event's session is a 404."""
    if not 0 < session_id < 2**63:
        raise Http404
    return get_object_or_404(
        Session.objects.select_related("venue", "event"), pk=session_id, event=event
    )


@organiser_event
def event_edit(request: HttpRequest, event: Event) -> HttpResponse:
    if request.method == "POST":
        form = EventForm(request.POST, request.FILES, event=event)
        if form.is_valid():
            try:
                services.event_update(event=event, data=form.service_data())
            except ValidationError as error:
                _add_model_errors(form, error)
            else:
                messages.success(request, _("The event's settings are saved."))
                return redirect("console:event_edit", slug=event.slug)
        # A refused save may have left the unsaved values on the object.
        event.refresh_from_db()
    else:
        form = EventForm(event=event)
    page = Paginator(_sessions_with_fill(event), SESSIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "console/event_edit.html",
        {"event": event, "form": form, "sessions": page},
    )


@organiser_event
def event_publish(request: HttpRequest, event: Event) -> HttpResponse:
    if request.method == "POST":
        try:
            services.event_publish(event=event)
        except DomainError as error:
            messages.error(request, error.detail)
        else:
            messages.success(
                request, _("The event is published: its page is open to everyone.")
            )
        return redirect("console:event_edit", slug=event.slug)
    sessions = Session.objects.filter(event=event, status=Session.Status.SCHEDULED)
    return render(
        request,
        "console/event_publish.html",
        {
            "event": event,
            "session_count": sessions.count(),
            "public_url": request.build_absolute_uri(event.get_absolute_url()),
        },
    )


@organiser_event
def event_cancel(request: HttpRequest, event: Event) -> HttpResponse:
    sessions = Session.objects.filter(event=event, status=Session.Status.SCHEDULED)
    if request.method == "POST":
        if event.status == Event.Status.CANCELLED:
            messages.info(request, _("The event was already cancelled."))
        else:
            told = _people_told(sessions)
            services.event_cancel(event=event)
            messages.success(
                request,
                ngettext(
                    "The event is cancelled; %(count)d person is being emailed.",
                    "The event is cancelled; %(count)d people are being emailed.",
                    told,
                )
                % {"count": told},
            )
        return redirect("console:event_edit", slug=event.slug)
    return render(
        request,
        "console/event_cancel.html",
        {
            "event": event,
            "session_count": sessions.count(),
            "people": _people_told(sessions),
            **_active_counts(sessions),
        },
    )


def _people_told(sessions: Any) -> int:
    """The people (addresses) an event's cancellation emails: one email each."""
    return (
        Registration.objects.filter(
            session__in=sessions,
            status__in=Registration.ACTIVE_STATUSES,
            erased_at__isnull=True,
        )
        .annotate(address=Lower("email"))
        .values("address")
        .distinct()
        .count()
    )


@login_required
def event_new(request: HttpRequest) -> HttpResponse:
    """A new event, as a draft; the one who creates it organises it."""
    user: Any = request.user
    if not (user.is_superuser or Event.objects.for_organiser(user).exists()):
        raise PermissionDenied
    if request.method == "POST":
        form = EventCreateForm(request.POST, request.FILES)
        if form.is_valid():
            data = {**form.service_data(), "status": Event.Status.DRAFT}
            try:
                event = services.event_create(data=data, organiser=user)
            except ValidationError as error:
                _add_model_errors(form, error)
            else:
                messages.success(
                    request,
                    _(
                        "The event is created as a draft. Add its sessions, then publish it."
                    ),
                )
                return redirect("console:event_edit", slug=event.slug)
    else:
        form = EventCreateForm()
    return render(request, "console/event_new.html", {"form": form})


@organiser_event
def session_new(request: HttpRequest, event: Event) -> HttpResponse:
    if event.status == Event.Status.CANCELLED:
        messages.error(request, _("The event is cancelled: it takes no new sessions."))
        return redirect("console:event_edit", slug=event.slug)
    if request.method == "POST":
        form = SessionForm(request.POST, event=event)
        if form.is_valid():
            try:
                session = services.session_create(event=event, data=form.service_data())
            except ValidationError as error:
                _add_model_errors(form, error)
            else:
                messages.success(
                    request, _("“%(title)s” is added.") % {"title": session.title}
                )
                return redirect("console:event_edit", slug=event.slug)
    else:
        form = SessionForm(event=event)
    return render(
        request,
        "console/session_form.html",
        {"event": event, "form": form, "session": None},
    )


@organiser_event
def session_edit(request: HttpRequest, event: Event, session_id: int) -> HttpResponse:
    session = _session_of(event, session_id)
    if request.method == "POST" and not session.is_cancelled:
        form = SessionForm(request.POST, event=event, session=session)
        if form.is_valid():
            return _session_save(request, event, session, form)
    else:
        form = SessionForm(event=event, session=session)
    return _session_form_page(request, event, session, form)


def _session_save(
    request: HttpRequest, event: Event, session: Session, form: SessionForm
) -> HttpResponse:
    started = timezone.now()
    try:
        saved = services.session_update(session=session, data=form.service_data())
    except CapacityBelowConfirmed:
        session.refresh_from_db()
        form.capacity_below_confirmed(session.seats_taken)
        return _session_form_page(request, event, session, form)
    except ValidationError as error:
        session.refresh_from_db()
        _add_model_errors(form, error)
        return _session_form_page(request, event, session, form)
    parts = [_("“%(title)s” is saved.") % {"title": saved.title}]
    if saved.sequence != session.sequence:
        told = Registration.objects.filter(
            session=saved, status__in=Registration.ACTIVE_STATUSES
        ).count()
        parts.append(
            ngettext(
                "%(count)d registrant is being emailed the change.",
                "%(count)d registrants are being emailed the change.",
                told,
            )
            % {"count": told}
        )
    promoted = Registration.objects.filter(
        session=saved, promoted_at__gte=started
    ).count()
    if promoted:
        parts.append(
            ngettext(
                "%(count)d person moved from the waiting list to a seat and is being emailed.",
                "%(count)d people moved from the waiting list to seats and are being emailed.",
                promoted,
            )
            % {"count": promoted}
        )
    messages.success(request, " ".join(parts))
    return redirect("console:event_edit", slug=event.slug)


def _session_form_page(
    request: HttpRequest, event: Event, session: Session, form: SessionForm
) -> HttpResponse:
    counts = _active_counts(Session.objects.filter(pk=session.pk))
    return render(
        request,
        "console/session_form.html",
        {"event": event, "form": form, "session": session, **counts},
    )


@organiser_event
def session_cancel(request: HttpRequest, event: Event, session_id: int) -> HttpResponse:
    session = _session_of(event, session_id)
    counts = _active_counts(Session.objects.filter(pk=session.pk))
    if request.method == "POST":
        if session.is_cancelled:
            messages.info(
                request,
                _("“%(title)s” was already cancelled.") % {"title": session.title},
            )
        else:
            services.session_cancel(session=session)
            told = counts["confirmed"] + counts["waitlisted"]
            messages.success(
                request,
                ngettext(
                    "“%(title)s” is cancelled; %(count)d person is being emailed.",
                    "“%(title)s” is cancelled; %(count)d people are being emailed.",
                    told,
                )
                % {"title": session.title, "count": told},
            )
        return redirect("console:event_edit", slug=event.slug)
    return render(
        request,
        "console/session_cancel.html",
        {"event": event, "session": session, **counts},
    )


urlpatterns = [
    path("new/", event_new, name="event_new"),
    path("<slug:slug>/edit/", event_edit, name="event_edit"),
    path("<slug:slug>/publish/", event_publish, name="event_publish"),
    path("<slug:slug>/cancel/", event_cancel, name="event_cancel"),
    path("<slug:slug>/sessions/new/", session_new, name="session_new"),
    path(
        "<slug:slug>/sessions/<int:session_id>/edit/",
        session_edit,
        name="session_edit",
    ),
    path(
        "<slug:slug>/sessions/<int:session_id>/cancel/",
        session_cancel,
        name="session_cancel",
    ),
]
