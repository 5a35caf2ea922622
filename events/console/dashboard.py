"""Console: the event dashboard, its numbers as a page and as ``stats.json``.

The page shows every number as a table and draws the same numbers as charts
(static/console/dashboard.js, Apache ECharts); the script fetches ``stats.json``
every few seconds so that the numbers stay current while the page is open.
"""

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache

from notifications.selectors import mail_stalled, notification_health_for_scope

from ..models import Event
from ..questions import question_summary
from ..selectors import (
    event_mail_scope,
    event_registration_counts,
    event_registrations_by_day,
    event_session_fill,
)
from .access import organiser_event

# Seconds between the page's refreshes of its numbers (a setting, so tests can hurry).
DEFAULT_REFRESH_SECONDS = 15


def _refresh_seconds() -> int:
    return max(
        1,
        int(
            getattr(
                settings, "CONSOLE_DASHBOARD_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS
            )
        ),
    )


def _local(value: dt.datetime, event: Event) -> dt.datetime:
    return timezone.localtime(value, event.tzinfo)


def _session_when(value: dt.datetime, event: Event) -> str:
    local = _local(value, event)
    return "{} {}".format(
        formats.date_format(local, "MONTH_DAY_FORMAT"),
        formats.time_format(local, "H:i"),
    )


def dashboard_stats(*, event: Event, now: dt.datetime) -> dict[str, Any]:
    """Every number of the dashboard, ready for the template and for JSON.

    Labels that depend on a number (plurals, "unlimited") are made here, in the
    reader's language, so that the page and its script show the same text.
    """
    counts = event_registration_counts(event=event)
    sessions = event_session_fill(event=event)
    today = _local(now, event).date()
    days = event_registrations_by_day(event=event, until=min(today, event.ends_on))
    mail = notification_health_for_scope(
        scope=event_mail_scope(event_id=event.pk), now=now
    )
    running = [s for s in sessions if not s.cancelled]
    return {
        "updated_at": now.isoformat(),
        "updated_label": formats.time_format(_local(now, event), "H:i:s"),
        "counts": {
            "registered": counts.registered,
            "confirmed": counts.confirmed,
            "waiting": counts.waiting,
            "cancelled": counts.cancelled,
            "checked_in": counts.checked_in,
        },
        "days": [
            {
                "day": day.day.isoformat(),
                "label": formats.date_format(day.day, "MONTH_DAY_FORMAT"),
                "registered": day.registered,
                "cancelled": day.cancelled,
                "total": day.total,
                "active": day.active,
            }
            for day in days
        ],
        "sessions": [
            {
                "id": s.id,
                "title": s.title,
                "when": _session_when(s.starts_at, event),
                "cancelled": s.cancelled,
                "capacity": s.capacity,
                "capacity_label": (
                    _("Unlimited") if s.capacity is None else str(s.capacity)
                ),
                "confirmed": s.confirmed,
                "reserved": s.reserved,
                "confirmed_note": (
                    ngettext(
                        "incl. %(count)d guest", "incl. %(count)d guests", s.reserved
                    )
                    % {"count": s.reserved}
                    if s.reserved
                    else ""
                ),
                "seats_left": s.seats_left,
                "seats_left_label": (
                    _("cancelled")
                    if s.cancelled
                    else "—"
                    if s.seats_left is None
                    else str(s.seats_left)
                ),
                "waiting": s.waiting,
            }
            for s in sessions
        ],
        # Check-in matters once the doors open, or as soon as anyone has come in.
        "check_in_visible": counts.checked_in > 0
        or any(s.starts_at <= now for s in running),
        "check_in": [
            {
                "id": s.id,
                "title": s.title,
                "when": _session_when(s.starts_at, event),
                "checked_in": s.checked_in,
                "confirmed": s.confirmed,
                "not_yet": max(s.confirmed - s.checked_in, 0),
                "percent": round(100 * s.checked_in / s.confirmed)
                if s.confirmed
                else 0,
            }
            for s in running
        ],
        "mail": {
            "queued": mail.queued,
            "scheduled": mail.scheduled,
            "sent": mail.sent,
            "failed": mail.failed,
            "skipped": mail.skipped,
            "oldest_due_seconds": (
                None
                if mail.oldest_due_at is None
                else max(int((now - mail.oldest_due_at).total_seconds()), 0)
            ),
            "oldest_due_label": (
                (
                    ngettext(
                        "No email is waiting; %(count)d failed (see the mail page).",
                        "No email is waiting; %(count)d failed (see the mail page).",
                        mail.failed,
                    )
                    % {"count": mail.failed}
                    if mail.failed
                    else _("No email is waiting.")
                )
                if mail.oldest_due_at is None
                else _("The oldest email due has waited %(age)s.")
                % {"age": timesince(mail.oldest_due_at, now)}
            ),
            # Late by the same rule as /healthz: the workers may be down.
            "late": mail_stalled(oldest_due_at=mail.oldest_due_at, now=now),
        },
    }


def _chart_labels() -> dict[str, str]:
    """The words the charts show, in the reader's language."""
    return {
        "registered": _("Registered"),
        "cancelled": _("Cancelled"),
        "active": _("Still registered"),
        "confirmed": _("Confirmed"),
        "guests": _("Guests"),
        "seats_left": _("Seats left"),
        "waiting": _("Waiting"),
        "checked_in": _("Checked in"),
        "not_yet": _("Not yet arrived"),
        "queued": _("Queued"),
        "scheduled": _("Scheduled"),
        "sent": _("Sent"),
        "failed": _("Failed"),
        "skipped": _("Skipped or withdrawn"),
        "updated": _("Updated at %(time)s"),
        "stale": _("Could not refresh the numbers; retrying."),
    }


@organiser_event
def dashboard(request: HttpRequest, event: Event) -> HttpResponse:
    stats = dashboard_stats(event=event, now=timezone.now())
    return render(
        request,
        "console/dashboard.html",
        {
            "event": event,
            "stats": stats,
            # Counted once per page view (three queries), not refreshed by the script.
            "question_summary": question_summary(event=event),
            "chart_labels": _chart_labels(),
            "refresh_seconds": _refresh_seconds(),
            "stats_url": reverse(
                "console:dashboard_stats", kwargs={"slug": event.slug}
            ),
        },
    )


@never_cache
@organiser_event
def dashboard_stats_json(request: HttpRequest, event: Event) -> JsonResponse:
    return JsonResponse(dashboard_stats(event=event, now=timezone.now()))


urlpatterns = [
    path("<slug:slug>/stats.json", dashboard_stats_json, name="dashboard_stats"),
    path("<slug:slug>/", dashboard, name="dashboard"),
]
