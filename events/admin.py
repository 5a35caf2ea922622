"""Admin for the platform's operators: events, venues, sessions, registrations.

Only superusers reach it (config.admin.PodiumAdminSite); organisers use the console.
It cannot break an invariant either: counters, statuses and reserved seats are
read-only, nothing that holds seats can be deleted, and whatever changes seats or
tells attendees (a new capacity, time or place, a cancellation) goes through
``events.services``, as the console and the API do.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from config.admin import ServiceModelAdmin, confirm_action
from config.problems import DomainError

from . import services
from .errors import CapacityBelowConfirmed, NotActive
from .exports import registrations_csv
from .models import Attendee, Event, Registration, Session, Venue
from .selectors import with_waitlist_position


def _model_data(form: Any, names: Any) -> dict[str, Any]:
    """The cleaned values of the form's concrete model fields among ``names``."""
    fields = {field.name for field in form._meta.model._meta.concrete_fields}
    return {name: form.cleaned_data[name] for name in names if name in fields}


def _adopt(obj: Any, created: Any) -> None:
    """Makes the admin's unsaved ``obj`` the row a service created."""
    obj.pk = created.pk
    obj._state.adding = False
    obj._state.db = created._state.db


@admin.register(Venue)
class VenueAdmin(TranslationAdmin):
    """A venue in use is read-only: its address is on public pages and in tickets.

    Moving a session to another place is done on the session (``session_update``),
    which tells its registrants.
    """

    list_display = ["name", "address", "in_use"]
    search_fields = ["name_zh_hans", "name_en", "address_zh_hans", "address_en"]
    readonly_fields = ["used_by"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Venue]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                session_count=Count("sessions", distinct=True),
                event_count=Count("events", distinct=True),
            )
        )

    @staticmethod
    def _in_use(venue: Venue) -> bool:
        return venue.sessions.exists() or venue.events.exists()

    @admin.display(description=_("in use"), boolean=True)
    def in_use(self, venue: Any) -> bool:
        return bool(venue.session_count or venue.event_count)

    @admin.display(description=_("used by"))
    def used_by(self, venue: Venue) -> str:
        if venue.pk is None or not self._in_use(venue):
            return gettext("No event or session.")
        names = [str(event) for event in venue.events.all()] + [
            f"{session.event} – {session}"
            for session in venue.sessions.select_related("event")
        ]
        return gettext(
            "%(names)s. A venue in use cannot be edited here: move a session on its "
            "own page, which tells its registrants."
        ) % {"names": "; ".join(names)}

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and self._in_use(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None or self._in_use(obj):
            return False
        return super().has_delete_permission(request, obj)


SESSION_ROW_FIELDS = (
    "title",
    "starts_at",
    "venue",
    "capacity",
    "seats_taken",
    "status",
)


class SessionInline(admin.TabularInline):
    """The event's sessions, read-only: each is changed on its own page."""

    model = Session
    extra = 0
    fields = SESSION_ROW_FIELDS
    readonly_fields = SESSION_ROW_FIELDS
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(TranslationAdmin, ServiceModelAdmin):  # type: ignore[misc]
    """Each translated text (events.translation) has a field per language; the
    saves go through ``event_create`` and ``event_update``, which check a logo or
    seal by its bytes (events.images) and delete a replaced one."""

    list_display = ["title", "slug", "status", "starts_on", "ends_on", "venue"]
    list_filter = ["status"]
    search_fields = ["title_zh_hans", "title_en", "slug"]
    filter_horizontal = ["organisers"]
    inlines = [SessionInline]
    actions = ["publish_events"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Links in sent mail carry the slug; a status change is a use case.
        if obj is None:
            return ["status"]
        return ["slug", "status"]

    def get_prepopulated_fields(
        self, request: HttpRequest, obj: Any = None
    ) -> dict[str, Any]:
        return {"slug": ["title_en"]} if obj is None else {}

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Event, form: Any, change: bool
    ) -> None:
        if change:
            services.event_update(event=obj, data=_model_data(form, form.changed_data))
            return
        created = services.event_create(
            data=_model_data(form, form.cleaned_data), organiser=None
        )
        _adopt(obj, created)

    @admin.action(description=_("Publish the selected draft events"))
    def publish_events(self, request: HttpRequest, queryset: QuerySet[Event]) -> None:
        """Publishes through ``event_publish``, which locks each row and refuses a
        cancelled event (also one cancelled since the list was shown)."""
        published = refused = 0
        for event in queryset.exclude(status=Event.Status.PUBLISHED).order_by("pk"):
            try:
                services.event_publish(event=event)
            except DomainError as refusal:
                refused += 1
                self.message_user(
                    request,
                    gettext("“%(event)s” was not published: %(reason)s")
                    % {"event": event, "reason": refusal.detail},
                    messages.ERROR,
                )
                continue
            published += 1
        if published or not refused:
            self.message_user(
                request,
                ngettext("%(n)d event published.", "%(n)d events published.", published)
                % {"n": published},
                messages.SUCCESS,
            )


@admin.register(Session)
class SessionAdmin(TranslationAdmin, ServiceModelAdmin):  # type: ignore[misc]
    """Sessions change through ``session_create``, ``session_update`` and
    ``session_cancel``: a capacity below the confirmed count is a form error, more
    seats promote the waiting list, a new time or place tells the registrants."""

    list_display = [
        "title",
        "event",
        "kind",
        "starts_at",
        "status",
        "fill",
        "waitlisted",
    ]
    list_filter = ["event", "kind", "status"]
    search_fields = ["title_zh_hans", "title_en"]
    list_select_related = ["event"]
    actions = ["cancel_sessions"]
    refusal_fields = {CapacityBelowConfirmed: "capacity"}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        counters = [
            "status",
            "seats_taken",
            "waitlist_last",
            "waitlist_left",
            "sequence",
        ]
        return counters if obj is None else ["event", *counters]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                waitlisted_count=Count(
                    "registrations",
                    filter=Q(registrations__status=Registration.Status.WAITLISTED),
                )
            )
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("fill"))
    def fill(self, session: Session) -> str:
        if session.capacity is None:
            return f"{session.seats_taken} / ∞"
        return f"{session.seats_taken} / {session.capacity}"

    @admin.display(description=_("waiting"))
    def waitlisted(self, session: Any) -> int:
        return session.waitlisted_count

    def save_model(
        self, request: HttpRequest, obj: Session, form: Any, change: bool
    ) -> None:
        if change:
            services.session_update(
                session=obj, data=_model_data(form, form.changed_data)
            )
            return
        data = _model_data(form, form.cleaned_data)
        created = services.session_create(event=data.pop("event"), data=data)
        _adopt(obj, created)

    @admin.action(
        description=_("Cancel the selected sessions and tell their registrants")
    )
    def cancel_sessions(
        self, request: HttpRequest, queryset: QuerySet[Session]
    ) -> HttpResponse | None:
        # A fresh queryset: the changelist's own carries another count of the
        # same registrations, which would multiply this one.
        sessions = list(
            Session.objects.filter(
                pk__in=queryset.values("pk"), status=Session.Status.SCHEDULED
            )
            .select_related("event")
            .annotate(
                active_count=Count(
                    "registrations",
                    filter=Q(registrations__status__in=Registration.ACTIVE_STATUSES),
                )
            )
        )
        confirmation = confirm_action(
            self,
            request,
            queryset,
            action="cancel_sessions",
            title=gettext("Cancel sessions"),
            items=[
                ngettext(
                    "%(event)s – %(session)s: %(n)d active registration",
                    "%(event)s – %(session)s: %(n)d active registrations",
                    session.active_count,
                )
                % {
                    "event": session.event,
                    "session": session,
                    "n": session.active_count,
                }
                for session in sessions
            ],
            consequences=[
                gettext("Each session is marked cancelled and leaves the programme."),
                gettext(
                    "Every confirmed and waiting registration for it is cancelled; "
                    "each registrant gets an email saying the session is cancelled, "
                    "and their reminders stop."
                ),
            ],
            confirm_label=gettext("Yes, cancel these sessions"),
        )
        if confirmation is not None:
            return confirmation
        for session in sessions:
            services.session_cancel(session=session)
        self.message_user(
            request,
            ngettext(
                "%(n)d session cancelled; its registrants are told.",
                "%(n)d sessions cancelled; their registrants are told.",
                len(sessions),
            )
            % {"n": len(sessions)},
            messages.SUCCESS,
        )
        return None


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    """Registrations are read here; they change only through the services' actions."""

    list_display = [
        "code",
        "full_name",
        "email",
        "session",
        "status",
        "reserved",
        "checked_in_at",
        "created_at",
    ]
    list_filter = [
        "status",
        "reserved",
        "session__event",
        "session",
        ("checked_in_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["code", "full_name", "email", "organisation", "phone"]
    list_select_related = ["session__event"]
    actions = ["check_in", "cancel_registrations", "export_csv"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Check in the selected registrations"))
    def check_in(self, request: HttpRequest, queryset: QuerySet[Registration]) -> None:
        done = refused = 0
        for registration in queryset.select_related("session__event"):
            try:
                services.registration_check_in(
                    event=registration.session.event, code=registration.code
                )
                done += 1
            except NotActive:
                refused += 1
        self.message_user(
            request,
            ngettext(
                "%(n)d registration checked in.",
                "%(n)d registrations checked in.",
                done,
            )
            % {"n": done},
            messages.SUCCESS,
        )
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%(n)d registration is not confirmed and was not checked in.",
                    "%(n)d registrations are not confirmed and were not checked in.",
                    refused,
                )
                % {"n": refused},
                messages.WARNING,
            )

    @admin.action(
        description=_("Cancel the selected registrations and tell the attendees")
    )
    def cancel_registrations(
        self, request: HttpRequest, queryset: QuerySet[Registration]
    ) -> HttpResponse | None:
        active = list(
            queryset.filter(status__in=Registration.ACTIVE_STATUSES).select_related(
                "session__event"
            )
        )
        confirmation = confirm_action(
            self,
            request,
            queryset,
            action="cancel_registrations",
            title=gettext("Cancel registrations"),
            items=[
                gettext("%(code)s %(name)s <%(email)s>, %(session)s: %(status)s")
                % {
                    "code": registration.code,
                    "name": registration.full_name,
                    "email": registration.email,
                    "session": registration.session,
                    "status": registration.get_status_display(),
                }
                for registration in active
            ],
            consequences=[
                gettext(
                    "Each registration is cancelled and its attendee gets an email "
                    "saying so; their reminders stop."
                ),
                gettext(
                    "A freed public seat goes to the next person on the session's "
                    "waiting list, who is told by email."
                ),
            ],
            confirm_label=gettext("Yes, cancel these registrations"),
        )
        if confirmation is not None:
            return confirmation
        for registration in active:
            services.registration_cancel_by_organiser(registration=registration)
        self.message_user(
            request,
            ngettext(
                "%(n)d registration cancelled.",
                "%(n)d registrations cancelled.",
                len(active),
            )
            % {"n": len(active)},
            messages.SUCCESS,
        )
        return None

    @admin.action(description=_("Export the selected registrations as CSV"))
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[Registration]
    ) -> StreamingHttpResponse:
        registrations = with_waitlist_position(queryset.select_related("session"))
        response = StreamingHttpResponse(
            registrations_csv(registrations), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="registrations.csv"'
        return response


@admin.register(Attendee)
class AttendeeAdmin(admin.ModelAdmin):
    """Read-only: an attendee's details come from their own registrations."""

    list_display = ["email", "full_name", "organisation", "language"]
    search_fields = ["email", "full_name", "organisation"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
