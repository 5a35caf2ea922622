"""Forms of the console's event and session pages.

Times are typed and shown in the event's own time zone, whatever the server's is:
each time field carries that zone and interprets a naive value in it explicitly.
The forms only check the shape of what is typed; the services decide the rest.
"""

import datetime as dt
import re
import zoneinfo
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..models import Event, Session, validate_reminder_offsets
from ..slugs import validate_event_slug
from ..validators import clean_free_text, no_control_characters

EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"
MAX_OFFSET = 60 * 24 * 60


def within_planning_range(value: dt.date) -> None:
    """Events are planned in this century: anything else is a typo (as in the API)."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValidationError(_("Give a date between 2000 and 2100."))


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class LocalDateTimeField(forms.DateTimeField):
    """A ``datetime-local`` input read and shown in one given time zone.

    Django would use the active time zone; the event's is set here instead, so a
    naive ``2026-05-12T09:30`` is 09:30 where the event takes place. A time that
    does not exist or happens twice there (a clock change) is a form error.
    """

    widget = forms.DateTimeInput(
        format=LOCAL_INPUT_FORMAT, attrs={"type": "datetime-local"}
    )
    input_formats = [LOCAL_INPUT_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]

    def __init__(self, *, zone: zoneinfo.ZoneInfo | None = None, **kwargs: Any):
        kwargs.setdefault("validators", [within_planning_range])
        super().__init__(**kwargs)
        self.zone = zone or zoneinfo.ZoneInfo("UTC")

    def to_python(self, value: Any) -> dt.datetime | None:
        with timezone.override(self.zone):
            return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dt.datetime) and timezone.is_aware(value):
            return value.astimezone(self.zone).replace(tzinfo=None)
        return value


def same_minute_kept(
    value: dt.datetime | None, instance: object | None, name: str
) -> dt.datetime | None:
    """The saved moment if ``value`` is it as shown (to the minute), else ``value``.

    The inputs show minutes only: a time saved with seconds (through the API) and
    sent back untouched must not count as a change, which would email a notice.
    """
    saved = getattr(instance, name, None) if instance is not None else None
    if (
        value is not None
        and saved is not None
        and saved.replace(second=0, microsecond=0) == value
    ):
        return saved
    return value


class ReminderOffsetsField(forms.CharField):
    """Minutes before a session, separated by commas; empty means no reminders."""

    def to_python(self, value: Any) -> list[int]:  # type: ignore[override]
        text = super().to_python(value) or ""
        parts = [p for p in re.split(r"[,，、;\s]+", text) if p]
        offsets = []
        for part in parts:
            if not part.isascii() or not part.isdigit():
                raise ValidationError(
                    _("“%(value)s” is not a whole number of minutes."),
                    params={"value": part},
                )
            offsets.append(int(part))
        return offsets

    def validate(self, value: Any) -> None:
        if any(not 0 < offset <= MAX_OFFSET for offset in value):
            raise ValidationError(
                _("Each reminder is 1 to %(max)d minutes before a session."),
                params={"max": MAX_OFFSET},
            )
        if len(set(value)) != len(value):
            raise ValidationError(_("Give each number of minutes once."))
        if len(value) > 10:
            raise ValidationError(_("Give at most ten reminders."))
        validate_reminder_offsets(value)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return value


def _text(label: Any, max_length: int, *, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        validators=[no_control_characters],
    )


def _description() -> forms.CharField:
    return forms.CharField(
        label=_("Description"),
        max_length=20000,
        required=False,
        validators=[clean_free_text],
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class VenueFieldsMixin(forms.Form):
    """A venue typed as its name and address; no name means no venue of its own."""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        name = (data.get("venue_name") or "").strip()
        address = (data.get("venue_address") or "").strip()
        if address and not name:
            self.add_error("venue_name", _("Give the venue's name with its address."))
        data["venue"] = {"name": name, "address": address} if name else None
        return data


class EventForm(VenueFieldsMixin):
    """An event's settings. Given an ``event``, its time zone reads the times."""

    title = _text(_("Title"), 200)
    description = _description()
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        initial="Asia/Shanghai",
        help_text=_(
            "Times on this page and the event's pages are shown in this zone. "
            "Changing it does not move any session or the registration window."
        ),
    )
    starts_on = forms.DateField(
        label=_("First day"),
        validators=[within_planning_range],
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    ends_on = forms.DateField(
        label=_("Last day"),
        validators=[within_planning_range],
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    venue_name = forms.CharField(
        label=_("Venue"),
        max_length=200,
        required=False,
        validators=[no_control_characters],
        help_text=_(
            "Sessions without a venue of their own take place here. Changing it "
            "emails nobody: to tell a session's registrants, give the session "
            "its new venue."
        ),
    )
    venue_address = _text(_("Venue address"), 300, required=False)
    registration_opens_at = LocalDateTimeField(
        label=_("Registration opens"),
        required=False,
        help_text=_("Empty: open as soon as the event is published."),
    )
    registration_closes_at = LocalDateTimeField(
        label=_("Registration closes"),
        required=False,
        help_text=_("Empty: open until each session starts."),
    )
    reminder_offsets = ReminderOffsetsField(
        label=_("Reminders (minutes before each session)"),
        required=False,
        max_length=200,
        help_text=_(
            "Separated by commas, e.g. 1440, 120 for a day and two hours before. "
            "Leave empty to send no reminders."
        ),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    privacy_notice_zh_hans = forms.CharField(
        label=_("Privacy notice in Chinese"),
        max_length=20000,
        required=False,
        validators=[clean_free_text],
        widget=forms.Textarea(attrs={"rows": 5, "lang": "zh-Hans"}),
        help_text=_(
            "Who collects the registrants' details, for what, how long they are "
            "kept and whom to ask about them. Shown on the registration form, "
            "which then asks for consent; each change is a new version."
        ),
    )
    privacy_notice_en = forms.CharField(
        label=_("Privacy notice in English"),
        max_length=20000,
        required=False,
        validators=[clean_free_text],
        widget=forms.Textarea(attrs={"rows": 5, "lang": "en"}),
        help_text=_(
            "Readers of the other language see this one when theirs is empty. "
            "With both empty, the form asks for no consent."
        ),
    )
    retention_days = forms.IntegerField(
        label=_("Keep personal data for (days after the last day)"),
        min_value=0,
        max_value=3660,
        initial=180,
        # Left empty, the period stays as it is (180 days for a new event).
        required=False,
        help_text=_(
            "Then names, emails, phones and organisations are anonymised; counts "
            "and the honour roll stay."
        ),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    FIELDS = [
        "title",
        "description",
        "timezone",
        "starts_on",
        "ends_on",
        "registration_opens_at",
        "registration_closes_at",
        "reminder_offsets",
        "privacy_notice_zh_hans",
        "privacy_notice_en",
        "retention_days",
    ]

    def __init__(self, *args: Any, event: Event | None = None, **kwargs: Any):
        if event is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{name: getattr(event, name) for name in self.FIELDS},
                "venue_name": event.venue.name if event.venue else "",
                "venue_address": event.venue.address if event.venue else "",
            }
        super().__init__(*args, **kwargs)
        self.event = event
        self.fields["timezone"].choices = time_zone_choices()  # type: ignore[attr-defined]
        zone = self._zone()
        for name in ("registration_opens_at", "registration_closes_at"):
            self.fields[name].zone = zone  # type: ignore[attr-defined]

    def _zone(self) -> zoneinfo.ZoneInfo:
        """The zone the times are typed in.

        An existing event's saved zone: its times were shown in it, and changing
        the zone keeps every moment where it is. A new event's is the one chosen.
        """
        if self.event is not None:
            return self.event.tzinfo
        chosen = self.data.get(self.add_prefix("timezone")) if self.is_bound else None
        if chosen in zoneinfo.available_timezones():
            return zoneinfo.ZoneInfo(chosen)
        return zoneinfo.ZoneInfo(self.fields["timezone"].initial)

    def clean_retention_days(self) -> int:
        value = self.cleaned_data["retention_days"]
        if value is None:
            return self.event.retention_days if self.event is not None else 180
        return value

    def clean_registration_opens_at(self) -> dt.datetime | None:
        value = self.cleaned_data["registration_opens_at"]
        return same_minute_kept(value, self.event, "registration_opens_at")

    def clean_registration_closes_at(self) -> dt.datetime | None:
        value = self.cleaned_data["registration_closes_at"]
        return same_minute_kept(value, self.event, "registration_closes_at")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("The event cannot end before it starts."))
        opens = data.get("registration_opens_at")
        closes = data.get("registration_closes_at")
        if opens and closes and closes <= opens:
            self.add_error(
                "registration_closes_at", _("Registration must close after it opens.")
            )
        return data

    def service_data(self) -> dict[str, Any]:
        """What ``event_create`` / ``event_update`` take."""
        data = {name: self.cleaned_data[name] for name in self.FIELDS}
        data["venue"] = self.cleaned_data["venue"]
        return data


class EventCreateForm(EventForm):
    slug = forms.SlugField(
        label=_("Web address"),
        max_length=100,
        help_text=_(
            "The last part of the event's address, e.g. social-work-week-2026: "
            "letters, digits and hyphens. It cannot be changed later."
        ),
    )

    field_order = ["title", "slug"]
    FIELDS = ["slug", *EventForm.FIELDS]

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].lower()
        validate_event_slug(slug)
        if Event.objects.filter(slug=slug).exists():
            raise ValidationError(_("Another event already has this address."))
        return slug


class SessionForm(VenueFieldsMixin):
    """A session of one event, its times in the event's zone."""

    title = _text(_("Title"), 200)
    description = _description()
    kind = forms.ChoiceField(
        label=_("Kind"), choices=Session.Kind.choices, initial=Session.Kind.TALK
    )
    starts_at = LocalDateTimeField(label=_("Starts"))
    ends_at = LocalDateTimeField(label=_("Ends"))
    venue_name = _text(_("Venue"), 200, required=False)
    venue_address = _text(_("Venue address"), 300, required=False)
    capacity = forms.IntegerField(
        label=_("Capacity"),
        min_value=0,
        max_value=1_000_000,
        required=False,
        help_text=_("Empty means unlimited."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    waitlist_enabled = forms.BooleanField(
        label=_("Waiting list when full"), required=False, initial=True
    )

    FIELDS = [
        "title",
        "description",
        "kind",
        "starts_at",
        "ends_at",
        "capacity",
        "waitlist_enabled",
    ]

    def __init__(
        self, *args: Any, event: Event, session: Session | None = None, **kwargs: Any
    ):
        if session is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{name: getattr(session, name) for name in self.FIELDS},
                "venue_name": session.venue.name if session.venue else "",
                "venue_address": session.venue.address if session.venue else "",
            }
        super().__init__(*args, **kwargs)
        self.event, self.session = event, session
        for name in ("starts_at", "ends_at"):
            self.fields[name].zone = event.tzinfo  # type: ignore[attr-defined]
        where = event.venue.name if event.venue else ""
        self.fields["venue_name"].help_text = (
            _("Empty: at the event's venue (%(venue)s).") % {"venue": where}
            if where
            else _("Empty: no venue of its own.")
        )

    def clean_starts_at(self) -> dt.datetime | None:
        return same_minute_kept(
            self.cleaned_data["starts_at"], self.session, "starts_at"
        )

    def clean_ends_at(self) -> dt.datetime | None:
        return same_minute_kept(self.cleaned_data["ends_at"], self.session, "ends_at")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("A session must end after it starts."))
        elif starts_at and ends_at and not self._within_event_dates(starts_at, ends_at):
            self.add_error(
                "starts_at",
                _(
                    "A session must take place within the event's dates: "
                    "%(starts_on)s to %(ends_on)s (%(zone)s)."
                )
                % {
                    "starts_on": date_format(self.event.starts_on, "DATE_FORMAT"),
                    "ends_on": date_format(self.event.ends_on, "DATE_FORMAT"),
                    "zone": self.event.timezone,
                },
            )
        return data

    def _within_event_dates(self, starts_at: dt.datetime, ends_at: dt.datetime) -> bool:
        """Starts on or after the first day and ends by the end of the last day
        (midnight after it included), both in the event's zone."""
        zone = self.event.tzinfo
        first = dt.datetime.combine(self.event.starts_on, dt.time(), zone)
        after_last = dt.datetime.combine(
            self.event.ends_on + dt.timedelta(days=1), dt.time(), zone
        )
        return first <= starts_at and ends_at <= after_last

    def service_data(self) -> dict[str, Any]:
        """What ``session_create`` / ``session_update`` take."""
        data = {name: self.cleaned_data[name] for name in self.FIELDS}
        data["venue"] = self.cleaned_data["venue"]
        return data

    def capacity_below_confirmed(self, confirmed: int) -> None:
        """Puts the service's refusal on the capacity field, in the reader's language."""
        self.add_error(
            "capacity",
            ngettext(
                "%(count)d registration is confirmed: the capacity cannot be lower.",
                "%(count)d registrations are confirmed: the capacity cannot be lower.",
                confirmed,
            )
            % {"count": confirmed},
        )
