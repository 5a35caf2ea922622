"""Shapes of the awards API (API.md)."""

from typing import Any

from rest_framework import serializers

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


class CategoryInputSerializer(serializers.Serializer):
    name = text(200)
    recipient_kind = serializers.ChoiceField(
        choices=AwardCategory.RecipientKind.choices
    )
    description = free_text(5000, required=False, allow_blank=True)
    certificate_prefix = serializers.RegexField(
        r"^[A-Za-z0-9]{1,12}$", required=False, allow_blank=True
    )


class CategoryOutputSerializer(serializers.ModelSerializer):
    event: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = AwardCategory
        fields = [
            "id",
            "event",
            "name",
            "recipient_kind",
            "description",
            "certificate_prefix",
        ]


class BatchInputSerializer(serializers.Serializer):
    number = serializers.IntegerField(min_value=1, max_value=999)
    title = text(300)
    ceremony_session = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1
    )


class BatchOutputSerializer(serializers.ModelSerializer):
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
            "status",
            "ceremony_session",
            "announced_at",
        ]


class RecipientSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AwardCategory.RecipientKind.choices)
    name = text(200)
    title = text(200, required=False, allow_blank=True, default="")
    affiliation = text(200, required=False, allow_blank=True, default="")
    district = text(100, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")


class NominationInputSerializer(serializers.Serializer):
    recipient = RecipientSerializer()
    citation = free_text(5000, required=False, allow_blank=True, default="")


class NominationUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[c for c in Nomination.Status.choices if c[0] != "nominated"],
        required=False,
    )
    citation = free_text(5000, required=False, allow_blank=True)


class RecipientOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Recipient
        fields = ["kind", "name", "title", "affiliation", "district", "email"]


class NominationOutputSerializer(serializers.ModelSerializer):
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


class HonourBatchSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    category = serializers.CharField(source="category.name")
    number = serializers.IntegerField()
    title = serializers.CharField()
    announced_at = serializers.DateTimeField()
    recipients = serializers.SerializerMethodField()

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
                    "district": recipient.district,
                    "certificate_number": certificate.number if certificate else None,
                }
            )
        return rows
