"""Shapes of the events API (API.md): what comes in and what goes out."""

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from modeltranslation.utils import build_lang
from modeltranslation.utils import get_language as translation_language
from rest_framework import serializers

from config.l10n import LANGUAGE_SUFFIXES

from ..images import brand_image_version
from ..models import (
    Event,
    Question,
    Registration,
    Session,
    Venue,
    validate_colour,
    validate_reminder_offsets,
)
from ..slugs import validate_event_slug
from ..validators import clean_free_text, no_control_characters

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


def within_planning_range(value: dt.date) -> None:
    """Events are planned in this century: anything else is a typo."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise serializers.ValidationError(_("Give a date between 2000 and 2100."))


class AwareDateTimeField(serializers.DateTimeField):
    """A moment with its UTC offset: a time without one is refused, not guessed.

    Read in the server's zone, "10:00" for a London event would silently become
    another moment (API.md: times are ISO 8601 with offset).
    """

    default_error_messages = {
        "naive": _(
            "Give the time with its UTC offset, e.g. 2021-09-20T10:00:00+08:00."
        ),
    }

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


def moment(**kwargs: Any) -> serializers.DateTimeField:
    return AwareDateTimeField(validators=[within_planning_range], **kwargs)


def day(**kwargs: Any) -> serializers.DateField:
    return serializers.DateField(validators=[within_planning_range], **kwargs)


class LanguageText(serializers.CharField):
    """A text in one language (``title_zh_hans``, ``title_en``): null when there is
    none in that language. Writing null or "" empties that language only."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        if not kwargs.get("read_only"):
            kwargs.setdefault("required", False)
            kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:  # type: ignore[override]
        return str(value) if value else None


IN_LANGUAGE = {
    "zh_hans": "in Simplified Chinese",
    "en": "in English",
}


def _in_each_language(
    field: str, what: str, *, read_only: bool = False, **kwargs: Any
) -> dict[str, LanguageText]:
    """``<field>_zh_hans`` and ``<field>_en`` for a serializer's namespace."""
    return {
        f"{field}_{suffix}": LanguageText(
            read_only=read_only,
            help_text=f"The {what} {words}; null when there is none in it.",
            **kwargs,
        )
        for suffix, words in IN_LANGUAGE.items()
    }


def _plain_help(what: str) -> str:
    return (
        f"The {what} in the request's language (Accept-Language), else in the "
        "other one. Written, it sets the request's language only."
    )


def _language_texts(
    field: str, what: str, *, max_length: int, free_text: bool = False
) -> dict[str, serializers.Field]:
    """A translated field as input: the plain name (the request's language) and
    one per language, all optional."""
    validators = [clean_free_text] if free_text else [no_control_characters]
    return {
        field: serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=max_length,
            validators=validators,
            help_text=_plain_help(what),
        ),
        **_in_each_language(
            field, what, max_length=max_length, validators=list(validators)
        ),
    }


def language_value(
    field: str, attrs: dict[str, Any], instance: Any = None
) -> dict[str, str]:
    """What a translated field will hold per language once ``attrs`` are written:
    an explicit language wins over the plain name, which is the request's
    language; a language not given keeps the instance's text."""
    active = build_lang(translation_language())
    values = {}
    for suffix in LANGUAGE_SUFFIXES:
        column = f"{field}_{suffix}"
        if column in attrs:
            value = attrs[column]
        elif field in attrs and suffix == active:
            value = attrs[field]
        else:
            value = getattr(instance, column, None) if instance is not None else None
        values[suffix] = (value or "").strip()
    return values


def require_in_some_language(
    field: str, attrs: dict[str, Any], instance: Any, message: Any
) -> None:
    if not any(language_value(field, attrs, instance).values()):
        raise serializers.ValidationError({field: [message]})


class VenueInputSerializer(serializers.Serializer):
    """A place by its name and address, in either language or both."""

    locals().update(_language_texts("name", "venue's name", max_length=200))
    locals().update(_language_texts("address", "venue's address", max_length=300))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        require_in_some_language(
            "name", attrs, None, _("Give the venue's name in Chinese or in English.")
        )
        return attrs


class VenueSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True, help_text=_plain_help("name"))
    address = serializers.CharField(read_only=True, help_text=_plain_help("address"))
    locals().update(_in_each_language("name", "venue's name", read_only=True))
    locals().update(_in_each_language("address", "venue's address", read_only=True))


def venue_output(venue: Venue | None) -> dict[str, Any] | None:
    return None if venue is None else VenueSerializer(venue).data


class SessionOutputSerializer(serializers.ModelSerializer):
    venue = serializers.SerializerMethodField()
    seats_left = serializers.IntegerField(allow_null=True, read_only=True)
    title = serializers.CharField(read_only=True, help_text=_plain_help("title"))
    description = serializers.CharField(
        read_only=True, help_text=_plain_help("description")
    )
    locals().update(_in_each_language("title", "title", read_only=True))
    locals().update(_in_each_language("description", "description", read_only=True))

    class Meta:
        model = Session
        fields = [
            "id",
            "title",
            "title_zh_hans",
            "title_en",
            "description",
            "description_zh_hans",
            "description_en",
            "kind",
            "starts_at",
            "ends_at",
            "venue",
            "capacity",
            "seats_left",
            "waitlist_enabled",
            "status",
        ]

    @extend_schema_field(VenueSerializer(allow_null=True))
    def get_venue(self, session: Session) -> dict[str, Any] | None:
        return venue_output(session.venue or session.event.venue)


EVENT_TEXTS = {
    "title": "title",
    "description": "description",
    "organiser_name": "organiser's (issuing body's) name",
    "signatory_name": "signatory's name",
    "signatory_title": "signatory's title",
}


def brand_image_url(event: Event, kind: str, request: Any) -> str | None:
    """The absolute address of the event's logo or seal, or None without one."""
    image = getattr(event, kind)
    if not image:
        return None
    path = reverse(
        "events:event_brand_image", kwargs={"slug": event.slug, "kind": kind}
    )
    path = f"{path}?v={brand_image_version(image.name)}"
    if request is not None:
        return str(request.build_absolute_uri(path))
    return f"{settings.SITE_URL}{path}"


class EventOutputSerializer(serializers.ModelSerializer):
    venue = VenueSerializer(allow_null=True)
    for _field, _what in EVENT_TEXTS.items():
        locals()[_field] = serializers.CharField(
            read_only=True, help_text=_plain_help(_what)
        )
        locals().update(_in_each_language(_field, _what, read_only=True))
    del _field, _what
    accent_colour = serializers.CharField(
        read_only=True,
        help_text="The event's colour on its pages, as #RRGGBB; empty for none.",
    )
    logo_url = serializers.SerializerMethodField(
        help_text="The event's logo (absolute URL), or null without one."
    )
    seal_url = serializers.SerializerMethodField(
        help_text="The seal on the event's certificates (absolute URL), or null."
    )

    class Meta:
        model = Event
        fields = [
            "slug",
            "title",
            "title_zh_hans",
            "title_en",
            "description",
            "description_zh_hans",
            "description_en",
            "status",
            "timezone",
            "starts_on",
            "ends_on",
            "venue",
            "registration_opens_at",
            "registration_closes_at",
            "reminder_offsets",
            "privacy_notice_zh_hans",
            "privacy_notice_en",
            "privacy_notice_version",
            "retention_days",
            "organiser_name",
            "organiser_name_zh_hans",
            "organiser_name_en",
            "signatory_name",
            "signatory_name_zh_hans",
            "signatory_name_en",
            "signatory_title",
            "signatory_title_zh_hans",
            "signatory_title_en",
            "accent_colour",
            "logo_url",
            "seal_url",
        ]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_logo_url(self, event: Event) -> str | None:
        return brand_image_url(event, "logo", self.context.get("request"))

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_seal_url(self, event: Event) -> str | None:
        return brand_image_url(event, "seal", self.context.get("request"))


class QuestionChoiceSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="The key an answer gives.")
    # Declared fields leave the class's namespace (DRF's metaclass): no clash at run time.
    label = serializers.CharField(help_text="In the reader's language.")  # type: ignore[assignment]


class QuestionOutputSerializer(serializers.Serializer):
    """One of the event's questions, worded in the reader's language."""

    id = serializers.IntegerField(source="pk")
    kind = serializers.ChoiceField(choices=Question.Kind.choices)
    label = serializers.SerializerMethodField()  # type: ignore[assignment]
    help = serializers.SerializerMethodField()
    required = serializers.BooleanField()  # type: ignore[assignment]
    choices = serializers.SerializerMethodField()
    sessions = serializers.SerializerMethodField(
        help_text="Ids of the sessions it is asked for; empty: every session."
    )

    def get_label(self, question: Question) -> str:
        return question.label()

    def get_help(self, question: Question) -> str:
        return question.help()

    @extend_schema_field(QuestionChoiceSerializer(many=True))
    def get_choices(self, question: Question) -> list[dict[str, str]]:
        return [
            {"value": value, "label": label}
            for value, label in question.choice_options()
        ]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_sessions(self, question: Question) -> list[int]:
        return [s.pk for s in question.sessions.all()]


class EventDetailOutputSerializer(EventOutputSerializer):
    sessions = SessionOutputSerializer(many=True)
    questions = serializers.SerializerMethodField(
        help_text="The event's questions to registrants, in order (read-only)."
    )

    class Meta(EventOutputSerializer.Meta):
        fields = [*EventOutputSerializer.Meta.fields, "sessions", "questions"]

    @extend_schema_field(QuestionOutputSerializer(many=True))
    def get_questions(self, event: Event) -> list[dict[str, Any]]:
        from ..questions import questions_for_event

        return QuestionOutputSerializer(  # type: ignore[return-value]
            questions_for_event(event=event), many=True
        ).data


class EventInputSerializer(serializers.Serializer):
    """An event's fields. A new event needs a title in at least one language."""

    slug = serializers.SlugField(max_length=100, validators=[validate_event_slug])
    locals().update(_language_texts("title", "title", max_length=200))
    locals().update(
        _language_texts("description", "description", max_length=20000, free_text=True)
    )
    locals().update(
        _language_texts(
            "organiser_name", "organiser's (issuing body's) name", max_length=200
        )
    )
    locals().update(
        _language_texts("signatory_name", "signatory's name", max_length=200)
    )
    locals().update(
        _language_texts("signatory_title", "signatory's title", max_length=200)
    )
    accent_colour = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=7,
        validators=[validate_colour],
        help_text="The event's colour on its pages, as #RRGGBB; empty for none.",
    )
    status = serializers.ChoiceField(choices=Event.Status.choices, required=False)
    timezone = serializers.CharField(max_length=64, required=False)
    starts_on = day()
    ends_on = day()
    venue = VenueInputSerializer(required=False, allow_null=True)
    registration_opens_at = moment(required=False, allow_null=True)
    registration_closes_at = moment(required=False, allow_null=True)
    reminder_offsets = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=86400),
        required=False,
        max_length=10,
    )
    privacy_notice_zh_hans = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20000,
        validators=[clean_free_text],
    )
    privacy_notice_en = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20000,
        validators=[clean_free_text],
    )
    retention_days = serializers.IntegerField(
        required=False, min_value=0, max_value=3660
    )

    def validate_timezone(self, value: str) -> str:
        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError(_("Not a known time zone."))
        return value

    def validate_reminder_offsets(self, value: list[int]) -> list[int]:
        try:
            validate_reminder_offsets(value)
        except Exception as exc:
            raise serializers.ValidationError(str(_("Give distinct minutes."))) from exc
        return value

    def validate_accent_colour(self, value: str) -> str:
        return value.upper()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance: Event | None = self.instance
        require_in_some_language(
            "title", attrs, instance, _("Give a title in Chinese or in English.")
        )
        starts_on = attrs.get("starts_on", getattr(instance, "starts_on", None))
        ends_on = attrs.get("ends_on", getattr(instance, "ends_on", None))
        if starts_on and ends_on and ends_on < starts_on:
            raise serializers.ValidationError(
                {"ends_on": [_("The event cannot end before it starts.")]}
            )
        opens = attrs.get(
            "registration_opens_at", getattr(instance, "registration_opens_at", None)
        )
        closes = attrs.get(
            "registration_closes_at", getattr(instance, "registration_closes_at", None)
        )
        if opens and closes and closes <= opens:
            raise serializers.ValidationError(
                {
                    "registration_closes_at": [
                        _("Registration must close after it opens.")
                    ]
                }
            )
        return attrs


class SessionInputSerializer(serializers.Serializer):
    """A session's fields. A new session needs a title in at least one language."""

    locals().update(_language_texts("title", "title", max_length=200))
    locals().update(
        _language_texts("description", "description", max_length=20000, free_text=True)
    )
    kind = serializers.ChoiceField(choices=Session.Kind.choices, required=False)
    starts_at = moment()
    ends_at = moment()
    venue = VenueInputSerializer(required=False, allow_null=True)
    capacity = serializers.IntegerField(
        min_value=0, max_value=1_000_000, required=False, allow_null=True
    )
    waitlist_enabled = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance: Session | None = self.instance
        require_in_some_language(
            "title", attrs, instance, _("Give a title in Chinese or in English.")
        )
        starts_at = attrs.get("starts_at", getattr(instance, "starts_at", None))
        ends_at = attrs.get("ends_at", getattr(instance, "ends_at", None))
        if starts_at and ends_at and ends_at <= starts_at:
            raise serializers.ValidationError(
                {"ends_at": [_("A session must end after it starts.")]}
            )
        return attrs


class RegistrationInputSerializer(serializers.Serializer):
    session = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    full_name = serializers.CharField(
        max_length=200, validators=[no_control_characters]
    )
    email = serializers.EmailField(max_length=254)
    phone = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        validators=[no_control_characters],
    )
    organisation = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        validators=[no_control_characters],
    )
    language = serializers.ChoiceField(choices=LANGUAGE_CODES, required=False)
    consent = serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            "Agreement to the event's privacy notice (`privacy_notice_version` of "
            "the event): required as true when the event has a notice."
        ),
    )
    answers = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        default=dict,
        help_text=(
            "Answers to the event's questions asked for this session, by question "
            "id: text, a number, a date as YYYY-MM-DD, a choice's value, a list of "
            "choice values, or true/false, by the question's kind."
        ),
    )

    def validate_answers(self, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > 200:
            raise serializers.ValidationError(_("Too many answers."))
        return value


class RegistrationFilterSerializer(serializers.Serializer):
    session = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    status = serializers.ChoiceField(
        choices=Registration.Status.choices, required=False
    )
    search = serializers.CharField(
        required=False, max_length=200, validators=[no_control_characters]
    )


class RegistrationOutputSerializer(serializers.ModelSerializer):
    session = serializers.IntegerField(source="session_id", read_only=True)
    waitlist_position = serializers.IntegerField(allow_null=True, read_only=True)

    class Meta:
        model = Registration
        fields = [
            "code",
            "session",
            "full_name",
            "email",
            "status",
            "waitlist_position",
            "checked_in_at",
            "created_at",
            "language",
        ]


class RegistrationCreatedSerializer(RegistrationOutputSerializer):
    token = serializers.CharField(read_only=True)

    class Meta(RegistrationOutputSerializer.Meta):
        fields = [*RegistrationOutputSerializer.Meta.fields, "token"]


class RegistrationOrganiserSerializer(RegistrationOutputSerializer):
    session_title = serializers.CharField(source="session.title", read_only=True)

    class Meta(RegistrationOutputSerializer.Meta):
        fields = [
            *RegistrationOutputSerializer.Meta.fields,
            "session_title",
            "phone",
            "organisation",
            "cancelled_at",
        ]


class CheckInInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32, validators=[no_control_characters])


class CheckInOutputSerializer(serializers.Serializer):
    registration = RegistrationOutputSerializer()
    checked_in_at = serializers.DateTimeField()
    already_checked_in = serializers.BooleanField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, as every error of the API is answered."""

    type = serializers.CharField()
    status = serializers.IntegerField()
    code = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()), required=False
    )
