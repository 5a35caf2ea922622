"""Forms of the console's event and session pages.

Times are typed and shown in the event's own time zone, whatever the server's is:
each time field carries that zone and interprets a naive value in it explicitly.
The forms only check the shape of what is typed; the services decide the rest.
"""

import datetime as dt
import functools
import re
import zoneinfo
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.utils import build_lang
from modeltranslation.utils import get_language as translation_language

from config.l10n import zone_name

from ..images import BrandImage, brand_image_check
from ..models import Event, Session, validate_colour, validate_reminder_offsets
from ..slugs import validate_event_slug
from ..validators import clean_free_text, no_control_characters

EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"
MAX_OFFSET = 60 * 24 * 60
# What a colour input shows for an event without a colour (Podium's own blue).
DEFAULT_COLOUR = "#0172AD"


def within_planning_range(value: dt.date) -> None:
    """Events are planned in this century: anything else is a typo (as in the API)."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValidationError(_("Give a date between 2000 and 2100."))


def time_zone_choices() -> list[tuple[str, str]]:
    """Each zone by its identifier (typed to jump to it), with its name in the
    reader's language: "Asia/Shanghai (北京时间)"."""
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    return _time_zone_choices(translation_language(), now)


@functools.lru_cache(maxsize=8)
def _time_zone_choices(language: str, hour: dt.datetime) -> list[tuple[str, str]]:
    return [
        (zone, f"{zone} ({zone_name(zone, language=language, at=hour)})")
        for zone in sorted(zoneinfo.available_timezones())
    ]


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


def _description(label: Any = None, *, lang: str | None = None) -> forms.CharField:
    attrs: dict[str, Any] = {"rows": 4}
    if lang:
        attrs["lang"] = lang
    return forms.CharField(
        label=label or _("Description"),
        max_length=20000,
        required=False,
        validators=[clean_free_text],
        widget=forms.Textarea(attrs=attrs),
    )


def _in_language(
    field: forms.Field, lang: str, *, required: bool = False
) -> forms.Field:
    """The field marked as written in one language (``lang`` for screen readers
    and spelling checkers)."""
    field.required = required
    field.widget.attrs["lang"] = lang
    return field


# Each translated text is a pair of fields, Chinese then English, shown side by
# side (events/templates/console/bilingual_fields.html).
LANGUAGES = (("zh_hans", "zh-Hans"), ("en", "en"))


def bilingual_rows(form: forms.Form, names: list[str]) -> list[tuple[Any, Any]]:
    """``(Chinese field, English field)`` of each name, bound, for a template."""
    return [(form[f"{name}_zh_hans"], form[f"{name}_en"]) for name in names]


def with_language_columns(data: Any, names: list[str]) -> Any:
    """Posted data with a plain name (``title``) read as the reader's language's
    field (``title_en`` in English) when that field is not posted itself: the
    same rule as the API's. A script that posts the plain names keeps working."""
    if data is None or not hasattr(data, "keys"):
        return data
    suffix = build_lang(translation_language())
    missing = [n for n in names if n in data and f"{n}_{suffix}" not in data]
    if not missing:
        return data
    data = data.copy()
    for name in missing:
        data[f"{name}_{suffix}"] = data[name]
    return data


class BilingualRowsMixin:
    """The form's translated texts as ``(Chinese, English)`` pairs, per group."""

    BILINGUAL_ABOUT: list[str] = []
    BILINGUAL_VENUE: list[str] = []
    BILINGUAL_BRANDING: list[str] = []

    def bilingual_names(self) -> list[str]:
        return [*self.BILINGUAL_ABOUT, *self.BILINGUAL_VENUE, *self.BILINGUAL_BRANDING]

    def _fields_to_save(self) -> list[str]:
        """The form's ``FIELDS``, less the language fields a client did not post."""
        fields: list[str] = getattr(self, "FIELDS", [])
        posted = set(self.posted_language_fields(fields))
        return [f for f in fields if not _language_field(f) or f in posted]

    def posted_language_fields(self, names: list[str]) -> list[str]:
        """Of the language fields ``names``, those posted: a language a client
        leaves out keeps its text (only a full page's form posts them all)."""
        data = getattr(self, "data", {})
        prefix = getattr(self, "add_prefix", lambda name: name)
        return [name for name in names if prefix(name) in data]

    @property
    def about_rows(self) -> list[tuple[Any, Any]]:
        return bilingual_rows(self, self.BILINGUAL_ABOUT)  # type: ignore[arg-type]

    @property
    def venue_rows(self) -> list[tuple[Any, Any]]:
        return bilingual_rows(self, self.BILINGUAL_VENUE)  # type: ignore[arg-type]

    @property
    def branding_rows(self) -> list[tuple[Any, Any]]:
        return bilingual_rows(self, self.BILINGUAL_BRANDING)  # type: ignore[arg-type]


def _language_field(name: str) -> bool:
    return name.endswith(("_zh_hans", "_en")) and not name.startswith("privacy_")


def _require_some_language(form: forms.Form, name: str, message: Any) -> None:
    """A text needed in at least one language; an error beside the Chinese one
    (unless a language's own field was refused already)."""
    texts = [form.cleaned_data.get(f"{name}_{suffix}") for suffix in ("zh_hans", "en")]
    checked = all(
        f"{name}_{suffix}" in form.cleaned_data for suffix in ("zh_hans", "en")
    )
    if checked and not any((text or "").strip() for text in texts):
        form.add_error(f"{name}_zh_hans", message)


class VenueFieldsMixin(BilingualRowsMixin, forms.Form):
    """A venue typed as its name and address in each language; no name in either
    language means no venue of its own."""

    VENUE_TEXTS = ("name_zh_hans", "name_en", "address_zh_hans", "address_en")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        posted = self.posted_language_fields([f"venue_{c}" for c in self.VENUE_TEXTS])
        texts = {
            column: (data.get(f"venue_{column}") or "").strip()
            for column in self.VENUE_TEXTS
            if f"venue_{column}" in posted
        }
        named = texts.get("name_zh_hans") or texts.get("name_en")
        if (texts.get("address_zh_hans") or texts.get("address_en")) and not named:
            self.add_error(
                "venue_name_zh_hans", _("Give the venue's name with its address.")
            )
        data["venue"] = texts if named else None
        return data

    def venue_initial(self, venue: Any) -> dict[str, Any]:
        return {
            f"venue_{column}": (getattr(venue, column, None) or "") if venue else ""
            for column in self.VENUE_TEXTS
        }


class BrandImageField(forms.FileField):
    """A logo or seal upload, checked by its bytes (events.images)."""

    widget = forms.FileInput(
        attrs={"accept": "image/png,image/jpeg,image/webp", "data-preview": "true"}
    )

    def to_python(self, data: Any) -> BrandImage | None:  # type: ignore[override]
        upload = super().to_python(data)
        if upload is None:
            return None
        return brand_image_check(upload)


class EventForm(VenueFieldsMixin):
    """An event's settings. Given an ``event``, its time zone reads the times."""

    title_zh_hans = _in_language(_text(_("Title in Chinese"), 200), "zh-Hans")
    title_en = _in_language(_text(_("Title in English"), 200), "en")
    description_zh_hans = _description(_("Description in Chinese"), lang="zh-Hans")
    description_en = _description(_("Description in English"), lang="en")
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
    venue_name_zh_hans = _in_language(_text(_("Venue in Chinese"), 200), "zh-Hans")
    venue_name_en = _in_language(_text(_("Venue in English"), 200), "en")
    venue_address_zh_hans = _in_language(
        _text(_("Venue address in Chinese"), 300), "zh-Hans"
    )
    venue_address_en = _in_language(_text(_("Venue address in English"), 300), "en")
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

    organiser_name_zh_hans = _in_language(
        _text(_("Organiser (issuing body) in Chinese"), 200), "zh-Hans"
    )
    organiser_name_en = _in_language(
        _text(_("Organiser (issuing body) in English"), 200), "en"
    )
    signatory_name_zh_hans = _in_language(
        _text(_("Signatory in Chinese"), 200), "zh-Hans"
    )
    signatory_name_en = _in_language(_text(_("Signatory in English"), 200), "en")
    signatory_title_zh_hans = _in_language(
        _text(_("Signatory's title in Chinese"), 200), "zh-Hans"
    )
    signatory_title_en = _in_language(
        _text(_("Signatory's title in English"), 200), "en"
    )
    accent_colour = forms.CharField(
        label=_("Accent colour"),
        required=False,
        max_length=7,
        validators=[validate_colour],
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_(
            "Buttons and links of the event's pages take this colour; text stays "
            "readable (a light colour is darkened for text)."
        ),
    )
    accent_colour_none = forms.BooleanField(
        label=_("No accent colour: Podium's own colours"), required=False
    )
    logo = BrandImageField(
        label=_("Logo"),
        required=False,
        help_text=_(
            "PNG, JPEG or WebP, at most 2 MB, each side 16 to 4000 pixels. "
            "Shown on the event's pages and in its emails."
        ),
    )
    logo_remove = forms.BooleanField(label=_("Remove the logo"), required=False)
    seal = BrandImageField(
        label=_("Seal"),
        required=False,
        help_text=_(
            "Printed over the date on the certificates: PNG or WebP with a "
            "transparent background reads best. At most 2 MB."
        ),
    )
    seal_remove = forms.BooleanField(label=_("Remove the seal"), required=False)

    # Shown side by side, Chinese beside English.
    BILINGUAL_ABOUT = ["title", "description"]
    BILINGUAL_VENUE = ["venue_name", "venue_address"]
    BILINGUAL_BRANDING = ["organiser_name", "signatory_name", "signatory_title"]
    FIELDS = [
        "title_zh_hans",
        "title_en",
        "description_zh_hans",
        "description_en",
        "organiser_name_zh_hans",
        "organiser_name_en",
        "signatory_name_zh_hans",
        "signatory_name_en",
        "signatory_title_zh_hans",
        "signatory_title_en",
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
                **self.venue_initial(event.venue),
                "accent_colour": event.accent_colour or DEFAULT_COLOUR,
                "accent_colour_none": not event.accent_colour,
            }
        elif event is None and "initial" not in kwargs:
            kwargs["initial"] = {
                "accent_colour": DEFAULT_COLOUR,
                "accent_colour_none": True,
            }
        if args:
            args = (with_language_columns(args[0], self.bilingual_names()), *args[1:])
        elif "data" in kwargs:
            kwargs["data"] = with_language_columns(
                kwargs["data"], self.bilingual_names()
            )
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

    @property
    def image_fields(self) -> list[tuple[Any, Any, str]]:
        """``(upload, remove, kind)`` of the logo and the seal, for a template."""
        return [(self[kind], self[f"{kind}_remove"], kind) for kind in ("logo", "seal")]

    def clean_accent_colour(self) -> str:
        return (self.cleaned_data.get("accent_colour") or "").upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        _require_some_language(
            self, "title", _("Give a title in Chinese or in English.")
        )
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
        """What ``event_create`` / ``event_update`` take: a new logo or seal as a
        checked image, None to remove one, nothing to keep it."""
        data = {name: self.cleaned_data[name] for name in self._fields_to_save()}
        data["venue"] = self.cleaned_data["venue"]
        data["accent_colour"] = (
            ""
            if self.cleaned_data.get("accent_colour_none")
            else self.cleaned_data["accent_colour"]
        )
        for image in ("logo", "seal"):
            if self.cleaned_data.get(image) is not None:
                data[image] = self.cleaned_data[image]
            elif self.cleaned_data.get(f"{image}_remove"):
                data[image] = None
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

    field_order = ["title_zh_hans", "title_en", "slug"]
    FIELDS = ["slug", *EventForm.FIELDS]

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].lower()
        validate_event_slug(slug)
        if Event.objects.filter(slug=slug).exists():
            raise ValidationError(_("Another event already has this address."))
        return slug


class SessionForm(VenueFieldsMixin):
    """A session of one event, its times in the event's zone."""

    title_zh_hans = _in_language(_text(_("Title in Chinese"), 200), "zh-Hans")
    title_en = _in_language(_text(_("Title in English"), 200), "en")
    description_zh_hans = _description(_("Description in Chinese"), lang="zh-Hans")
    description_en = _description(_("Description in English"), lang="en")
    kind = forms.ChoiceField(
        label=_("Kind"), choices=Session.Kind.choices, initial=Session.Kind.TALK
    )
    starts_at = LocalDateTimeField(label=_("Starts"))
    ends_at = LocalDateTimeField(label=_("Ends"))
    venue_name_zh_hans = _in_language(_text(_("Venue in Chinese"), 200), "zh-Hans")
    venue_name_en = _in_language(_text(_("Venue in English"), 200), "en")
    venue_address_zh_hans = _in_language(
        _text(_("Venue address in Chinese"), 300), "zh-Hans"
    )
    venue_address_en = _in_language(_text(_("Venue address in English"), 300), "en")
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

    BILINGUAL_ABOUT = ["title", "description"]
    BILINGUAL_VENUE = ["venue_name", "venue_address"]
    FIELDS = [
        "title_zh_hans",
        "title_en",
        "description_zh_hans",
        "description_en",
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
                **self.venue_initial(session.venue),
            }
        if args:
            args = (with_language_columns(args[0], self.bilingual_names()), *args[1:])
        elif "data" in kwargs:
            kwargs["data"] = with_language_columns(
                kwargs["data"], self.bilingual_names()
            )
        super().__init__(*args, **kwargs)
        self.event, self.session = event, session
        for name in ("starts_at", "ends_at"):
            self.fields[name].zone = event.tzinfo  # type: ignore[attr-defined]
        where = event.venue.name if event.venue else ""
        self.fields["venue_name_zh_hans"].help_text = (
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
        _require_some_language(
            self, "title", _("Give a title in Chinese or in English.")
        )
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
                    "zone": zone_name(self.event.timezone),
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
        data = {name: self.cleaned_data[name] for name in self._fields_to_save()}
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
