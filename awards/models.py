"""Award categories and their numbered batches, from nomination to certificate.

A batch moves draft -> approved -> announced; once announced it is append-only
(DESIGN.md invariant 8): a mistake is corrected by revoking a certificate.
"""

import re

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from events.models import Event, Session


def default_run_of_show() -> dict[str, list]:
    return {"groups": []}


class AwardCategory(models.Model):
    class RecipientKind(models.TextChoices):
        ORGANISATION = "organisation", pgettext_lazy("recipient kind", "Organisation")
        PERSON = "person", pgettext_lazy("recipient kind", "Person")

    event = models.ForeignKey(
        Event,
        verbose_name=_("event"),
        on_delete=models.CASCADE,
        related_name="award_categories",
    )
    name = models.CharField(_("name"), max_length=200)
    recipient_kind = models.CharField(
        _("recipient kind"), max_length=20, choices=RecipientKind.choices
    )
    description = models.TextField(_("description"), blank=True)
    certificate_prefix = models.CharField(
        _("certificate prefix"),
        max_length=12,
        blank=True,
        help_text=_("Letters that start its certificate numbers, e.g. NBSW."),
    )

    class Meta:
        verbose_name = _("award category")
        verbose_name_plural = _("award categories")
        ordering = ["event", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        """What its certificate numbers start with.

        The organiser's prefix (letters and digits, unique among the categories of
        events starting in the same year: checked by the services), else the
        initials of the name's Latin words (AW for a name without any) and the
        category's id after a hyphen, e.g. MSWDB-17 or AW-17: an explicit prefix has
        no hyphen, and ids are unique, so no two categories' numbers can meet.
        """
        if self.certificate_prefix:
            return self.certificate_prefix.upper()
        # From the stored names, not the reader's language: numbers never change.
        name = self.name_en or self.name_zh_hans or ""  # type: ignore[attr-defined]
        initials = "".join(word[0] for word in re.findall(r"[A-Za-z]+", name))
        letters = (initials.upper() or "AW")[:8]
        return f"{letters}-{self.pk}" if self.pk is not None else letters


class AwardBatch(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")
        ANNOUNCED = "announced", _("Announced")

    category = models.ForeignKey(
        AwardCategory,
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        related_name="batches",
    )
    number = models.PositiveSmallIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=300)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    ceremony_session = models.ForeignKey(
        Session,
        verbose_name=_("ceremony session"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="award_batches",
    )
    judges = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("judges"),
        related_name="judged_batches",
        blank=True,
    )
    run_of_show = models.JSONField(
        _("run of show"), default=default_run_of_show, blank=True
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    announced_at = models.DateTimeField(_("announced at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("award batch")
        verbose_name_plural = _("award batches")
        ordering = ["category", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "number"], name="award_batch_number_unique"
            ),
            models.CheckConstraint(
                condition=~Q(status="announced") | Q(announced_at__isnull=False),
                name="award_batch_announced_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_draft(self) -> bool:
        return self.status == AwardBatch.Status.DRAFT


class District(models.Model):
    """A district of the event's city, kept by its organisers in both languages."""

    event = models.ForeignKey(
        Event,
        verbose_name=_("event"),
        on_delete=models.CASCADE,
        related_name="districts",
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["event", "pk"]
        # One district per name in an event, English in any letter case, as
        # awards.services.district_resolve finds them (name_en and name_zh_hans
        # are django-modeltranslation's columns; NULL or "" is no name).
        constraints = [
            models.UniqueConstraint(
                F("event"),
                Lower("name_en"),
                condition=~Q(name_en=""),
                name="district_unique_english_name",
            ),
            models.UniqueConstraint(
                fields=["event", "name_zh_hans"],
                condition=~Q(name_zh_hans=""),
                name="district_unique_chinese_name",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Recipient(models.Model):
    """Who is nominated: an organisation (district, street, community) or a person."""

    kind = models.CharField(
        _("kind"), max_length=20, choices=AwardCategory.RecipientKind.choices
    )
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("title"), max_length=200, blank=True)
    affiliation = models.CharField(_("affiliation"), max_length=200, blank=True)
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recipients",
    )
    street = models.CharField(_("street"), max_length=100, blank=True)
    community = models.CharField(_("community"), max_length=100, blank=True)
    email = models.EmailField(_("contact email"), blank=True)
    language = models.CharField(
        _("language of their mail"),
        max_length=10,
        choices=settings.LANGUAGES,
        default="zh-hans",
    )

    class Meta:
        verbose_name = pgettext_lazy("award", "recipient")
        verbose_name_plural = pgettext_lazy("award", "recipients")

    def __str__(self) -> str:
        return self.name


class Nomination(models.Model):
    class Status(models.TextChoices):
        NOMINATED = "nominated", _("Nominated")
        SHORTLISTED = "shortlisted", _("Shortlisted")
        AWARDED = "awarded", _("Awarded")
        NOT_AWARDED = "not_awarded", _("Not awarded")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    DECIDED = (Status.AWARDED, Status.NOT_AWARDED, Status.WITHDRAWN)

    batch = models.ForeignKey(
        AwardBatch,
        verbose_name=_("batch"),
        on_delete=models.CASCADE,
        related_name="nominations",
    )
    recipient = models.ForeignKey(
        Recipient,
        verbose_name=pgettext_lazy("award", "recipient"),
        on_delete=models.PROTECT,
        related_name="nominations",
    )
    citation = models.TextField(_("citation"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NOMINATED
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("nomination")
        verbose_name_plural = _("nominations")
        ordering = ["batch", "pk"]

    def __str__(self) -> str:
        return f"{self.recipient} ({self.batch})"

    @property
    def certificate(self) -> "Certificate | None":
        """The nomination's valid certificate, else its latest (revoked) one."""
        certificates = sorted(
            self.certificates.all(),
            key=lambda c: (c.status == Certificate.Status.VALID, c.sequence),
        )
        return certificates[-1] if certificates else None


class Review(models.Model):
    nomination = models.ForeignKey(
        Nomination,
        verbose_name=_("nomination"),
        on_delete=models.CASCADE,
        related_name="reviews",
    )
    judge = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("judge"),
        on_delete=models.PROTECT,
        related_name="award_reviews",
    )
    # Empty only where the judge declared a conflict of interest and gave no score.
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    conflict_of_interest = models.BooleanField(_("conflict of interest"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            models.UniqueConstraint(
                fields=["nomination", "judge"], name="review_one_per_judge"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=10)
                | Q(score__isnull=True, conflict_of_interest=True),
                name="review_score_1_to_10",
            ),
        ]

    def __str__(self) -> str:
        score = "–" if self.score is None else self.score
        return f"{self.judge} → {self.nomination}: {score}"


class Certificate(models.Model):
    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        REVOKED = "revoked", _("Revoked")

    # A nomination has one valid certificate at most; a revoked one may be replaced
    # by a reissued one with a new number, and both stay verifiable.
    nomination = models.ForeignKey(
        Nomination,
        verbose_name=_("nomination"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    replaces = models.OneToOneField(
        "self",
        verbose_name=_("replaces"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
    )
    batch = models.ForeignKey(
        AwardBatch,
        verbose_name=_("batch"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    number = models.CharField(_("number"), max_length=40, unique=True)
    issued_on = models.DateField(_("issued on"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.VALID
    )
    revoked_reason = models.TextField(_("reason for revoking"), blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    # When a PDF of it (in any language, see CertificatePdf) was last rendered.
    pdf_rendered_at = models.DateTimeField(_("PDF rendered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["batch", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "sequence"], name="certificate_sequence_unique"
            ),
            models.CheckConstraint(
                condition=Q(status="valid") | ~Q(revoked_reason=""),
                name="certificate_revoked_has_reason",
            ),
            models.UniqueConstraint(
                fields=["nomination"],
                condition=Q(status="valid"),
                name="certificate_one_valid_per_nomination",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class CertificatePdf(models.Model):
    """A certificate's PDF in one language, kept in the database so that every web
    process serves the same file without a shared disk. ``fingerprint`` sums up
    what it was drawn from (texts, branding, status): when that changes (a
    revocation, a new seal), it is drawn again."""

    certificate = models.ForeignKey(
        Certificate,
        verbose_name=_("certificate"),
        on_delete=models.CASCADE,
        related_name="pdfs",
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES
    )
    fingerprint = models.CharField(max_length=64)
    pdf = models.BinaryField(_("PDF"), editable=False)
    rendered_at = models.DateTimeField(_("rendered at"))

    class Meta:
        verbose_name = _("certificate PDF")
        verbose_name_plural = _("certificate PDFs")
        constraints = [
            models.UniqueConstraint(
                fields=["certificate", "language"], name="certificate_pdf_per_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.certificate_id} ({self.language})"


class AuditEntry(models.Model):
    """Who changed what, when: every state change of the awards workflow."""

    at = models.DateTimeField(_("at"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=64)
    # The event whose organisers read this entry in their console.
    event = models.ForeignKey(
        "events.Event",
        verbose_name=_("event"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    batch = models.ForeignKey(
        AwardBatch,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="audit_entries",
    )
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["event", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action}"
