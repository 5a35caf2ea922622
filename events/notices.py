"""The emails of the events app, handed to the outbox in the causing transaction."""

import base64
import dataclasses
import datetime as dt
import hashlib
import io
from collections.abc import Iterable
from typing import Any

import segno
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext

from notifications.ics import calendar_file
from notifications.services import (
    Email,
    notifications_cancel,
    notifications_enqueue,
    notifications_planned,
    sender_address,
    sender_name,
)

from .branding import hex_of, parse_colour, readable_on_white
from .models import Event, Registration, Session, SessionReminder

ABOUT = "events.registration"
TEMPLATES = "events/email/"
# Emails that carry the calendar file, and whether it withdraws the event.
CALENDAR = {
    "registration_confirmed": False,
    "registration_promoted": False,
    "session_changed": False,
    "registration_cancelled": True,
    "session_cancelled": True,
}
WITH_TICKET = {"registration_confirmed", "registration_promoted", "manage_link"}
REMINDER = "session_reminder"


def mail_language(language: str | None) -> str:
    """A row's language: one of LANGUAGES, the site's default otherwise."""
    known = {code for code, _name in settings.LANGUAGES}
    return language if language in known else settings.LANGUAGE_CODE


def ics_language(language: str) -> str:
    """The BCP 47 tag a calendar file says its texts are in (zh-hans -> zh-Hans)."""
    return "zh-Hans" if language.lower().startswith("zh") else language


def branding(event: Event) -> dict[str, str]:
    """What an email shows of who runs the event, in the active language.

    ``accent_colour`` as entered draws borders; text and links are drawn in
    ``accent_text_colour``, the colour darkened until it reads on white (4.5:1),
    as on the web pages: a pale accent such as a yellow stays readable."""
    accent = event.accent_colour or ""
    rgb = parse_colour(accent)
    return {
        "organiser_name": event.organiser_name or "",
        "accent_colour": accent,
        "accent_text_colour": hex_of(readable_on_white(rgb)) if rgb else "",
    }


def logo_recipe(event: Event) -> list[dict[str, str]]:
    """The event's logo as an inline image, read from storage when the email is
    drawn (``notifications.delivery``); nothing when the event has none."""
    if not event.logo:
        return []
    return [
        {
            "filename": "logo",
            "mimetype": "image/png",
            "draw": "stored_image",
            "stored_image": str(event.logo.name),
            "content_id": "event-logo",
            "context_key": "logo_cid",
        }
    ]


def _with_logo(event: Event, attachments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if any(a.get("context_key") == "logo_cid" for a in attachments):
        return attachments
    return [*attachments, *logo_recipe(event)]


def calendar_fields(
    registration: Registration, *, cancelled: bool = False, language: str = ""
) -> dict[str, Any]:
    """The ``calendar_file`` arguments of a registration, in its language.

    Its UID never changes, its SEQUENCE rises; the organiser is the event's
    issuing body at the address Podium's mail comes from. ``language`` (the
    registration's by default) is the one its texts are in.
    """
    language = mail_language(language or registration.language)
    session = registration.session
    event = session.event
    with translation.override(language):
        venue = session.venue or event.venue
        manage_url = registration.manage_url
        return {
            "uid": f"session-{session.pk}-registration-{registration.code}@podium",
            "sequence": session.sequence,
            "starts_at": session.starts_at,
            "ends_at": session.ends_at,
            "summary": gettext("%(event)s: %(session)s")
            % {"event": event.title, "session": session.title},
            "location": pgettext("between parts of a name", ", ").join(
                part for part in (venue.name, venue.address) if part
            )
            if venue
            else "",
            "description": "\n".join(
                [
                    f"{gettext('Ticket code:')} {registration.code}",
                    f"{gettext('See or cancel your registration:')} {manage_url}",
                ]
            ),
            "url": manage_url,
            "cancelled": cancelled or session.is_cancelled,
            "organizer_name": event.organiser_name or sender_name(),
            "organizer_email": sender_address(),
            "language": ics_language(language),
        }


def registration_calendar(
    registration: Registration, *, cancelled: bool = False, language: str = ""
) -> bytes:
    """The registration's calendar file, in its language (or ``language``)."""
    return calendar_file(
        **calendar_fields(registration, cancelled=cancelled, language=language)
    )


# How the ticket's QR image is drawn (``ticket_qr_png``, and the worker from a recipe).
QR_ERROR = "m"
QR_SCALE = 8
QR_BORDER = 4


def ticket_qr(code: str) -> segno.QRCode:
    """The ticket's QR Code: a standard QR Code, never a Micro QR.

    ``segno.make`` picks a Micro QR for data as short as a ticket code, and most
    decoders and phone camera apps cannot read one; ``make_qr`` never does.
    A quiet zone of four modules is the standard's, so that cameras find it.
    """
    return segno.make_qr(code, error=QR_ERROR)


def ticket_qr_png(code: str) -> bytes:
    buffer = io.BytesIO()
    ticket_qr(code).save(buffer, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return buffer.getvalue()


def _qr_png(registration: Registration) -> str:
    return base64.b64encode(ticket_qr_png(registration.code)).decode()


def _context(registration: Registration, **extra: object) -> dict[str, object]:
    """What a registration's email shows, in the active language (the caller's
    ``translation.override`` of the registration's): titles, venue and organiser
    in that language, else in the other one."""
    session = registration.session
    event: Event = session.event
    venue = session.venue or event.venue
    return {
        "full_name": registration.full_name,
        "code": registration.code,
        "status": registration.status,
        "manage_url": registration.manage_url,
        "event_title": event.title,
        "event_url": f"{settings.SITE_URL}{reverse('events:event_detail', kwargs={'slug': event.slug})}",
        "session_title": session.title,
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "timezone": event.timezone,
        "venue_name": venue.name if venue else "",
        "venue_address": venue.address if venue else "",
        **branding(event),
        **extra,
    }


def ticket_attachments(registration: Registration) -> list[dict[str, str]]:
    """The calendar file and QR image of a confirmation, drawn ahead of time."""
    return _attachments(registration, "registration_confirmed", confirmed=True)


def ticket_attachment_recipes(registration: Registration) -> list[dict[str, Any]]:
    """The confirmation's calendar file and QR image as recipes, drawn by the worker.

    The registration request only writes down what to draw (a few hundred bytes);
    ``notifications.delivery`` draws them when it renders the email, to the same
    bytes ``ticket_attachments`` gives: the calendar's DTSTAMP is the moment of
    the registration, as if drawn then.
    """
    fields = calendar_fields(registration)
    for key in ("starts_at", "ends_at"):
        fields[key] = fields[key].isoformat()
    return [
        {
            "filename": "invite.ics",
            "mimetype": "text/calendar; method=PUBLISH",
            "draw": "calendar",
            "calendar": {**fields, "stamp": timezone.now().isoformat()},
        },
        {
            "filename": f"ticket-{registration.code}.png",
            "mimetype": "image/png",
            "draw": "qr_png",
            "qr": {
                "data": registration.code,
                "error": QR_ERROR,
                "scale": QR_SCALE,
                "border": QR_BORDER,
            },
            "content_id": "ticket-qr",
        },
    ]


def _attachments(
    registration: Registration, kind: str, *, confirmed: bool
) -> list[dict[str, str]]:
    attachments = []
    if kind in CALENDAR:
        ics = registration_calendar(registration, cancelled=CALENDAR[kind])
        method = "CANCEL" if CALENDAR[kind] else "PUBLISH"
        attachments.append(
            {
                "filename": "invite.ics",
                "mimetype": f"text/calendar; method={method}",
                "content": ics.decode(),
            }
        )
    if kind in WITH_TICKET and confirmed:
        attachments.append(
            {
                "filename": f"ticket-{registration.code}.png",
                "mimetype": "image/png",
                "content_base64": _qr_png(registration),
                "content_id": "ticket-qr",
            }
        )
    return attachments


def registration_email(
    registration: Registration,
    *,
    kind: str,
    dedupe_key: str,
    attachments: list[dict[str, Any]] | None = None,
    **extra: object,
) -> Email:
    language = mail_language(registration.language)
    event = registration.session.event
    confirmed = registration.status == Registration.Status.CONFIRMED
    if attachments is None:
        attachments = _attachments(registration, kind, confirmed=confirmed)
    if any(a.get("content_id") == "ticket-qr" for a in attachments):
        extra["qr_cid"] = "ticket-qr"
    with translation.override(language):
        context = _context(registration, **extra)
    return Email(
        kind=kind,
        to=registration.email,
        to_name=registration.full_name,
        from_name=str(context["organiser_name"]),
        template=f"{TEMPLATES}{kind}",
        dedupe_key=dedupe_key,
        context=context,
        language=language,
        about=(ABOUT, str(registration.pk)),
        scope=f"event:{registration.session.event_id}",
        attachments=_with_logo(event, attachments),
        unsubscribable=kind == REMINDER,
    )


def _dedupe_key(kind: str, registration: Registration) -> str:
    session = registration.session
    if kind == "session_changed":
        return f"{kind}:{registration.pk}:{session.sequence}"
    if kind == "manage_link":
        # At most one resend per ten minutes, however often the form is sent.
        return f"{kind}:{registration.pk}:{int(timezone.now().timestamp()) // 600}"
    return f"{kind}:{registration.pk}"


def registration_notices_queue(
    *,
    kind: str,
    registrations: Iterable[Registration],
    attachments: list[dict[str, Any]] | None = None,
) -> None:
    """Queues one ``kind`` email per registration (in the caller's transaction).

    ``attachments`` drawn ahead of time (one registration's) are used as they are,
    recipes (``ticket_attachment_recipes``) included.
    """
    emails = []
    for registration in registrations:
        if registration.erased_at is not None:
            continue  # the person's data is erased: nothing more is sent to them
        extra: dict[str, object] = {}
        if kind == "registration_waitlisted":
            from .selectors import registration_waitlist_position

            if registration.waitlist_position is None:  # not counted as it joined
                registration.waitlist_position = registration_waitlist_position(
                    registration
                )
            extra["position"] = registration.waitlist_position
        emails.append(
            registration_email(
                registration,
                kind=kind,
                dedupe_key=_dedupe_key(kind, registration),
                attachments=attachments,
                **extra,
            )
        )
    notifications_enqueue(emails)


def session_changed_notices_queue(
    *,
    registrations: Iterable[Registration],
    was_starts_at: dt.datetime | None = None,
    was_ends_at: dt.datetime | None = None,
) -> None:
    """Queues the "session changed" emails; a new time shows the previous one too."""
    was_start, was_end = (
        (was_starts_at.isoformat(), was_ends_at.isoformat())
        if was_starts_at is not None and was_ends_at is not None
        else ("", "")
    )
    notifications_enqueue(
        [
            registration_email(
                registration,
                kind="session_changed",
                dedupe_key=_dedupe_key("session_changed", registration),
                was_starts_at=was_start,
                was_ends_at=was_end,
            )
            for registration in registrations
            if registration.erased_at is None
        ]
    )


def session_cancelled_notices_queue(
    *, registrations: Iterable[Registration], others_scheduled: bool
) -> None:
    """Queues the "session cancelled" emails; they point to the event's other
    sessions only when some are still to come."""
    notifications_enqueue(
        [
            registration_email(
                registration,
                kind="session_cancelled",
                dedupe_key=_dedupe_key("session_cancelled", registration),
                other_sessions=others_scheduled,
            )
            for registration in registrations
            if registration.erased_at is None
        ]
    )


def event_cancelled_notices_queue(
    *, event: Event, registrations: Iterable[Registration]
) -> None:
    """Queues one "event cancelled" email per person (per distinct address).

    It lists the sessions the person was registered for and carries a calendar
    file per registration that withdraws it; it goes in the language of the
    person's latest registration. Erased people are not written to.
    """
    people: dict[str, list[Registration]] = {}
    for registration in registrations:
        if registration.erased_at is not None:
            continue
        people.setdefault(registration.email.strip().lower(), []).append(registration)
    emails = []
    for own in people.values():
        own.sort(key=lambda r: (r.session.starts_at, r.session.pk, r.pk))
        latest = max(own, key=lambda r: (r.created_at, r.pk))
        first = min(own, key=lambda r: r.pk)
        language = mail_language(latest.language)
        sessions = []
        attachments = []
        with translation.override(language):
            for registration in own:
                session = registration.session
                venue = session.venue or event.venue
                sessions.append(
                    {
                        "title": session.title,
                        "starts_at": session.starts_at.isoformat(),
                        "ends_at": session.ends_at.isoformat(),
                        "venue_name": venue.name if venue else "",
                    }
                )
            context = {
                "full_name": latest.full_name,
                "event_title": event.title,
                "timezone": event.timezone,
                "sessions": sessions,
                **branding(event),
            }
        for registration in own:
            attachments.append(
                {
                    "filename": f"cancelled-{registration.session.pk}.ics",
                    "mimetype": "text/calendar; method=CANCEL",
                    # In the email's language, whatever each registration's.
                    "content": registration_calendar(
                        registration, cancelled=True, language=language
                    ).decode(),
                }
            )
        emails.append(
            Email(
                kind="event_cancelled",
                to=latest.email,
                to_name=latest.full_name,
                from_name=str(context["organiser_name"]),
                template=f"{TEMPLATES}event_cancelled",
                dedupe_key=f"event_cancelled:{event.pk}:{first.pk}",
                context=context,
                language=language,
                about=(ABOUT, str(first.pk)),
                scope=f"event:{event.pk}",
                attachments=_with_logo(event, attachments),
            )
        )
    notifications_enqueue(emails)


def reminders_cancel(registration_ids: Iterable[int]) -> None:
    """Withdraws reminders not yet sent (a cancellation, or a session that moved)."""
    notifications_cancel(about_type=ABOUT, about_ids=registration_ids, kinds=[REMINDER])


# How long after a session's start a missed reminder is still recorded as skipped.
LOOKBACK = dt.timedelta(days=1)
LONGEST_OFFSET = dt.timedelta(days=60)


def reminders_plan(now: dt.datetime | None = None) -> int:
    """Queues the reminders that have fallen due, planned from current start times.

    Each (session, offset, start time) is planned once; a reminder whose moment
    passed while nothing ran is still sent if the session has not started, and is
    recorded as skipped if it has, or if a later reminder is due as well.
    """
    now = now or timezone.now()
    sessions = Session.objects.select_related("event", "venue", "event__venue").filter(
        status=Session.Status.SCHEDULED,
        event__status=Event.Status.PUBLISHED,
        starts_at__gt=now - LOOKBACK,
        starts_at__lte=now + LONGEST_OFFSET,
    )
    planned = 0
    for session in sessions:
        offsets = sorted(set(session.event.reminder_offsets or []))  # smallest first
        due = [o for o in offsets if session.starts_at - dt.timedelta(minutes=o) <= now]
        for offset in due:
            superseded = any(o < offset for o in due)
            planned += _plan_one(
                session, offset, now, skip=superseded or session.starts_at <= now
            )
    return planned


# Reminders are written and committed this many at a time, each chunk queued for
# delivery at once (``notifications_planned``): the first emails leave while the
# rest of a large session is still being planned.
PLAN_CHUNK = 500


def _plan_one(session: Session, offset: int, now: dt.datetime, *, skip: bool) -> int:
    """Plans one reminder of a session, chunk by chunk, once.

    The ``SessionReminder`` row is written after the last chunk: a planner that dies
    midway leaves it unwritten and the next run plans again, the dedupe keys
    ignoring the rows already written. A session-level advisory lock keeps two
    dispatcher runs from planning the same reminder at the same time.
    """
    moment = session.starts_at - dt.timedelta(minutes=offset)
    planned_once = SessionReminder.objects.filter(
        session=session, offset_minutes=offset, starts_at=session.starts_at
    )
    if planned_once.exists():
        return 0
    lock = _plan_lock_key(session.pk, offset, session.starts_at)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock])
        if not cursor.fetchone()[0]:
            return 0  # another process is planning it right now
    try:
        if planned_once.exists():
            return 0
        registrations = Registration.objects.filter(
            session=session,
            status=Registration.Status.CONFIRMED,
            created_at__lte=moment,
            erased_at__isnull=True,
        ).order_by("pk")
        planned = 0
        after = 0
        starts = int(session.starts_at.timestamp())
        while True:
            chunk = list(registrations.filter(pk__gt=after)[:PLAN_CHUNK])
            if not chunk:
                break
            emails = []
            for registration in chunk:
                registration.session = session
                email = registration_email(
                    registration,
                    kind=REMINDER,
                    dedupe_key=f"reminder:{offset}:registration:{registration.pk}:{starts}",
                    offset_minutes=offset,
                )
                if skip:
                    email = dataclasses.replace(email, status="skipped")
                emails.append(email)
            with transaction.atomic():
                notifications_enqueue(emails)
            notifications_planned()
            planned += len(emails)
            after = chunk[-1].pk
        with transaction.atomic():
            _plan, created = SessionReminder.objects.get_or_create(
                session=session, offset_minutes=offset, starts_at=session.starts_at
            )
        return planned if created else 0
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock])


def _plan_lock_key(session_id: int, offset: int, starts_at: dt.datetime) -> int:
    text = f"podium:reminders:{session_id}:{offset}:{starts_at.isoformat()}"
    return int.from_bytes(
        hashlib.sha256(text.encode()).digest()[:8], "big", signed=True
    )
