"""Admin for organisers: their events, sessions with their fill, registrations."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .errors import NotActive
from .exports import registrations_csv
from .models import Attendee, Event, Registration, Session, Venue
from .selectors import with_waitlist_position


class OrganiserScopedAdmin(admin.ModelAdmin):
    """Shows an organiser only what belongs to the events they organise."""

    event_path = "event"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(
            **{f"{self.event_path}__organisers": request.user}
        ).distinct()

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.related_model is Event and not request.user.is_superuser:
            kwargs["queryset"] = Event.objects.for_organiser(request.user)
        if db_field.related_model is Session and not request.user.is_superuser:
            kwargs["queryset"] = Session.objects.filter(
                event__organisers=request.user.pk
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    list_display = ["name", "address"]
    search_fields = ["name", "address"]


class SessionInline(admin.TabularInline):
    model = Session
    extra = 0
    fields = [
        "title",
        "kind",
        "starts_at",
        "ends_at",
        "venue",
        "capacity",
        "waitlist_enabled",
        "status",
    ]
    show_change_link = True


@admin.register(Event)
class EventAdmin(OrganiserScopedAdmin):
    event_path = ""
    list_display = ["title", "slug", "status", "starts_on", "ends_on", "venue"]
    list_filter = ["status"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["organisers"]
    inlines = [SessionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return Event.objects.for_organiser(request.user)

    def save_model(
        self, request: HttpRequest, obj: Event, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            obj.organisers.add(request.user.pk)  # type: ignore[arg-type]


@admin.register(Session)
class SessionAdmin(OrganiserScopedAdmin):
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
    search_fields = ["title"]
    readonly_fields = ["seats_taken", "sequence"]
    actions = ["cancel_sessions"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        from django.db.models import Count, Q

        return (
            super()
            .get_queryset(request)
            .annotate(
                waitlisted_count=Count(
                    "registrations", filter=Q(registrations__status="waitlisted")
                )
            )
        )

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
        if not change:
            super().save_model(request, obj, form, change)
            return
        data = {
            field: form.cleaned_data[field]
            for field in form.changed_data
            if field != "status"
        }
        services.session_update(session=obj, data=data)
        if "status" in form.changed_data and obj.status == Session.Status.CANCELLED:
            services.session_cancel(session=obj)

    @admin.action(
        description=_("Cancel the selected sessions and tell their registrants")
    )
    def cancel_sessions(
        self, request: HttpRequest, queryset: QuerySet[Session]
    ) -> None:
        for session in queryset:
            services.session_cancel(session=session)
        self.message_user(request, _("Sessions cancelled."), messages.SUCCESS)


@admin.register(Registration)
class RegistrationAdmin(OrganiserScopedAdmin):
    event_path = "session__event"
    list_display = [
        "code",
        "full_name",
        "email",
        "session",
        "status",
        "checked_in_at",
        "created_at",
    ]
    list_filter = [
        "status",
        "session__event",
        "session",
        ("checked_in_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["code", "full_name", "email", "organisation", "phone"]
    list_select_related = ["session"]
    readonly_fields = [
        "code",
        "session",
        "attendee",
        "status",
        "waitlist_number",
        "checked_in_at",
        "created_at",
        "cancelled_at",
        "promoted_at",
    ]
    actions = ["check_in", "export_csv"]

    def has_add_permission(self, request: HttpRequest) -> bool:
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
    list_display = ["email", "full_name", "organisation", "language"]
    search_fields = ["email", "full_name", "organisation"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(
            registrations__session__event__organisers=request.user
        ).distinct()
