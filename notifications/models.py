"""The outbox: one row per email, written in the transaction that causes it.

Celery messages carry only row ids; the row's status decides what a delivery does, so
a message delivered twice sends nothing the second time (DESIGN.md invariants 4, 5).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=64)
    recipient = models.EmailField(_("recipient"))
    language = models.CharField(_("language"), max_length=10, default="en")
    # What the email is about, named by its app (e.g. "events.registration", "42").
    about_type = models.CharField(_("about"), max_length=64, blank=True)
    about_id = models.CharField(_("about id"), max_length=64, blank=True)
    # Whose mail this is, e.g. "event:12": organisers see the rows of their scopes.
    scope = models.CharField(_("scope"), max_length=64, blank=True, db_index=True)
    template = models.CharField(_("template"), max_length=200)
    context = models.JSONField(_("context"), default=dict, blank=True)
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    # Reminders carry List-Unsubscribe; other notices reach the recipient regardless.
    unsubscribable = models.BooleanField(_("unsubscribable"), default=False)
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    send_after = models.DateTimeField(_("send after"))
    # When a delivery task was last queued for the row; a lost task message is
    # queued again once this is old enough.
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    # When a worker took the row; a row left in "sending" by a dead worker goes back.
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The dispatcher claims due rows not yet queued in (send_after, id)
            # order with SKIP LOCKED: read in that order from these rows only, not
            # past the rows of a fan-out already queued and on their way.
            models.Index(
                fields=["send_after", "id"],
                condition=Q(status="pending", queued_at__isnull=True),
                name="notification_unqueued_idx",
            ),
            # Rows queued and not yet taken by a delivery: counted by every
            # dispatcher run (NOTIFICATIONS_MAX_QUEUED), queued again once stale.
            models.Index(
                fields=["queued_at"],
                condition=Q(status="pending", queued_at__isnull=False),
                name="notification_queued_idx",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=Q(status="sending"),
                name="notification_sending_idx",
            ),
            models.Index(fields=["about_type", "about_id"]),
            models.Index(fields=["recipient"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient} ({self.status})"


class Unsubscription(models.Model):
    """An address that asked for no more reminders (confirmations still arrive)."""

    email = models.EmailField(_("email"), unique=True)
    created_at = models.DateTimeField(_("unsubscribed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("unsubscription")
        verbose_name_plural = _("unsubscriptions")

    def __str__(self) -> str:
        return self.email


class UnsubscribeKey(models.Model):
    """A random key standing for an address in unsubscribe links.

    The link carries this key, signed with a timestamp, rather than the address, so
    that a forwarded or logged link does not show whose it is; the signature's age
    bounds how long an old email's link works.
    """

    key = models.CharField(_("key"), max_length=43, unique=True)
    email = models.EmailField(_("email"), unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("unsubscribe key")
        verbose_name_plural = _("unsubscribe keys")

    def __str__(self) -> str:
        return self.key
