"""Shapes of the awards API (API.md).

Texts organisers write hold both languages: ``name`` answers in the request's
language (Accept-Language), falling back to the other one, and is written in
it; ``name_zh_hans`` and ``name_en`` read and write one language each.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.l10n import LANGUAGE_SUFFIXES
from events.services import in_language_columns
from events.validators import clean_free_text, no_control_characters

from ..models import AwardBatch, AwardCategory, Certificate, Nomination, Recipient
from ..selectors import order_by_run_of_show


def text(max_length: int, **kwargs: Any) -> serializers.CharField:
    """A name or one-line text: no line breaks, controls or invisible-only values."""
    return serializers.CharField(
        max_length=max_length, validators=[no_control_characters], **kwargs
    )


def free_text(max_length: int, **kwargs: Any) -> serializers.CharField:
    """A text that may break lines (citations, comments, descriptions)."""
    return serializers.CharField(
        max_length=max_length, validators=[clean_free_text], **kwargs
    )


class EmptyLanguageAsNull:
    """``<field>_zh_hans`` / ``<field>_en`` answer null when there is no text in
    that language, as the events API does, whether the column holds NULL or ""."""

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)  # type: ignore[misc]
        for key, value in data.items():
            if key.endswith(("_zh_hans", "_en")) and value == "":
                data[key] = None
        return data


def require_one_language(data: dict[str, Any], name: str) -> None:
    """A required text needs a value in at least one language (or the plain one)."""
    if not any(
        (data.get(key) or "").strip()
        for key in (name, *(f"{name}_{s}" for s in LANGUAGE_SUFFIXES))
    ):
        raise serializers.ValidationError(
            {name: [_("Give it in at least one language.")]}
        )


class CategoryInputSerializer(serializers.Serializer):
    name = text(200, required=False)
    name_zh_hans = text(200, required=False, allow_blank=True, allow_null=True)
    name_en = text(200, required=False, allow_blank=True, allow_null=True)
    recipient_kind = serializers.ChoiceField(
        choices=AwardCategory.RecipientKind.choices
    )
    description = free_text(5000, required=False, allow_blank=True)
    description_zh_hans = free_text(
        5000, required=False, allow_blank=True, allow_null=True
    )
    description_en = free_text(5000, required=False, allow_blank=True, allow_null=True)
    certificate_prefix = serializers.RegexField(
        r"^[A-Za-z0-9]{1,12}$", required=False, allow_blank=True
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        require_one_language(attrs, "name")
        return in_language_columns(AwardCategory, attrs)


class CategoryOutputSerializer(EmptyLanguageAsNull, serializers.ModelSerializer):
    event: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = AwardCategory
        fields = [
            "id",
            "event",
            "name",
            "name_zh_hans",
            "name_en",
            "recipient_kind",
            "description",
            "description_zh_hans",
            "description_en",
            "certificate_prefix",
        ]


class BatchInputSerializer(serializers.Serializer):
    number = serializers.IntegerField(min_value=1, max_value=999)
    title = text(300, required=False)
    title_zh_hans = text(300, required=False, allow_blank=True, allow_null=True)
    title_en = text(300, required=False, allow_blank=True, allow_null=True)
    ceremony_session = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        require_one_language(attrs, "title")
        return in_language_columns(AwardBatch, attrs)


class BatchOutputSerializer(EmptyLanguageAsNull, serializers.ModelSerializer):
    category = serializers.IntegerField(source="category_id", read_only=True)
    ceremony_session = serializers.IntegerField(
        source="ceremony_session_id", read_only=True, allow_null=True
    )

    class Meta:
        model = AwardBatch
        fields = [
            "id",
            "category",
            "number",
            "title",
            "title_zh_hans",
            "title_en",
            "status",
            "ceremony_session",
            "announced_at",
        ]


RECIPIENT_TEXTS = ("name", "title", "affiliation", "street", "community")


class RecipientSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AwardCategory.RecipientKind.choices)
    name = text(200, required=False, allow_blank=True)
    name_zh_hans = text(200, required=False, allow_blank=True, allow_null=True)
    name_en = text(200, required=False, allow_blank=True, allow_null=True)
    title = text(200, required=False, allow_blank=True)
    title_zh_hans = text(200, required=False, allow_blank=True, allow_null=True)
    title_en = text(200, required=False, allow_blank=True, allow_null=True)
    affiliation = text(200, required=False, allow_blank=True)
    affiliation_zh_hans = text(200, required=False, allow_blank=True, allow_null=True)
    affiliation_en = text(200, required=False, allow_blank=True, allow_null=True)
    street = text(100, required=False, allow_blank=True)
    street_zh_hans = text(100, required=False, allow_blank=True, allow_null=True)
    street_en = text(100, required=False, allow_blank=True, allow_null=True)
    community = text(100, required=False, allow_blank=True)
    community_zh_hans = text(100, required=False, allow_blank=True, allow_null=True)
    community_en = text(100, required=False, allow_blank=True, allow_null=True)
    district = text(
        100,
        required=False,
        allow_blank=True,
        default="",
        help_text="A district of the event's list, by its name in either language; "
        "a new name adds it to the list.",
    )
    district_zh_hans = text(100, required=False, allow_blank=True, allow_null=True)
    district_en = text(100, required=False, allow_blank=True, allow_null=True)
    email = serializers.EmailField(required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        require_one_language(attrs, "name")
        return attrs


def recipient_data(attrs: dict[str, Any]) -> Any:
    """The service's RecipientData of a checked ``recipient``: each text in the
    column of its language (plain ones in the request's)."""
    from ..services import RecipientData

    columns = in_language_columns(Recipient, attrs)
    texts = {
        key: value
        for key, value in columns.items()
        if key.endswith(("_en", "_zh_hans"))
    }
    return RecipientData(
        kind=columns["kind"],
        district=columns.get("district", ""),
        email=columns.get("email", ""),
        texts=texts,
    )


class NominationInputSerializer(serializers.Serializer):
    recipient = RecipientSerializer()
    citation = free_text(5000, required=False, allow_blank=True)
    citation_zh_hans = free_text(
        5000, required=False, allow_blank=True, allow_null=True
    )
    citation_en = free_text(5000, required=False, allow_blank=True, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return in_language_columns(Nomination, attrs)


class NominationUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[c for c in Nomination.Status.choices if c[0] != "nominated"],
        required=False,
    )
    citation = free_text(5000, required=False, allow_blank=True)
    citation_zh_hans = free_text(
        5000, required=False, allow_blank=True, allow_null=True
    )
    citation_en = free_text(5000, required=False, allow_blank=True, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return in_language_columns(Nomination, attrs)


class RecipientOutputSerializer(EmptyLanguageAsNull, serializers.ModelSerializer):
    district = serializers.SerializerMethodField(
        help_text="The district's name in the request's language, else the other."
    )
    district_zh_hans = serializers.CharField(
        source="district.name_zh_hans", read_only=True, allow_null=True
    )
    district_en = serializers.CharField(
        source="district.name_en", read_only=True, allow_null=True
    )

    class Meta:
        model = Recipient
        fields = [
            "kind",
            *(
                f"{name}{suffix}"
                for name in RECIPIENT_TEXTS
                for suffix in ("", "_zh_hans", "_en")
            ),
            "district",
            "district_zh_hans",
            "district_en",
            "email",
        ]

    def get_district(self, recipient: Recipient) -> str:
        return str(recipient.district) if recipient.district_id else ""


class NominationOutputSerializer(EmptyLanguageAsNull, serializers.ModelSerializer):
    batch = serializers.IntegerField(source="batch_id", read_only=True)
    recipient = RecipientOutputSerializer(read_only=True)
    mean_score = serializers.FloatField(read_only=True, allow_null=True)
    reviews_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Nomination
        fields = [
            "id",
            "batch",
            "recipient",
            "citation",
            "citation_zh_hans",
            "citation_en",
            "status",
            "mean_score",
            "reviews_count",
        ]


class JudgeInputSerializer(serializers.Serializer):
    # A judge's address is also their user name, whose column holds 150 characters.
    email = serializers.EmailField(max_length=150)


class JudgeOutputSerializer(serializers.Serializer):
    batch = serializers.IntegerField()
    email = serializers.EmailField()


class ReviewInputSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=10)
    comment = free_text(5000, required=False, allow_blank=True, default="")
    conflict_of_interest = serializers.BooleanField(required=False, default=False)


class ReviewOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    nomination = serializers.IntegerField(source="nomination_id")
    score = serializers.IntegerField()
    comment = serializers.CharField()
    conflict_of_interest = serializers.BooleanField()


class RunOfShowGroupSerializer(serializers.Serializer):
    presenter = text(200, required=False, allow_blank=True, default="")
    nominations = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), max_length=500
    )


class RunOfShowSerializer(serializers.Serializer):
    groups = RunOfShowGroupSerializer(many=True, max_length=200)  # type: ignore[call-arg]


class CertificateOutputSerializer(serializers.ModelSerializer):
    recipient_name = serializers.CharField(source="nomination.recipient.name")
    award = serializers.CharField(source="batch.category.name")
    batch = serializers.CharField(source="batch.title")

    class Meta:
        model = Certificate
        fields = [
            "number",
            "recipient_name",
            "award",
            "batch",
            "issued_on",
            "status",
            "revoked_reason",
        ]


class RevokeInputSerializer(serializers.Serializer):
    reason = text(2000)


class HonourRecipientSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField()
    title = serializers.CharField()
    affiliation = serializers.CharField()
    district = serializers.CharField()
    certificate_number = serializers.CharField(allow_null=True)
    name_zh_hans = serializers.CharField(allow_null=True)
    name_en = serializers.CharField(allow_null=True)
    title_zh_hans = serializers.CharField(allow_null=True)
    title_en = serializers.CharField(allow_null=True)
    affiliation_zh_hans = serializers.CharField(allow_null=True)
    affiliation_en = serializers.CharField(allow_null=True)
    district_zh_hans = serializers.CharField(allow_null=True)
    district_en = serializers.CharField(allow_null=True)


class HonourBatchSerializer(EmptyLanguageAsNull, serializers.Serializer):
    id = serializers.IntegerField()
    category = serializers.CharField(source="category.name")
    category_id = serializers.IntegerField()
    category_zh_hans = serializers.CharField(
        source="category.name_zh_hans", allow_null=True
    )
    category_en = serializers.CharField(source="category.name_en", allow_null=True)
    number = serializers.IntegerField()
    title = serializers.CharField()
    title_zh_hans = serializers.CharField(allow_null=True)
    title_en = serializers.CharField(allow_null=True)
    announced_at = serializers.DateTimeField()
    recipients = serializers.SerializerMethodField()

    @extend_schema_field(HonourRecipientSerializer(many=True))
    def get_recipients(self, batch: AwardBatch) -> list[dict[str, Any]]:
        rows = []
        for nomination in order_by_run_of_show(batch, batch.awarded):  # type: ignore[attr-defined]
            recipient = nomination.recipient
            certificate = getattr(nomination, "certificate", None)
            rows.append(
                {
                    "name": recipient.name,
                    "kind": recipient.kind,
                    "title": recipient.title,
                    "affiliation": recipient.affiliation,
                    "district": str(recipient.district)
                    if recipient.district_id
                    else "",
                    "certificate_number": certificate.number if certificate else None,
                    **{
                        f"{name}_{suffix}": getattr(recipient, f"{name}_{suffix}")
                        or None
                        for name in ("name", "title", "affiliation")
                        for suffix in LANGUAGE_SUFFIXES
                    },
                    **{
                        f"district_{suffix}": getattr(
                            recipient.district, f"name_{suffix}"
                        )
                        or None
                        if recipient.district_id
                        else None
                        for suffix in LANGUAGE_SUFFIXES
                    },
                }
            )
        return rows
