"""Every write of the events app: one function per use case, each owning its transaction.

Seats are taken by one conditional UPDATE of the session's counter, as late in the
transaction as possible, so that the session row is locked only for the moment it
must be (DESIGN.md invariant 1). On PostgreSQL a registration is one statement that
takes the seat and writes the rest in the same breath (``_registration_write_at_once``).
Everything that changes a session's registrations locks the session row first, then
the person's and registration rows, always in that order.
"""

import datetime as dt
import functools
import re
import uuid
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from modeltranslation.translator import translator
from modeltranslation.utils import build_lang
from modeltranslation.utils import get_language as translation_language

from config.inserts import RowInsert
from config.l10n import LANGUAGE_SUFFIXES
from config.prepared import prepared_cursor, sql_text
from config.problems import ConflictError
from notifications.models import Notification
from notifications.services import (
    NOTIFICATION_INSERT,
    NotResendable,
    dispatch_after_commit,
    notification_enqueue,
    notification_resend,
    notification_resend_check,
    outbox_rows,
)

from .errors import (
    AlreadyRegistered,
    CapacityBelowConfirmed,
    NotActive,
    RegistrationClosed,
    RegistrationNotFound,
    SessionCancelled,
    SessionFull,
)
from .idempotency import idempotency_keys_forget_registrations
from .images import (
    BrandImage,
    brand_image_check,
    brand_image_delete_after_commit,
    brand_image_store,
)
from .models import (
    CODE_ALPHABET,
    Attendee,
    Event,
    PersonalDataErasure,
    PrivacyNotice,
    Registration,
    Session,
    Venue,
)
from .notices import ABOUT as REGISTRATION_ABOUT
from .notices import (
    event_cancelled_notices_queue,
    registration_email,
    registration_notices_queue,
    reminders_cancel,
    session_cancelled_notices_queue,
    session_changed_notices_queue,
    ticket_attachment_recipes,
)
from .questions import answers_clean, answers_insert, questions_for_session
from .selectors import registration_waitlist_position
from .slugs import validate_event_slug

ACTIVE_EMAIL_CONSTRAINT = "registration_one_active_per_email"


@dataclass(frozen=True)
class AttendeeData:
    full_name: str
    email: str
    phone: str = ""
    organisation: str = ""
    language: str = "en"
    # Agreement to the event's privacy notice, and the version the person was
    # shown (None: the current one). Without a notice both are ignored.
    consent: bool = False
    consent_version: int | None = None


def _check_consent(event: Event, attendee: AttendeeData) -> None:
    """No consent to the event's privacy notice, no registration."""
    if not event.has_privacy_notice:
        return
    if not attendee.consent:
        raise ValidationError(
            {"consent": [gettext("Agree to the privacy notice to register.")]}
        )
    if (
        attendee.consent_version is not None
        and attendee.consent_version != event.privacy_notice_version
    ):
        raise ValidationError(
            {
                "consent": [
                    gettext(
                        "The privacy notice has changed since the page was opened: "
                        "read it again and agree to register."
                    )
                ]
            }
        )


def registration_notice_queue(*, kind: str, registration: Registration) -> None:
    """The one place where a registration's email is queued, in the causing transaction."""
    registration_notices_queue(kind=kind, registrations=[registration])


# The person's latest name, phone, organisation and language win (one row per address).
_ATTENDEE_UPSERT = RowInsert(
    Attendee,
    [
        "email",
        "full_name",
        "phone",
        "organisation",
        "language",
        "created_at",
        "updated_at",
    ],
    conflict=["email"],
    update=["full_name", "phone", "organisation", "language", "updated_at"],
    returning=["id"],
)


def _attendee_upsert(attendee: AttendeeData, now: dt.datetime | None = None) -> int:
    """The id of the person with this address, added or brought up to date."""
    ((attendee_id,),) = _ATTENDEE_UPSERT.execute(
        [_attendee_row(attendee, now or timezone.now())]
    )
    return int(attendee_id)


def _attendee_row(attendee: AttendeeData, now: dt.datetime) -> list[Any]:
    """The values of ``_ATTENDEE_UPSERT`` for this person."""
    return [
        attendee.email.strip().lower(),
        attendee.full_name,
        attendee.phone,
        attendee.organisation,
        attendee.language,
        now,
        now,
    ]


# Every column a registration has, but its id (tests.test_registration_insert).
REGISTRATION_FIELDS = [
    "code",
    "session",
    "event",
    "attendee",
    "full_name",
    "email",
    "phone",
    "organisation",
    "language",
    "status",
    "reserved",
    "waitlist_number",
    "checked_in_at",
    "created_at",
    "cancelled_at",
    "promoted_at",
    "consent_at",
    "consent_version",
    "erased_at",
]
_REGISTRATION_INSERT = RowInsert(Registration, REGISTRATION_FIELDS, returning=["id"])


def _registration_values(registration: Registration) -> list[Any]:
    return [getattr(registration, f.attname) for f in _REGISTRATION_INSERT.fields]


def _registration_row_insert(registration: Registration, now: dt.datetime) -> None:
    """Writes a new registration as ``save(force_insert=True)`` would, cheaper."""
    registration.created_at = now
    values = _registration_values(registration)
    ((registration.pk,),) = _REGISTRATION_INSERT.execute([values])
    _as_saved(registration)


def _as_saved(registration: Registration) -> None:
    """Marks a registration written by hand as the ORM marks one it saved."""
    registration._state.adding = False
    registration._state.db = Registration.objects.db


def _check_registration_open(session: Session, now: dt.datetime) -> None:
    if (
        not session.event.registration_is_open(now)
        or session.is_cancelled
        or session.starts_at <= now
    ):
        raise RegistrationClosed()


def registration_create(
    *,
    session: Session,
    attendee: AttendeeData,
    now: dt.datetime | None = None,
    answers: dict[str, Any] | None = None,
) -> Registration:
    """Takes a seat if one is free, else joins the waiting list, else refuses.

    A second active registration of the same address (in any letter case) is refused
    with ``AlreadyRegistered``, and the manage link is sent to that address again.
    ``answers`` maps the id (as text) of each of the event's questions asked for
    this session to its answer; bad ones are refused with ``AnswersInvalid``
    (events.questions), and good ones are stored in the registration's transaction.
    """
    now = now or timezone.now()
    _check_registration_open(session, now)
    # ``has_questions`` (selectors.session_get_for_registration_by_slug): an event
    # that asks nothing costs no query for its questions.
    questions = (
        questions_for_session(session=session)
        if getattr(session, "has_questions", True)
        else []
    )
    checked_answers = answers_clean(questions=questions, raw=answers)
    _check_consent(session.event, attendee)
    try:
        return _registration_insert(
            session=session,
            attendee=attendee,
            now=now,
            questions=questions,
            answers=checked_answers,
        )
    except IntegrityError as exc:
        if ACTIVE_EMAIL_CONSTRAINT not in str(exc):
            raise
    _manage_link_resend(session=session, email=attendee.email)
    raise AlreadyRegistered()


def _registration_insert(
    *,
    session: Session,
    attendee: AttendeeData,
    now: dt.datetime,
    questions: Iterable[Any] = (),
    answers: dict[int, Any] | None = None,
) -> Registration:
    registration = Registration(
        session=session,
        event_id=session.event_id,
        full_name=attendee.full_name,
        email=attendee.email.strip(),
        phone=attendee.phone,
        organisation=attendee.organisation,
        language=attendee.language,
        created_at=now,
    )
    if session.event.has_privacy_notice:
        registration.consent_at = now
        registration.consent_version = session.event.privacy_notice_version
    # What the calendar file and QR code will show is written down before the seat is
    # taken, so that the session row stays locked only for the UPDATE, the INSERTs and
    # the commit; the worker draws them when it sends the email (notifications.delivery).
    # Only when a seat looked free as the session was read: a full session's crowd
    # joins the waiting list and needs no ticket (a seat freed meanwhile gets its
    # ticket written down under the lock).
    looks_free = session.capacity is None or session.seats_taken < session.capacity
    ticket = ticket_attachment_recipes(registration) if looks_free else None
    # The seat or place that most likely awaits, in one statement; if it is gone by
    # the time the row is locked, nothing is written and the steps below decide.
    if (
        connection.vendor == "postgresql"
        and not answers
        and (looks_free or session.waitlist_enabled)
        and _registration_write_at_once(
            registration, attendee=attendee, seat=looks_free, ticket=ticket, now=now
        )
    ):
        return registration
    return _registration_insert_in_steps(
        registration,
        attendee=attendee,
        looks_free=looks_free,
        ticket=ticket,
        now=now,
        questions=questions,
        answers=answers,
    )


@transaction.atomic
def _registration_insert_in_steps(
    registration: Registration,
    *,
    attendee: AttendeeData,
    looks_free: bool,
    ticket: list[dict[str, Any]] | None,
    now: dt.datetime,
    questions: Iterable[Any],
    answers: dict[int, Any] | None,
) -> Registration:
    session = registration.session
    # Each of the two UPDATEs checks the row as it is once locked, and they exclude
    # each other (a place only when no seat is free), so either order is safe; the
    # one that will most likely succeed goes first, so that a full session's crowd
    # costs one statement on the hot row, not two.
    if looks_free or not session.waitlist_enabled:
        seated = _seat_take(session.pk)
        place = None if seated else _waitlist_place_take(session.pk)
    else:
        place = _waitlist_place_take(session.pk)
        seated = 0 if place is not None else _seat_take(session.pk)
    waitlist_number = None if place is None else place[0]
    if place is not None:
        registration.waitlist_position = place[1]
    if not seated and waitlist_number is None:
        # No seat was free a moment ago and the session is not simply full with a
        # waiting list. Decide again holding the row lock: a cancellation may have
        # freed a seat, with nobody yet on the list to take it.
        current = (
            Session.objects.select_for_update()
            .values(
                "status",
                "capacity",
                "seats_taken",
                "waitlist_enabled",
                "waitlist_last",
                "waitlist_left",
            )
            .get(pk=session.pk)
        )
        if current["status"] != Session.Status.SCHEDULED:
            raise RegistrationClosed()
        if current["capacity"] is None or current["seats_taken"] < current["capacity"]:
            Session.objects.filter(pk=session.pk).update(
                seats_taken=F("seats_taken") + 1
            )
            seated = 1
        elif not current["waitlist_enabled"]:
            raise SessionFull()
        else:
            # The row is locked: the next number is ours.
            waitlist_number = current["waitlist_last"] + 1
            registration.waitlist_position = waitlist_number - current["waitlist_left"]
            Session.objects.filter(pk=session.pk).update(
                waitlist_last=F("waitlist_last") + 1
            )
    # The person is written after the session row is locked, as the one statement
    # does: the same order everywhere, so that two registrations of one address to
    # one session, one of each kind, cannot deadlock.
    registration.attendee_id = _attendee_upsert(attendee, now)
    registration.status = (
        Registration.Status.CONFIRMED if seated else Registration.Status.WAITLISTED
    )
    registration.waitlist_number = waitlist_number
    _registration_row_insert(registration, now)
    if answers:
        answers_insert(registration=registration, questions=questions, answers=answers)
    registration_notices_queue(
        kind="registration_confirmed" if seated else "registration_waitlisted",
        registrations=[registration],
        attachments=(ticket or ticket_attachment_recipes(registration))
        if seated
        else None,
    )
    return registration


# A registration in one statement (PostgreSQL): the seat or place, the person, the
# registration and its outbox row, each written only if the one before was, so that
# a registration refused writes no one. In autocommit it is its own transaction: no
# BEGIN and no COMMIT to wait for, and the session row is locked only while
# PostgreSQL runs it, never across a round trip. What that costs: the person's row
# is written with the session row held, so a person whose row another transaction
# holds (an award's announcement reserving their seat) keeps the session's other
# registrations waiting until that one commits.
_AT_ONCE_REGISTRATION = {
    "attendee": '"person"."id"',
    "waitlist_number": '"taken"."waitlist_last"',
}
_AT_ONCE_OUTBOX = {
    "about_id": '"registration"."id"::text',
    "dedupe_key": '%s || "registration"."id"::text',  # the kind and a colon
}
_AT_ONCE_OUTBOX_WAITLISTED = {
    **_AT_ONCE_OUTBOX,
    "context": '%s || jsonb_build_object(\'position\', "taken"."waitlist_position")',
}


def _at_once_outbox(seat: bool) -> dict[str, str]:
    return _AT_ONCE_OUTBOX if seat else _AT_ONCE_OUTBOX_WAITLISTED


@functools.cache
def _at_once_sql(seat: bool) -> str:
    alias = Registration.objects.db
    taken = (
        _seat_sql() + ' RETURNING NULL::integer AS "waitlist_last", '
        'NULL::integer AS "waitlist_position"'
        if seat
        else _waitlist_place_sql()
    )
    person = _ATTENDEE_UPSERT.select_sql(alias, source='"taken"', expressions={})
    registration = _REGISTRATION_INSERT.select_sql(
        alias, source='"taken", "person"', expressions=_AT_ONCE_REGISTRATION
    )
    outbox = NOTIFICATION_INSERT.select_sql(
        alias, source='"registration", "taken"', expressions=_at_once_outbox(seat)
    )
    return (
        f'WITH "taken" AS ({taken}), "person" AS ({person}), '  # noqa: S608 - written from the models' own tables and columns
        f'"registration" AS ({registration}), "outbox" AS ({outbox}) '
        'SELECT "registration"."id", "person"."id", "taken"."waitlist_last", '
        '"taken"."waitlist_position" FROM "registration", "person", "taken"'
    )


def _registration_write_at_once(
    registration: Registration,
    *,
    attendee: AttendeeData,
    seat: bool,
    ticket: list[dict[str, Any]] | None,
    now: dt.datetime,
) -> bool:
    """Writes a registration with a seat (``seat``) or else a waiting-list place in
    one statement; False, having written nothing, if that is not what awaits once
    the session row is locked (no seat free, a seat free, the session closed)."""
    kind = "registration_confirmed" if seat else "registration_waitlisted"
    registration.status = (
        Registration.Status.CONFIRMED if seat else Registration.Status.WAITLISTED
    )
    # The email is written down before its registration has an id: the statement
    # fills in the id (the row's about_id, its dedupe key ``<kind>:<id>``) and a
    # place's position.
    email = registration_email(
        registration,
        kind=kind,
        dedupe_key=f"{kind}:",
        attachments=ticket if seat else None,
    )
    (outbox_row,) = outbox_rows([email], now=timezone.now())
    params = [
        registration.session_id,
        *_ATTENDEE_UPSERT.select_params(_attendee_row(attendee, now), expressions={}),
        *_REGISTRATION_INSERT.select_params(
            _registration_values(registration), expressions=_AT_ONCE_REGISTRATION
        ),
        *NOTIFICATION_INSERT.select_params(
            outbox_row, expressions=_at_once_outbox(seat)
        ),
    ]
    # Inside a caller's transaction, a savepoint: a refused address (the unique
    # constraint) must leave that transaction usable, as the steps' atomic does.
    savepoint = nullcontext() if connection.get_autocommit() else transaction.atomic()
    with savepoint, prepared_cursor(connection) as cursor:
        cursor.execute(_at_once_sql(seat), params)
        row = cursor.fetchone()
    if row is None:
        return False
    (
        registration.pk,
        registration.attendee_id,
        registration.waitlist_number,
        registration.waitlist_position,
    ) = row
    _as_saved(registration)
    dispatch_after_commit()
    return True


def _seat_sql() -> str:
    """Takes a free seat of a scheduled session (one row updated if one was taken).

    The conditional UPDATE ``Session.objects.filter(pk=..., status=SCHEDULED)
    .filter(Q(capacity__isnull=True) | Q(seats_taken__lt=F("capacity")))
    .update(seats_taken=F("seats_taken") + 1)`` would send, written out: compiling
    that queryset cost the registration request more CPU than the statement did.
    """
    table = connection.ops.quote_name(Session._meta.db_table)
    return (
        f'UPDATE {table} SET "seats_taken" = "seats_taken" + 1 '  # noqa: S608 - the model's own table and a constant
        f'WHERE "id" = %s AND "status" = {sql_text(Session.Status.SCHEDULED)} '
        'AND ("capacity" IS NULL OR "seats_taken" < "capacity")'
    )


def _seat_take(session_id: int) -> int:
    """Takes a free seat of a scheduled session: 1 if one was taken, else 0."""
    with prepared_cursor(connection) as cursor:
        cursor.execute(_seat_sql(), [session_id])
        return cursor.rowcount


def _waitlist_place_sql() -> str:
    """The next waiting-list number of a full session and the place it is, in one
    statement (``"waitlist_last"``, ``"waitlist_position"``); no row when the
    session is not (any more) scheduled, full and keeping a waiting list.

    PostgreSQL checks the condition again on the row's latest version once it holds
    the row lock, so a seat freed meanwhile gives no row (and the caller decides
    under the lock), never a waiting-list place beside a free seat.

    The place is the number less those who left the list (promoted, cancelled or
    erased), all of them ahead of a new number. Both counts are the session row's,
    kept under its lock, so they are read as the row is once locked: someone ahead
    who left while this registration waited for the lock is counted gone. (Counting
    leavers among the registrations read them as they were when the statement began.)
    """
    session_table = connection.ops.quote_name(Session._meta.db_table)
    return (
        f'UPDATE {session_table} SET "waitlist_last" = "waitlist_last" + 1 '  # noqa: S608 - the model's own table and constants
        f'WHERE "id" = %s AND "status" = {sql_text(Session.Status.SCHEDULED)} '
        'AND "waitlist_enabled" '
        'AND "capacity" IS NOT NULL AND "seats_taken" >= "capacity" '
        'RETURNING "waitlist_last", "waitlist_last" - "waitlist_left" '
        'AS "waitlist_position"'
    )


def _waitlist_place_take(session_id: int) -> tuple[int, int] | None:
    """The next waiting-list number and place of a full session (``_waitlist_place_sql``)."""
    with prepared_cursor(connection) as cursor:
        cursor.execute(_waitlist_place_sql(), [session_id])
        row = cursor.fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


@transaction.atomic
def registration_reserve(
    *, session: Session, attendee: AttendeeData
) -> Registration | None:
    """Holds a guest's seat outside the public capacity; None if already registered."""
    existing = Registration.objects.filter(
        session=session,
        email__iexact=attendee.email.strip(),
        status__in=Registration.ACTIVE_STATUSES,
    ).first()
    if existing is not None:
        return None
    with transaction.atomic():
        return Registration.objects.create(
            session=session,
            event_id=session.event_id,
            attendee_id=_attendee_upsert(attendee),
            full_name=attendee.full_name,
            email=attendee.email.strip(),
            organisation=attendee.organisation,
            language=attendee.language,
            status=Registration.Status.CONFIRMED,
            reserved=True,
        )


def _manage_link_resend(*, session: Session, email: str) -> None:
    existing = (
        Registration.objects.filter(
            session=session,
            email__iexact=email.strip(),
            status__in=Registration.ACTIVE_STATUSES,
        )
        .select_related("session__event")
        .first()
    )
    if existing is not None:
        registration_notice_queue(kind="manage_link", registration=existing)


def normalise_code(code: str) -> str:
    """A ticket code as typed or scanned, upper-cased; empty if it cannot be one."""
    code = code.strip().upper().replace("-", "").replace(" ", "")
    if not 0 < len(code) <= 16 or not all(c in CODE_ALPHABET for c in code):
        return ""
    return code


def registration_get_by_token(*, code: str, token: str | None) -> Registration:
    """The registration a manage link points at; an unknown code or wrong token is 404."""
    code = normalise_code(code)
    registration = (
        Registration.objects.select_related("session__event", "session__venue")
        .filter(code=code)
        .first()
        if code
        else None
    )
    if registration is None or not registration.token_matches(token):
        raise RegistrationNotFound()
    return registration


def registration_cancel(*, code: str, token: str | None) -> Registration:
    """Cancels a registration from its manage link; cancelling twice changes nothing.

    A freed seat goes to the head of the waiting list in the same transaction.
    """
    registration = registration_get_by_token(code=code, token=token)
    return _registration_cancel(registration)


def registration_cancel_by_organiser(*, registration: Registration) -> Registration:
    """Cancels a registration for its event's organiser (console, admin), as the
    attendee's own link would: the attendee is told, the seat goes to the waiting list.

    The caller has scoped ``registration`` to the organiser's events.
    """
    return _registration_cancel(registration)


def _registration_cancel(registration: Registration) -> Registration:
    if registration.status == Registration.Status.CANCELLED:
        return registration
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=registration.session_id)
        registration = (
            Registration.objects.select_for_update(of=("self",))
            .select_related("session__event")
            .get(pk=registration.pk)
        )
        if registration.status == Registration.Status.CANCELLED:
            return registration
        was_confirmed = (
            registration.status == Registration.Status.CONFIRMED
            and not registration.reserved
        )
        was_waiting = registration.status == Registration.Status.WAITLISTED
        registration.status = Registration.Status.CANCELLED
        registration.cancelled_at = timezone.now()
        registration.save(update_fields=["status", "cancelled_at"])
        registration_notice_queue(
            kind="registration_cancelled", registration=registration
        )
        reminders_cancel([registration.pk])
        if was_waiting:
            session.waitlist_left += 1
            session.save(update_fields=["waitlist_left"])
        if was_confirmed:
            session.seats_taken -= 1
            session.save(update_fields=["seats_taken"])
            _waitlist_promote(session)
    return registration


def _waitlist_promote(session: Session) -> list[Registration]:
    """Gives free seats to the head of the waiting list; the session row is locked."""
    if session.is_cancelled:
        return []
    waiting = Registration.objects.select_for_update().filter(
        session=session, status=Registration.Status.WAITLISTED
    )
    heads = waiting.order_by("waitlist_number")
    if session.capacity is not None:
        free = session.capacity - session.seats_taken
        if free <= 0:
            return []
        heads = heads[:free]
    promoted = list(heads)
    if not promoted:
        return []
    now = timezone.now()
    for registration in promoted:
        registration.status = Registration.Status.CONFIRMED
        registration.promoted_at = now
    Registration.objects.bulk_update(promoted, ["status", "promoted_at"])
    session.seats_taken += len(promoted)
    session.waitlist_left += len(promoted)
    session.save(update_fields=["seats_taken", "waitlist_left"])
    for registration in promoted:
        registration.session = session
    registration_notices_queue(kind="registration_promoted", registrations=promoted)
    return promoted


@transaction.atomic
def registration_confirmation_resend(*, registration: Registration) -> Notification:
    """Sends a registration's confirmation again, as the registration stands now.

    A confirmed registration gets its confirmation (ticket, calendar file), a
    waitlisted one its waiting-list notice with its current place. Each resend is a
    new outbox row with a fresh dedupe key; a cancelled registration is refused.
    Returns the new Notification row. The caller has scoped ``registration`` to the
    organiser's events.
    """
    registration = (
        Registration.objects.select_for_update(of=("self",))
        .select_related("session__event__venue", "session__venue")
        .get(pk=registration.pk)
    )
    if registration.status == Registration.Status.CANCELLED:
        raise NotActive(
            gettext("This registration is cancelled: there is nothing to confirm.")
        )
    if registration.erased_at is not None:
        raise NotActive(
            gettext("This person's data is erased: nothing more is sent to them.")
        )
    extra: dict[str, Any] = {}
    if registration.status == Registration.Status.CONFIRMED:
        kind = "registration_confirmed"
    else:
        kind = "registration_waitlisted"
        extra["position"] = registration_waitlist_position(registration)
    prefix = f"{kind}:{registration.pk}:resend:"
    count = Notification.objects.filter(dedupe_key__startswith=prefix).count()
    email = registration_email(
        registration, kind=kind, dedupe_key=f"{prefix}{count + 1}", **extra
    )
    notification_enqueue(email)
    return Notification.objects.get(dedupe_key=email.dedupe_key)


# Emails rebuilt from the registration as it stands when sent again.
CONFIRMATION_KINDS = {
    "registration_confirmed",
    "registration_promoted",
    "registration_waitlisted",
}
# Emails that only hold while the registration is active, or its session is on.
ACTIVE_REGISTRATION_KINDS = {"manage_link", "session_reminder", "session_changed"}
SESSION_KINDS = {"session_reminder", "session_changed"}


@transaction.atomic
def event_mail_resend(*, event: Event, notification: Notification) -> Notification:
    """Sends one of the event's emails again, if what it says still holds.

    Only a sent or failed email is sent again. A confirmation, promotion or
    waiting-list notice is rebuilt by ``registration_confirmation_resend`` from the
    registration as it is now (a cancelled or erased one is refused); a manage link,
    reminder or change notice is refused for a cancelled or erased registration, and
    a reminder or change notice for a cancelled session; mail about anything else
    (an award) goes through the checker its app registered with the outbox.
    Returns the new Notification row.
    """
    notification_resend_check(notification=notification)
    if notification.about_type != REGISTRATION_ABOUT:
        return notification_resend(notification=notification)
    registration = (
        Registration.objects.select_for_update(of=("self",))
        .select_related("session")
        .filter(event=event, pk=int(notification.about_id))
        .first()
        if notification.about_id.isdigit()
        else None
    )
    if registration is None:
        raise NotResendable(
            gettext("The registration this email is about no longer exists.")
        )
    if registration.erased_at is not None:
        raise NotActive(
            gettext("This person's data is erased: nothing more is sent to them.")
        )
    if notification.kind in CONFIRMATION_KINDS:
        return registration_confirmation_resend(registration=registration)
    if notification.kind in ACTIVE_REGISTRATION_KINDS and (
        registration.status == Registration.Status.CANCELLED
    ):
        raise NotActive(
            gettext(
                "This registration is cancelled: this email is not sent to it again."
            )
        )
    if notification.kind in SESSION_KINDS and registration.session.is_cancelled:
        raise SessionCancelled(
            gettext("This session is cancelled: this email is not sent again.")
        )
    return notification_resend(notification=notification)


def registration_check_in(*, event: Event, code: str) -> tuple[Registration, bool]:
    """Checks a confirmed registration in at the door; a second scan changes nothing.

    Returns the registration and whether it had been checked in already.
    """
    code = normalise_code(code)
    registration = (
        Registration.objects.select_related("session")
        .filter(code=code, event=event)
        .first()
        if code
        else None
    )
    if registration is None:
        raise RegistrationNotFound()
    checked_in = Registration.objects.filter(
        pk=registration.pk,
        status=Registration.Status.CONFIRMED,
        checked_in_at__isnull=True,
    ).update(checked_in_at=timezone.now())
    registration.refresh_from_db(fields=["status", "checked_in_at"])
    if checked_in:
        return registration, False
    if registration.status != Registration.Status.CONFIRMED:
        raise NotActive()
    return registration, True


VENUE_COLUMNS = tuple(
    f"{field}_{suffix}" for field in ("name", "address") for suffix in LANGUAGE_SUFFIXES
)


def translated_fields(model: Any) -> list[str]:
    """The fields of ``model`` that hold a text per language (events.translation)."""
    return list(translator.get_options_for_model(model).all_fields)


def in_language_columns(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with each translated field named plainly (``title``) moved to the
    active language's column (``title_zh_hans`` while Chinese is active).

    A column named explicitly wins over the plain name: ``{"title": "A",
    "title_en": "B"}`` read in English writes "B".
    """
    fields = set(translated_fields(model))
    suffix = build_lang(translation_language())
    columns: dict[str, Any] = {}
    for key, value in data.items():
        if key in fields:
            if f"{key}_{suffix}" not in data:
                columns[f"{key}_{suffix}"] = value
        else:
            columns[key] = value
    return columns


def _same_text(old: Any, new: Any) -> bool:
    """No text and an empty text are the same (a language column may hold either)."""
    if isinstance(old, str | None) and isinstance(new, str | None):
        return (old or "").strip() == (new or "").strip()
    return bool(old == new)


def _venue_find_or_add(venue: dict[str, Any]) -> Venue:
    """The Venue row of a place given by its name and address in either or both
    languages; a new row if no venue has exactly the texts given.

    Every column counts, a language not given as empty: venues are shared between
    events, so a place given by its English name alone must not pick up the
    Chinese name and address another organiser gave the same hall.
    """
    texts = {
        column: (value or "").strip()
        for column, value in in_language_columns(Venue, venue).items()
        if column in VENUE_COLUMNS
    }
    if not any(column.startswith("address_") for column in texts):
        # A place given without an address has none, in the languages it names.
        for suffix in LANGUAGE_SUFFIXES:
            if texts.get(f"name_{suffix}"):
                texts[f"address_{suffix}"] = ""
    if not any(texts.get(f"name_{suffix}") for suffix in LANGUAGE_SUFFIXES):
        raise ValidationError(
            {"venue": [gettext("Give the venue's name in Chinese or in English.")]}
        )
    texts = {column: texts.get(column, "") for column in VENUE_COLUMNS}
    match = Q()
    for column, text in texts.items():
        match &= (
            Q(**{column: text})
            if text
            else Q(**{column: ""}) | Q(**{f"{column}__isnull": True})
        )
    place = Venue.objects.filter(match).order_by("pk").first()
    if place is None:
        place = Venue(**texts)
        place.full_clean()
        place.save()
    return place


def _with_venue(data: dict[str, Any]) -> dict[str, Any]:
    """Replaces a ``venue`` given as ``{name, address}`` (or their language columns,
    ``name_zh_hans``, ``name_en``, ...) by the Venue row of that place."""
    venue = data.get("venue")
    if not isinstance(venue, dict):
        return data
    return {**data, "venue": _venue_find_or_add(venue)}


BRANDING_IMAGES = ("logo", "seal")


def _branding_images(
    data: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, BrandImage | None]]:
    """Takes the logo and seal out of ``data``: each checked (``events.images``), or
    None to remove it. What is not an accepted image is a ``ValidationError`` on
    its field."""
    images: dict[str, BrandImage | None] = {}
    rest = dict(data)
    for field in BRANDING_IMAGES:
        if field not in rest:
            continue
        value = rest.pop(field)
        # None, or False from a cleared file input (the admin's): remove it.
        if value is None or value is False or value == "":
            images[field] = None
            continue
        try:
            images[field] = brand_image_check(value)
        except ValidationError as error:
            raise ValidationError({field: error.messages}) from error
    return rest, images


def _branding_images_store(event: Event, images: dict[str, BrandImage | None]) -> None:
    """Stores new images, forgets removed ones; old files go once committed."""
    changed = []
    # The stored names, not the instance's: a form may have set an upload on it.
    stored = Event.objects.filter(pk=event.pk).values(*images).get()
    for field, image in images.items():
        old = stored[field] or ""
        if image is None and not old:
            continue
        new = brand_image_store(event, field, image) if image is not None else ""
        setattr(event, field, new)
        changed.append(field)
        brand_image_delete_after_commit(event, field, old)
    if changed:
        event.save(update_fields=changed)


PRIVACY_NOTICE_FIELDS = ("privacy_notice_zh_hans", "privacy_notice_en")


def _privacy_notice_version(event: Event, changed: Iterable[str]) -> list[str]:
    """Gives a changed privacy notice its next version and keeps its text.

    Registrations name the version they consented to; the PrivacyNotice row keeps
    what it said. Emptying both texts leaves the event without a notice (version 0)
    until a text is written again. Returns the fields to save as well.
    """
    if not set(PRIVACY_NOTICE_FIELDS) & set(changed):
        return []
    texts = [getattr(event, f).strip() for f in PRIVACY_NOTICE_FIELDS]
    for field, text in zip(PRIVACY_NOTICE_FIELDS, texts, strict=True):
        setattr(event, field, text)
    if not any(texts):
        event.privacy_notice_version = 0
        return ["privacy_notice_version"]
    last = PrivacyNotice.objects.filter(event=event).order_by("-version").first()
    if last is not None and [last.text_zh_hans, last.text_en] == texts:
        event.privacy_notice_version = last.version
        return ["privacy_notice_version"]
    event.privacy_notice_version = (last.version if last else 0) + 1
    PrivacyNotice.objects.create(
        event=event,
        version=event.privacy_notice_version,
        text_zh_hans=texts[0],
        text_en=texts[1],
    )
    return ["privacy_notice_version"]


def _check_slug(data: dict[str, Any]) -> None:
    if "slug" not in data:
        return
    try:
        validate_event_slug(str(data["slug"]))
    except ValidationError as error:
        raise ValidationError({"slug": error.messages}) from error


@transaction.atomic
def event_create(*, data: dict[str, Any], organiser: Any) -> Event:
    """Creates an event; its creator becomes one of its organisers.

    A slug reserved for a console page (``events.slugs``) is refused, whichever
    door the event comes through.
    """
    _check_slug(data)
    data, images = _branding_images(data)
    event = Event(**_with_venue(in_language_columns(Event, data)))
    event.full_clean()
    event.save()
    if images:
        _branding_images_store(event, images)
    if _privacy_notice_version(event, data):
        event.save(update_fields=["privacy_notice_version"])
    if organiser is not None and organiser.is_authenticated:
        event.organisers.add(organiser)
    return event


@transaction.atomic
def event_update(*, event: Event, data: dict[str, Any]) -> Event:
    """Changes an event's details; a new privacy notice text gets a new version.

    The notice is compared with the stored row, read under lock, not with ``event``:
    a caller (the admin's form) may have set the new values on it already. The lock
    also makes one change of the notice at a time, so the version is raised once.
    """
    _check_slug(data)
    data, images = _branding_images(data)
    data = _with_venue(in_language_columns(Event, data))
    stored = (
        Event.objects.select_for_update().only(*PRIVACY_NOTICE_FIELDS).get(pk=event.pk)
    )
    notice_changed = [
        f for f in PRIVACY_NOTICE_FIELDS if f in data and getattr(stored, f) != data[f]
    ]
    for field, value in data.items():
        setattr(event, field, value)
    event.full_clean()
    # Language columns only: django-modeltranslation would copy a plain field
    # named here into the active language's column.
    event.save(update_fields=[*data, *_privacy_notice_version(event, notice_changed)])
    if images:
        _branding_images_store(event, images)
    return event


@transaction.atomic
def event_publish(*, event: Event) -> Event:
    """Puts a draft event on the public list; publishing twice changes nothing.

    A cancelled event stays cancelled: its registrants have been told.
    """
    locked = Event.objects.select_for_update().get(pk=event.pk)
    if locked.status == Event.Status.CANCELLED:
        raise ConflictError(gettext("A cancelled event cannot be published again."))
    if locked.status == Event.Status.DRAFT:
        locked.status = Event.Status.PUBLISHED
        locked.save(update_fields=["status"])
    return locked


@transaction.atomic
def event_cancel(*, event: Event) -> Event:
    """Cancels an event and each of its sessions (as ``session_cancel`` does).

    Every registrant gets one "event cancelled" email listing the sessions they
    were registered for (not one per session), and their reminders stop;
    cancelling twice changes nothing.
    """
    locked = Event.objects.select_for_update().get(pk=event.pk)
    if locked.status == Event.Status.CANCELLED:
        return locked
    locked.status = Event.Status.CANCELLED
    locked.save(update_fields=["status"])
    cancelled: list[Registration] = []
    for session in (
        Session.objects.select_for_update(of=("self",))
        .select_related("venue")
        .filter(event=locked, status=Session.Status.SCHEDULED)
        .order_by("pk")
    ):
        session.event = locked
        cancelled.extend(_session_cancel_locked(session))
    event_cancelled_notices_queue(event=locked, registrations=cancelled)
    return locked


@transaction.atomic
def session_create(*, event: Event, data: dict[str, Any]) -> Session:
    session = Session(event=event, **_with_venue(in_language_columns(Session, data)))
    session.full_clean()
    session.save()
    return session


# A new title in either language is news to registrants, as a new time or place.
_NOTICE_FIELDS = {"starts_at", "ends_at", "venue", "title_zh_hans", "title_en"}


@transaction.atomic
def session_update(*, session: Session, data: dict[str, Any]) -> Session:
    """Changes a session; a new time or place tells its registrants, more seats promote.

    The capacity never goes below the confirmed count.
    """
    data = _with_venue(in_language_columns(Session, data))
    locked = (
        Session.objects.select_for_update().select_related("event").get(pk=session.pk)
    )
    if (
        "capacity" in data
        and data["capacity"] is not None
        and data["capacity"] < locked.seats_taken
    ):
        raise CapacityBelowConfirmed(
            f"{locked.seats_taken} registrations are confirmed; "
            f"the capacity cannot be {data['capacity']}."
        )
    changed = [
        field
        for field, value in data.items()
        if not _same_text(getattr(locked, field), value)
    ]
    was_starts_at, was_ends_at = locked.starts_at, locked.ends_at
    was_texts = {field: getattr(locked, field) for field in changed}
    for field in changed:
        setattr(locked, field, data[field])
    if not changed:
        return locked
    # A title given in a language it had none in is a translation, not news: the
    # readers of that language saw the other one and nothing else changed.
    noticed = {
        field
        for field in _NOTICE_FIELDS.intersection(changed)
        if not (field.startswith("title_") and not (was_texts.get(field) or "").strip())
    }
    if noticed:
        locked.sequence += 1
        changed.append("sequence")
    locked.full_clean()
    locked.save(update_fields=changed)
    if noticed and not locked.is_cancelled:
        registrations = list(_active_registrations(locked))
        moved = bool({"starts_at", "ends_at"} & set(changed))
        session_changed_notices_queue(
            registrations=registrations,
            was_starts_at=was_starts_at if moved else None,
            was_ends_at=was_ends_at if moved else None,
        )
        if moved:
            # Planned again from the new time by the next dispatcher run.
            reminders_cancel([r.pk for r in registrations])
    _waitlist_promote(locked)
    return locked


def _active_registrations(session: Session) -> Iterable[Registration]:
    registrations = Registration.objects.filter(
        session=session, status__in=Registration.ACTIVE_STATUSES
    )
    for registration in registrations.iterator():
        registration.session = session
        yield registration


@transaction.atomic
def session_cancel(*, session: Session) -> Session:
    """Cancels a session and every registration for it; cancelling twice is a no-op.

    The registrants are emailed; the email points to the event's other sessions
    when some are still to come.
    """
    locked = (
        Session.objects.select_for_update().select_related("event").get(pk=session.pk)
    )
    if locked.is_cancelled:
        return locked
    registrations = _session_cancel_locked(locked)
    others = (
        locked.event.status == Event.Status.PUBLISHED
        and Session.objects.filter(
            event_id=locked.event_id,
            status=Session.Status.SCHEDULED,
            starts_at__gt=timezone.now(),
        )
        .exclude(pk=locked.pk)
        .exists()
    )
    session_cancelled_notices_queue(
        registrations=registrations, others_scheduled=others
    )
    return locked


def _session_cancel_locked(locked: Session) -> list[Registration]:
    """Cancels a scheduled session (row locked by the caller) and its active
    registrations, stops their reminders and returns the registrations, for the
    caller's email."""
    registrations = list(
        Registration.objects.select_for_update().filter(
            session=locked, status__in=Registration.ACTIVE_STATUSES
        )
    )
    now = timezone.now()
    for registration in registrations:
        if registration.status == Registration.Status.WAITLISTED:
            locked.waitlist_left += 1
        registration.status = Registration.Status.CANCELLED
        registration.cancelled_at = now
        registration.session = locked
    Registration.objects.bulk_update(registrations, ["status", "cancelled_at"])
    locked.status = Session.Status.CANCELLED
    locked.seats_taken = 0
    locked.sequence += 1
    locked.save(update_fields=["status", "seats_taken", "waitlist_left", "sequence"])
    reminders_cancel([r.pk for r in registrations])
    return registrations


# What an erased person's emails keep: what the email was about, not whom.
ERASED_MAIL_CONTEXT = {
    "code",
    "status",
    "event_title",
    "session_title",
    "starts_at",
    "ends_at",
    "timezone",
    "venue_name",
    "venue_address",
    "position",
    "offset_minutes",
}
ERASED_DOMAIN = "erased.invalid"  # RFC 2606: no mail can be delivered there


def _erased_placeholder() -> tuple[str, str]:
    """A label and an address that cannot receive mail, e.g. "Erased 3F9A2C".

    The address is unique to the erased person (a whole UUID): two of them active in
    one session would break ``registration_one_active_per_email``, and two across
    sessions would count as one person. The label only needs to be short.
    """
    token = uuid.uuid4().hex
    return f"Erased {token[:6].upper()}", f"erased-{token}@{ERASED_DOMAIN}"


def _answers_erase(registration_ids: list[int]) -> None:
    """Empties the answers to the event's questions; what was asked stays readable."""
    try:
        answer_model = apps.get_model("events", "Answer")
    except LookupError:  # the questions feature is not installed
        return
    answer_model.objects.filter(registration_id__in=registration_ids).update(
        value=None, choice_labels=[]
    )


def _person_anonymise(
    *, event: Event, registrations: list[Registration], now: dt.datetime
) -> tuple[str, int]:
    """Replaces one person's details in this event's rows by a placeholder.

    The registrations stay (status, seat, check-in, consent record), so that every
    count stays true; their queued mail is cancelled and the mail already written
    forgets whom it was for. The shared Attendee row is anonymised if no other
    event has this person's registration, else this event's rows leave it for an
    anonymous row of their own; the API's kept answers about the registrations (for
    an ``Idempotency-Key``) are deleted. Returns the label and the emails cancelled.
    """
    label, address = _erased_placeholder()
    ids = [r.pk for r in registrations]
    old_addresses = {r.email.strip().lower() for r in registrations}
    Registration.objects.filter(pk__in=ids).update(
        full_name=label, email=address, phone="", organisation="", erased_at=now
    )
    idempotency_keys_forget_registrations(codes=[r.code for r in registrations])
    for attendee_id in {r.attendee_id for r in registrations}:
        elsewhere = (
            Registration.objects.filter(attendee_id=attendee_id)
            .exclude(event=event)
            .exists()
        )
        if elsewhere:
            anonymous = Attendee.objects.create(
                email=f"{attendee_id}-{address}", full_name=label
            )
            Registration.objects.filter(pk__in=ids, attendee_id=attendee_id).update(
                attendee=anonymous
            )
        else:
            Attendee.objects.filter(pk=attendee_id).update(
                email=f"{attendee_id}-{address}",
                full_name=label,
                phone="",
                organisation="",
                updated_at=now,
            )
    _answers_erase(ids)
    mail = Notification.objects.filter(
        Q(about_type=REGISTRATION_ABOUT, about_id__in=[str(i) for i in ids])
        | Q(scope=f"event:{event.pk}", recipient__iregex=_any_of(old_addresses))
    )
    cancelled = mail.filter(status=Notification.Status.PENDING).update(
        status=Notification.Status.CANCELLED, last_error="personal data erased"
    )
    rows = list(mail.select_for_update(of=("self",)))
    for row in rows:
        row.recipient = address
        context = row.context if isinstance(row.context, dict) else {}
        row.context = {k: v for k, v in context.items() if k in ERASED_MAIL_CONTEXT}
        row.attachments = []
    Notification.objects.bulk_update(
        rows, ["recipient", "context", "attachments"], batch_size=500
    )
    return label, cancelled


def _any_of(addresses: Iterable[str]) -> str:
    """A regex matching exactly one of the addresses, in any letter case."""
    return "^(" + "|".join(re.escape(a) for a in sorted(addresses)) + ")$"


@transaction.atomic
def person_erase(*, event: Event, email: str, actor: Any) -> PersonalDataErasure | None:
    """Erases what this event holds about one email address, at the person's request.

    Every registration of the address in this event is anonymised (see
    ``_person_anonymise``); a confirmed one stays a seat taken, so counts stay
    true (cancel it first to free the seat), but a place on a waiting list is
    given up: nobody could be promoted into it and come. Nothing more is sent to
    the person about this event. Returns the audit record, or None when the event
    holds nothing (erasing twice erases once).
    """
    address = email.strip().lower()
    if not address:
        return None
    found = list(
        Registration.objects.filter(event=event, erased_at__isnull=True)
        .filter(Q(email__iexact=address) | Q(attendee__email=address))
        .values_list("pk", "session_id", "status")
    )
    # Session rows first, then registrations, as every writer locks them: a place
    # given up counts on its session's row (the places behind close up), so the
    # sessions of the person's places are locked. Nothing goes back onto a list, so
    # every place found under the lock was one as they were found; a registration
    # made since is not this erasure's.
    waiting_in = {
        session
        for _, session, status in found
        if status == Registration.Status.WAITLISTED
    }
    list(  # evaluated, every row: the lock
        Session.objects.select_for_update()
        .filter(pk__in=waiting_in)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    registrations = list(
        Registration.objects.select_for_update(of=("self",))
        .filter(pk__in=[pk for pk, _, _ in found], erased_at__isnull=True)
        .order_by("pk")
    )
    if not registrations:
        return None
    now = timezone.now()
    for registration in registrations:
        if registration.status == Registration.Status.WAITLISTED:
            # No seat is held, so only the count of those who left moves.
            registration.status = Registration.Status.CANCELLED
            registration.cancelled_at = now
            registration.save(update_fields=["status", "cancelled_at"])
            Session.objects.filter(pk=registration.session_id).update(
                waitlist_left=F("waitlist_left") + 1
            )
    label, cancelled = _person_anonymise(
        event=event, registrations=registrations, now=now
    )
    return PersonalDataErasure.objects.create(
        event=event,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        reason=PersonalDataErasure.Reason.REQUEST,
        label=label,
        registrations=len(registrations),
        notifications_cancelled=cancelled,
    )


def personal_data_expired_events(today: dt.date) -> list[Event]:
    """Events whose retention period is over and that still hold personal data."""
    candidates = Event.objects.filter(
        ends_on__lt=today,
        sessions__registrations__erased_at__isnull=True,
    ).distinct()
    return [
        event
        for event in candidates.order_by("pk")
        if event.ends_on + dt.timedelta(days=event.retention_days) < today
    ]


def personal_data_expire(*, today: dt.date | None = None) -> int:
    """Anonymises attendees' details in every event past its retention period.

    Each person (by address) gets a placeholder of their own, so that counts of
    people stay true as well as those of registrations, statuses and check-ins;
    award recipients (the public honour roll) are not attendees and stay. Running
    it again finds nothing left to do. Returns the registrations anonymised.
    """
    today = today or timezone.localdate()
    total = 0
    for event in personal_data_expired_events(today):
        total += _event_personal_data_expire(event)
    return total


@transaction.atomic
def _event_personal_data_expire(event: Event) -> int:
    registrations = list(
        Registration.objects.select_for_update()
        .filter(event=event, erased_at__isnull=True)
        .order_by("pk")
    )
    people: dict[str, list[Registration]] = {}
    for registration in registrations:
        people.setdefault(registration.email.strip().lower(), []).append(registration)
    now = timezone.now()
    cancelled = 0
    for person in people.values():
        cancelled += _person_anonymise(event=event, registrations=person, now=now)[1]
    if registrations:
        PersonalDataErasure.objects.create(
            event=event,
            actor=None,
            reason=PersonalDataErasure.Reason.RETENTION,
            label="",
            registrations=len(registrations),
            notifications_cancelled=cancelled,
        )
    return len(registrations)
