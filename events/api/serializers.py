"""Shapes of the events API (API.md): what comes in and what goes out."""

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import (
    Event,
    Question,
    Registration,
    Session,
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


class VenueSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, validators=[no_control_characters])
    address = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        validators=[no_control_characters],
    )


class SessionOutputSerializer(serializers.ModelSerializer):
    venue = serializers.SerializerMethodField()
    seats_left = serializers.IntegerField(allow_null=True, read_only=True)

    class Meta:
        model = Session
        fields = [
            "id",
            "title",
            "description",
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
    def get_venue(self, session: Session) -> dict[str, str] | None:
        venue = session.venue or session.event.venue
        if venue is None:
            return None
        return {"name": venue.name, "address": venue.address}


class EventOutputSerializer(serializers.ModelSerializer):
    venue = VenueSerializer(allow_null=True)

    class Meta:
        model = Event
        fields = [
            "slug",
            "title",
            "description",
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
        ]


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
    slug = serializers.SlugField(max_length=100, validators=[validate_event_slug])
    title = serializers.CharField(max_length=200, validators=[no_control_characters])
    description = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20000,
        validators=[clean_free_text],
    )
    status = serializers.ChoiceField(choices=Event.Status.choices, required=False)
    timezone = serializers.CharField(max_length=64, required=False)
    starts_on = day()
    ends_on = day()
    venue = VenueSerializer(required=False, allow_null=True)
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

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance: Event | None = self.instance
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
    title = serializers.CharField(max_length=200, validators=[no_control_characters])
    description = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20000,
        validators=[clean_free_text],
    )
    kind = serializers.ChoiceField(choices=Session.Kind.choices, required=False)
    starts_at = moment()
    ends_at = moment()
    venue = VenueSerializer(required=False, allow_null=True)
    capacity = serializers.IntegerField(
        min_value=0, max_value=1_000_000, required=False, allow_null=True
    )
    waitlist_enabled = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance: Session | None = self.instance
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
