"""Reads of the outbox, always within a scope (whose mail it is) handed in by the caller.

The outbox knows nothing of events: callers name the scope (``event:12``) and what a
row is about (``events.registration``, ``42``). Only the operator's view, the health
of the whole outbox (``outbox_health``, for ``/healthz``), reads across scopes.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from .models import Notification


def notification_list_for_scope(
    *, scope: str, status: str | None = None, kind: str | None = None
) -> QuerySet[Notification]:
    """The mail of one scope, newest first, optionally of one state and kind."""
    notifications = Notification.objects.filter(scope=scope).defer(
        "context", "attachments"
    )
    if status:
        notifications = notifications.filter(status=status)
    if kind:
        notifications = notifications.filter(kind=kind)
    return notifications.order_by("-created_at", "-pk")


def notification_kinds_for_scope(*, scope: str) -> list[str]:
    """The kinds of mail a scope has, for a filter that offers only those."""
    return list(
        Notification.objects.filter(scope=scope)
        .order_by("kind")
        .values_list("kind", flat=True)
        .distinct()
    )


def notification_get_for_scope(*, scope: str, notification_id: int) -> Notification:
    """One row of a scope; another scope's row is ``Notification.DoesNotExist``."""
    if not 0 < notification_id < 2**63:
        raise Notification.DoesNotExist()
    return Notification.objects.get(pk=notification_id, scope=scope)


def notification_list_about(
    *, about_type: str, about_id: str, scope: str
) -> QuerySet[Notification]:
    """Every email about one object of a scope, oldest first."""
    return (
        Notification.objects.filter(
            about_type=about_type, about_id=about_id, scope=scope
        )
        .defer("context", "attachments")
        .order_by("created_at", "pk")
    )


@dataclass(frozen=True)
class MailHealth:
    """How one scope's mail is going: counts by state and the oldest email still due."""

    queued: int  # due now (or being sent), not delivered yet
    scheduled: int  # waiting for their moment (send_after in the future)
    sent: int
    failed: int
    skipped: int  # skipped (unsubscribed, too late) or cancelled (no longer due)
    oldest_due_at: dt.datetime | None  # send_after of the oldest queued email


def notification_health_for_scope(
    *, scope: str, now: dt.datetime | None = None
) -> MailHealth:
    """The mail of one scope counted by state, in one query."""
    now = now or timezone.now()
    status = Notification.Status
    due = Q(status=status.PENDING, send_after__lte=now) | Q(status=status.SENDING)
    numbers = Notification.objects.filter(scope=scope).aggregate(
        queued=Count("pk", filter=due),
        scheduled=Count("pk", filter=Q(status=status.PENDING, send_after__gt=now)),
        sent=Count("pk", filter=Q(status=status.SENT)),
        failed=Count("pk", filter=Q(status=status.FAILED)),
        skipped=Count("pk", filter=Q(status__in=[status.SKIPPED, status.CANCELLED])),
        oldest_due_at=Min("send_after", filter=due),
    )
    return MailHealth(**numbers)


@dataclass(frozen=True)
class OutboxHealth:
    """Whether mail is flowing: the emails due and how long the oldest has waited."""

    status: str  # "ok", or "stalled" once the oldest due email waited too long
    queued: int  # due now (or being sent), not delivered yet
    oldest_due_at: dt.datetime | None
    waited_seconds: int  # how long the oldest due email has waited (0 if none)
    stalled_after: int  # NOTIFICATIONS_STALLED_AFTER, the threshold


def mail_stalled(
    *, oldest_due_at: dt.datetime | None, now: dt.datetime | None = None
) -> bool:
    """True when an email due at ``oldest_due_at`` waited over the threshold.

    One rule for ``/healthz`` and the console's mail health alike.
    """
    if oldest_due_at is None:
        return False
    now = now or timezone.now()
    return (now - oldest_due_at).total_seconds() > _stalled_after()


def _stalled_after() -> int:
    return int(getattr(settings, "NOTIFICATIONS_STALLED_AFTER", 600))


def outbox_health(*, now: dt.datetime | None = None) -> OutboxHealth:
    """The whole outbox's health, in one query: is the oldest due email too old?"""
    now = now or timezone.now()
    status = Notification.Status
    due = Q(status=status.PENDING, send_after__lte=now) | Q(status=status.SENDING)
    numbers = Notification.objects.filter(due).aggregate(
        queued=Count("pk"), oldest_due_at=Min("send_after")
    )
    oldest = numbers["oldest_due_at"]
    waited = max(int((now - oldest).total_seconds()), 0) if oldest else 0
    return OutboxHealth(
        status="stalled" if mail_stalled(oldest_due_at=oldest, now=now) else "ok",
        queued=numbers["queued"],
        oldest_due_at=oldest,
        waited_seconds=waited,
        stalled_after=_stalled_after(),
    )
