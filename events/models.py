"""Events, their venues and sessions, the people who register and their registrations.

The invariants of DESIGN.md that live here are database constraints: a session's
confirmed seats never exceed its capacity (1), one active registration per session and
email in any letter case (2), a waiting list ordered by arrival (3), times in UTC (7).
"""

import datetime as dt
import re
import secrets
import zoneinfo
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Ticket codes: no 0/O, 1/I/L, so that a code read aloud at the door is unambiguous.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


def default_reminder_offsets() -> list[int]:
    return [1440, 120]


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("“%(value)s” is not a known time zone."), params={"value": value}
        )


def validate_reminder_offsets(value: object) -> None:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 60 * 24 * 60
        for v in value
    ):
        raise ValidationError(
            _(
                "Reminder offsets are a list of minutes before a session, each 1 to 86400."
            )
        )
    if len(value) > 10 or len(set(value)) != len(value):
        raise ValidationError(_("Give at most ten distinct reminder offsets."))


_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


def validate_colour(value: str) -> None:
    if value and not _COLOUR.fullmatch(value):
        raise ValidationError(_("Give a colour as # and six hex digits, e.g. #E8590C."))


def branding_upload_to(instance: "Event", filename: str) -> str:
    """A fresh, unguessable name per upload: a new logo never serves an old cache,
    and the organiser's file name (any script, any extension) is never used."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    extension = extension if extension in ("png", "jpg", "jpeg", "webp") else "bin"
    return f"branding/{secrets.token_hex(12)}.{extension}"


def new_ticket_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class Venue(models.Model):
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("venue")
        verbose_name_plural = _("venues")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EventQuerySet(models.QuerySet["Event"]):
    def published(self) -> "EventQuerySet":
        return self.filter(status=Event.Status.PUBLISHED)

    def for_organiser(self, user: object) -> "EventQuerySet":
        """Events the user organises; every event for a superuser, none for others."""
        if getattr(user, "is_superuser", False):
            return self.all()
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(organisers=user)


class Event(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CANCELLED = "cancelled", _("Cancelled")

    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        default="Asia/Shanghai",
        validators=[validate_timezone],
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    venue = models.ForeignKey(
        Venue,
        verbose_name=_("venue"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    registration_opens_at = models.DateTimeField(
        _("registration opens at"), null=True, blank=True
    )
    registration_closes_at = models.DateTimeField(
        _("registration closes at"), null=True, blank=True
    )
    reminder_offsets = models.JSONField(
        _("reminder offsets (minutes before a session)"),
        default=default_reminder_offsets,
        # An event may send no reminders at all: [] is a value, not a blank.
        blank=True,
        validators=[validate_reminder_offsets],
    )
    organisers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("organisers"),
        related_name="organised_events",
        blank=True,
    )
    # What registrants consent to; the version rises with every change of either
    # text (events.services.event_update) and is 0 while the event has no notice.
    privacy_notice_zh_hans = models.TextField(_("privacy notice (Chinese)"), blank=True)
    privacy_notice_en = models.TextField(_("privacy notice (English)"), blank=True)
    privacy_notice_version = models.PositiveIntegerField(
        _("privacy notice version"), default=0, editable=False
    )
    # Days after the last day after which attendees' personal data is anonymised.
    retention_days = models.PositiveIntegerField(
        _("keep personal data for (days after the event)"),
        default=180,
        validators=[MaxValueValidator(3660)],
    )
    # Branding: who issues the event's certificates and mail, and how its pages look.
    # The images are checked by events.images and kept through the storage API.
    organiser_name = models.CharField(
        _("organiser (issuing body)"), max_length=200, blank=True
    )
    logo = models.ImageField(
        _("logo"), upload_to=branding_upload_to, blank=True, max_length=200
    )
    accent_colour = models.CharField(
        _("accent colour"),
        max_length=7,
        blank=True,
        validators=[validate_colour],
        help_text=_("A colour as #RRGGBB, e.g. #E8590C."),
    )
    seal = models.ImageField(
        _("seal"), upload_to=branding_upload_to, blank=True, max_length=200
    )
    signatory_name = models.CharField(_("signatory"), max_length=200, blank=True)
    signatory_title = models.CharField(
        _("signatory's title"), max_length=200, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects: ClassVar[EventQuerySet] = EventQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["starts_on", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="event_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(registration_opens_at__isnull=True)
                | Q(registration_closes_at__isnull=True)
                | Q(registration_closes_at__gt=F("registration_opens_at")),
                name="event_registration_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:event_detail", kwargs={"slug": self.slug})

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def has_privacy_notice(self) -> bool:
        return self.privacy_notice_version > 0

    def privacy_notice_for(self, language: str | None) -> str:
        """The notice in the reader's language, else in the other one."""
        chinese = (language or "").lower().startswith("zh")
        first, second = (
            (self.privacy_notice_zh_hans, self.privacy_notice_en)
            if chinese
            else (self.privacy_notice_en, self.privacy_notice_zh_hans)
        )
        return first.strip() or second.strip()

    def registration_is_open(self, at: dt.datetime | None = None) -> bool:
        at = at or timezone.now()
        if self.status != Event.Status.PUBLISHED:
            return False
        if self.registration_opens_at and at < self.registration_opens_at:
            return False
        return not (self.registration_closes_at and at >= self.registration_closes_at)


class Session(models.Model):
    class Kind(models.TextChoices):
        CEREMONY = "ceremony", _("Ceremony")
        TALK = "talk", _("Talk")
        WORKSHOP = "workshop", _("Workshop")
        SHOWCASE = "showcase", _("Showcase")
        VISIT = "visit", _("Visit")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")

    event = models.ForeignKey(
        Event,
        verbose_name=_("event"),
        on_delete=models.CASCADE,
        related_name="sessions",
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    venue = models.ForeignKey(
        Venue,
        verbose_name=_("venue"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sessions",
    )
    capacity = models.PositiveIntegerField(
        _("capacity"), null=True, blank=True, help_text=_("Empty means unlimited.")
    )
    # Confirmed registrations, kept by conditional UPDATEs in events.services; the
    # CHECK constraint below is the last line against overbooking.
    seats_taken = models.PositiveIntegerField(
        _("seats taken"), default=0, editable=False
    )
    # The last waiting-list ticket handed out; each waitlisted registration keeps its
    # own number, so that the list is ordered by arrival without renumbering.
    waitlist_last = models.PositiveIntegerField(
        _("waiting-list numbers given"), default=0, editable=False
    )
    # How many of those numbers have left the list (promoted, cancelled, erased),
    # counted under the row lock like the number: a new place is the number less
    # those, read from the row a registration has locked (events.services).
    waitlist_left = models.PositiveIntegerField(
        _("left the waiting list"), default=0, editable=False
    )
    waitlist_enabled = models.BooleanField(_("waiting list"), default=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.SCHEDULED
    )
    # Raised on every change attendees must hear about; the calendar file's SEQUENCE.
    sequence = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(seats_taken__lte=F("capacity")),
                name="session_not_overbooked",
            ),
            models.CheckConstraint(
                condition=Q(seats_taken__gte=0), name="session_seats_taken_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(waitlist_left__lte=F("waitlist_last")),
                name="session_waitlist_left_within_numbers",
            ),
        ]
        indexes = [models.Index(fields=["event", "starts_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def seats_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_cancelled(self) -> bool:
        return self.status == Session.Status.CANCELLED

    @property
    def has_started(self) -> bool:
        return self.starts_at <= timezone.now()


class Attendee(models.Model):
    """A person who registers, known by their email address (stored lower-cased)."""

    email = models.EmailField(_("email"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=10, default="en")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("attendee")
        verbose_name_plural = _("attendees")

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"


class Registration(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITLISTED = "waitlisted", _("Waitlisted")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE_STATUSES = (Status.CONFIRMED, Status.WAITLISTED)

    code = models.CharField(
        _("ticket code"), max_length=16, unique=True, default=new_ticket_code
    )
    session = models.ForeignKey(
        Session,
        verbose_name=_("session"),
        on_delete=models.CASCADE,
        related_name="registrations",
        # (session, ...) indexes below lead with the session: no index of its own.
        db_index=False,
    )
    # The session's event, kept beside it so that an event's registrations (the
    # dashboard, the attendee list, exports) are read by an index of their own
    # rather than through every session. Set when the row is written
    # (services._registration_insert, registration_reserve); a session never
    # moves to another event.
    event = models.ForeignKey(
        Event,
        verbose_name=_("event"),
        on_delete=models.CASCADE,
        related_name="registrations",
        editable=False,
        db_index=False,
    )
    attendee = models.ForeignKey(
        Attendee,
        verbose_name=_("attendee"),
        on_delete=models.PROTECT,
        related_name="registrations",
    )
    # The name and address as given for this registration.
    full_name = models.CharField(_("full name"), max_length=200)
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    # A seat held for a guest (an awardee at their ceremony): not one of the
    # session's public seats, so it never reduces seats_left.
    reserved = models.BooleanField(_("reserved seat"), default=False)
    waitlist_number = models.PositiveIntegerField(null=True, blank=True, editable=False)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    promoted_at = models.DateTimeField(_("promoted at"), null=True, blank=True)
    # When the person agreed to the event's privacy notice, and to which version
    # (PrivacyNotice keeps its text); empty where the event had no notice.
    consent_at = models.DateTimeField(_("consented at"), null=True, blank=True)
    consent_version = models.PositiveIntegerField(
        _("privacy notice version consented to"), null=True, blank=True
    )
    # Set when the personal data was replaced by a placeholder (events.privacy):
    # the row stays, as a seat and in the counts, and receives no more mail.
    erased_at = models.DateTimeField(
        _("personal data erased at"), null=True, blank=True
    )

    # Place on the waiting list, set by the selectors that compute it (1 = next in).
    waitlist_position: int | None = None

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                F("session"),
                Lower("email"),
                condition=Q(status__in=["confirmed", "waitlisted"]),
                name="registration_one_active_per_email",
            ),
            models.UniqueConstraint(
                fields=["session", "waitlist_number"],
                condition=Q(status="waitlisted"),
                name="registration_unique_waitlist_number",
            ),
            models.CheckConstraint(
                condition=Q(status="waitlisted", waitlist_number__isnull=False)
                | ~Q(status="waitlisted"),
                name="registration_waitlisted_has_number",
            ),
        ]
        indexes = [
            # (The waiting list in order is read through the unique constraint's
            # index on (session, waitlist_number) of waitlisted rows; those who left
            # it are counted on the session row, Session.waitlist_left.)
            models.Index(fields=["session", "status"]),
            models.Index(fields=["event", "status"], name="registration_event_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.full_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The event is the session's (PostgreSQL holds every row to it: 0009).
        if self.event_id is None and self.session_id is not None:
            self.event_id = self.session.event_id
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("events:registration_manage", kwargs={"code": self.code})

    @property
    def token(self) -> str:
        """The secret of the manage link, derived from the code and SECRET_KEY."""
        return salted_hmac("podium.registration.manage", self.code).hexdigest()[:32]

    def token_matches(self, token: str | None) -> bool:
        return bool(token) and constant_time_compare(self.token, token or "")

    @property
    def manage_url(self) -> str:
        return f"{settings.SITE_URL}{self.get_absolute_url()}?token={self.token}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class SessionReminder(models.Model):
    """A reminder offset of a session planned for one start time (planned once)."""

    session = models.ForeignKey(
        Session, on_delete=models.CASCADE, related_name="reminders"
    )
    offset_minutes = models.PositiveIntegerField()
    starts_at = models.DateTimeField()
    planned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "offset_minutes", "starts_at"],
                name="session_reminder_planned_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.session} −{self.offset_minutes} min"


class PrivacyNotice(models.Model):
    """One version of an event's privacy notice, kept as it was consented to."""

    event = models.ForeignKey(
        Event,
        verbose_name=_("event"),
        on_delete=models.CASCADE,
        related_name="privacy_notices",
    )
    version = models.PositiveIntegerField(_("version"))
    text_zh_hans = models.TextField(_("text (Chinese)"), blank=True)
    text_en = models.TextField(_("text (English)"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("privacy notice")
        verbose_name_plural = _("privacy notices")
        ordering = ["event", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "version"], name="privacy_notice_one_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} v{self.version}"


class PersonalDataErasure(models.Model):
    """The audit record of an erasure: who, when, why and how much, never whose.

    ``label`` is the placeholder the anonymised rows now carry ("Erased 3F9A2C"),
    which finds them again without naming the person.
    """

    class Reason(models.TextChoices):
        REQUEST = "request", _("At the person's request")
        RETENTION = "retention", _("Retention period over")

    event = models.ForeignKey(
        Event,
        verbose_name=_("event"),
        on_delete=models.CASCADE,
        related_name="erasures",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("erased by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    label = models.CharField(_("placeholder"), max_length=40)
    registrations = models.PositiveIntegerField(_("registrations anonymised"))
    notifications_cancelled = models.PositiveIntegerField(
        _("queued emails cancelled"), default=0
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("personal data erasure")
        verbose_name_plural = _("personal data erasures")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.label}"


def in_language(zh_hans: str, en: str, language: str | None = None) -> str:
    """The text in the reader's language (the active one by default), else the other."""
    from django.utils.translation import get_language

    chinese = (language or get_language() or "").lower().startswith("zh")
    first, second = (zh_hans, en) if chinese else (en, zh_hans)
    return (first or "").strip() or (second or "").strip()


class Question(models.Model):
    """A question an organiser asks registrants of an event, in both languages.

    ``choices`` is a list of ``{"value", "label_zh_hans", "label_en"}``; ``value`` is
    the stable key answers store. No sessions means every session of the event. A
    question that has answers is retired (``active`` off), never deleted.
    """

    class Kind(models.TextChoices):
        SHORT_TEXT = "short_text", _("Short text")
        LONG_TEXT = "long_text", _("Long text")
        NUMBER = "number", pgettext_lazy("question kind", "Number")
        DATE = "date", _("Date")
        SINGLE_CHOICE = "single_choice", _("One choice")
        MULTIPLE_CHOICE = "multiple_choice", _("Several choices")
        YES_NO = "yes_no", _("Yes or no")

    CHOICE_KINDS = (Kind.SINGLE_CHOICE, Kind.MULTIPLE_CHOICE)

    event = models.ForeignKey(
        Event,
        verbose_name=_("event"),
        on_delete=models.CASCADE,
        related_name="questions",
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    required = models.BooleanField(_("required"), default=False)
    label_zh_hans = models.CharField(
        _("question (Chinese)"), max_length=300, blank=True
    )
    label_en = models.CharField(_("question (English)"), max_length=300, blank=True)
    help_zh_hans = models.TextField(_("help (Chinese)"), blank=True)
    help_en = models.TextField(_("help (English)"), blank=True)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    sessions = models.ManyToManyField(
        Session,
        verbose_name=_("sessions"),
        related_name="questions",
        blank=True,
        help_text=_("None chosen means every session."),
    )
    active = models.BooleanField(_("asked"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(label_zh_hans="") | ~Q(label_en=""),
                name="question_has_a_label",
            )
        ]

    def __str__(self) -> str:
        return self.label()

    def label(self, language: str | None = None) -> str:
        return in_language(self.label_zh_hans, self.label_en, language)

    def help(self, language: str | None = None) -> str:
        return in_language(self.help_zh_hans, self.help_en, language)

    def choice_options(self, language: str | None = None) -> list[tuple[str, str]]:
        """``(value, label)`` per choice, labelled in the reader's language."""
        return [
            (
                str(c.get("value", "")),
                in_language(c.get("label_zh_hans", ""), c.get("label_en", ""), language)
                or str(c.get("value", "")),
            )
            for c in self.choices or []
        ]


class Answer(models.Model):
    """A registrant's answer to a question, with the words it was given under.

    The question's label and the chosen choices' labels are copied at answer time,
    so that an answer stays readable after the question is reworded or retired.
    ``value`` is a string, a number, an ISO date string, a list of choice values
    or a boolean, by the question's kind (also copied).
    """

    registration = models.ForeignKey(
        Registration,
        verbose_name=_("registration"),
        on_delete=models.CASCADE,
        related_name="answers",
    )
    question = models.ForeignKey(
        Question,
        verbose_name=_("question"),
        on_delete=models.PROTECT,
        related_name="answers",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Question.Kind.choices)
    # Empty (NULL) once the person's data is erased.
    value = models.JSONField(_("value"), null=True)
    label_zh_hans = models.CharField(
        _("question (Chinese)"), max_length=300, blank=True
    )
    label_en = models.CharField(_("question (English)"), max_length=300, blank=True)
    # [{"value", "label_zh_hans", "label_en"}] of the choices picked, as they read then.
    choice_labels = models.JSONField(
        _("labels of the choices"), default=list, blank=True
    )
    created_at = models.DateTimeField(_("answered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["question__position", "question_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "question"], name="answer_one_per_question"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label()}: {self.display()}"

    def label(self, language: str | None = None) -> str:
        return in_language(self.label_zh_hans, self.label_en, language)

    def display(self, language: str | None = None) -> str:
        """The answer as a person reads it, in the reader's language."""
        from contextlib import nullcontext

        from django.utils.translation import gettext, override

        value = self.value
        if value is None:
            return ""
        if self.kind == Question.Kind.YES_NO:
            with override(language) if language else nullcontext():
                return gettext("Yes") if value else gettext("No")
        if self.kind in Question.CHOICE_KINDS:
            labels = {
                str(c.get("value")): in_language(
                    c.get("label_zh_hans", ""), c.get("label_en", ""), language
                )
                for c in self.choice_labels or []
            }
            values = value if isinstance(value, list) else [value]
            return ", ".join(labels.get(str(v)) or str(v) for v in values)
        return str(value)


class IdempotencyKey(models.Model):
    """A POST's ``Idempotency-Key`` and the first answer to it, replayed to retries.

    Unique per scope (the endpoint, with its event, and the signed-in user if any).
    The row is inserted and its answer stored in the request's one transaction, so
    a committed row always has its answer (events.idempotency).
    """

    scope = models.CharField(_("scope"), max_length=200)
    key = models.CharField(_("key"), max_length=255)
    # SHA-256 of the request body as canonical JSON: a key is for one request only.
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    response_status = models.PositiveSmallIntegerField(
        _("response status"), null=True, blank=True
    )
    response_content_type = models.CharField(
        _("response content type"), max_length=100, blank=True
    )
    response_headers = models.JSONField(_("response headers"), default=dict, blank=True)
    # The answer's data as JSON text (not jsonb), so that its key order is kept.
    response_body = models.TextField(_("response body"), blank=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key"], name="idempotency_key_unique_in_scope"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_created")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
