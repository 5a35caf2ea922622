"""The invariants hold in the database itself, whatever code writes to it."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from events.models import Registration, Session

from .factories import AttendeeFactory, SessionFactory


def add(
    session: Session, email: str, status: str = "confirmed", number: int | None = None
) -> Registration:
    return Registration.objects.create(
        session=session,
        attendee=AttendeeFactory(),
        full_name="X",
        email=email,
        status=status,
        waitlist_number=number,
    )


def test_seats_taken_cannot_exceed_capacity(postgres: None) -> None:
    session = SessionFactory(capacity=1, seats_taken=1)
    with (
        pytest.raises(IntegrityError, match="session_not_overbooked"),
        transaction.atomic(),
    ):
        Session.objects.filter(pk=session.pk).update(seats_taken=F("seats_taken") + 1)


def test_capacity_cannot_drop_below_seats_taken(postgres: None) -> None:
    session = SessionFactory(capacity=5, seats_taken=3)
    with (
        pytest.raises(IntegrityError, match="session_not_overbooked"),
        transaction.atomic(),
    ):
        Session.objects.filter(pk=session.pk).update(capacity=2)


def test_one_active_registration_per_email_in_any_case(postgres: None) -> None:
    session = SessionFactory()
    add(session, "Chen@Example.org")
    with (
        pytest.raises(IntegrityError, match="registration_one_active_per_email"),
        transaction.atomic(),
    ):
        add(session, "chen@example.ORG")
    add(session, "chen@example.org", status="cancelled")
    add(SessionFactory(), "chen@example.org")


def test_waitlist_numbers_are_unique_per_session(postgres: None) -> None:
    session = SessionFactory()
    add(session, "a@example.org", status="waitlisted", number=1)
    with (
        pytest.raises(IntegrityError, match="registration_unique_waitlist_number"),
        transaction.atomic(),
    ):
        add(session, "b@example.org", status="waitlisted", number=1)


def test_a_waitlisted_registration_has_a_number(postgres: None) -> None:
    with (
        pytest.raises(IntegrityError, match="registration_waitlisted_has_number"),
        transaction.atomic(),
    ):
        add(SessionFactory(), "a@example.org", status="waitlisted")


def test_session_must_end_after_it_starts(postgres: None) -> None:
    session = SessionFactory()
    with (
        pytest.raises(IntegrityError, match="session_ends_after_start"),
        transaction.atomic(),
    ):
        Session.objects.filter(pk=session.pk).update(ends_at=F("starts_at"))
