"""Registration services: seats, the waiting list, cancellation, capacity, check-in."""

import datetime as dt

import pytest
from django.utils import timezone

from events import services
from events.errors import (
    AlreadyRegistered,
    CapacityBelowConfirmed,
    NotActive,
    RegistrationClosed,
    RegistrationNotFound,
    SessionFull,
)
from events.models import Attendee, Registration, Session
from events.selectors import registration_waitlist_position

from .factories import EventFactory, SessionFactory

pytestmark = pytest.mark.django_db


def register(session: Session, n: int | str, **extra: str) -> Registration:
    return services.registration_create(
        session=session,
        attendee=services.AttendeeData(
            full_name=f"Person {n}", email=f"person{n}@example.org", **extra
        ),
    )


def positions(session: Session) -> list[tuple[str, int | None]]:
    waiting = Registration.objects.filter(
        session=session, status="waitlisted"
    ).order_by("waitlist_number")
    return [(r.email, registration_waitlist_position(r)) for r in waiting]


def test_registration_takes_a_seat_until_full_then_waitlists_in_order() -> None:
    session = SessionFactory(capacity=2)
    first, second, third, fourth = (register(session, n) for n in range(4))
    session.refresh_from_db()
    assert [first.status, second.status] == ["confirmed", "confirmed"]
    assert [third.status, fourth.status] == ["waitlisted", "waitlisted"]
    assert session.seats_taken == 2
    assert positions(session) == [
        ("person2@example.org", 1),
        ("person3@example.org", 2),
    ]


def test_registration_is_refused_when_full_without_a_waiting_list() -> None:
    session = SessionFactory(capacity=1, waitlist_enabled=False)
    register(session, 1)
    with pytest.raises(SessionFull):
        register(session, 2)
    assert Registration.objects.filter(session=session).count() == 1


def test_unlimited_session_always_confirms() -> None:
    session = SessionFactory(capacity=None)
    assert {register(session, n).status for n in range(5)} == {"confirmed"}


def test_same_email_in_any_case_is_refused_while_active() -> None:
    session = SessionFactory(capacity=5)
    services.registration_create(
        session=session,
        attendee=services.AttendeeData(full_name="A", email="Chen@Example.org"),
    )
    with pytest.raises(AlreadyRegistered):
        services.registration_create(
            session=session,
            attendee=services.AttendeeData(full_name="B", email="chen@EXAMPLE.org"),
        )
    session.refresh_from_db()
    assert session.seats_taken == 1, "the refused attempt must not keep a seat"


def test_same_email_may_register_again_after_cancelling() -> None:
    session = SessionFactory(capacity=5)
    first = register(session, 1)
    services.registration_cancel(code=first.code, token=first.token)
    again = register(session, 1)
    assert again.status == "confirmed"
    assert Attendee.objects.filter(email="person1@example.org").count() == 1


def test_attendee_keeps_the_latest_details() -> None:
    one, two = SessionFactory(), SessionFactory()
    register(one, 1, organisation="Old")
    register(two, 1, organisation="New")
    assert Attendee.objects.get(email="person1@example.org").organisation == "New"


@pytest.mark.parametrize(
    "change",
    [
        {"registration_opens_at": timezone.now() + dt.timedelta(hours=1)},
        {
            "registration_closes_at": timezone.now() - dt.timedelta(minutes=1),
            "registration_opens_at": None,
        },
        {"status": "draft"},
    ],
    ids=["not-yet-open", "closed", "unpublished"],
)
def test_registration_outside_the_window_is_closed(change: dict) -> None:
    session = SessionFactory(event=EventFactory(**change))
    with pytest.raises(RegistrationClosed):
        register(session, 1)
    assert not Registration.objects.exists()


def test_registration_for_a_started_or_cancelled_session_is_closed() -> None:
    started = SessionFactory(starts_at=timezone.now() - dt.timedelta(minutes=5))
    with pytest.raises(RegistrationClosed):
        register(started, 1)
    cancelled = SessionFactory(status=Session.Status.CANCELLED)
    with pytest.raises(RegistrationClosed):
        register(cancelled, 2)


def test_cancelling_a_confirmed_registration_promotes_the_head_of_the_list() -> None:
    session = SessionFactory(capacity=1)
    seated = register(session, 1)
    head = register(session, 2)
    behind = register(session, 3)
    services.registration_cancel(code=seated.code, token=seated.token)
    head.refresh_from_db()
    behind.refresh_from_db()
    session.refresh_from_db()
    assert head.status == "confirmed" and head.promoted_at is not None
    assert behind.status == "waitlisted"
    assert registration_waitlist_position(behind) == 1
    assert session.seats_taken == 1


def test_cancelling_a_waitlisted_registration_moves_those_behind_up() -> None:
    session = SessionFactory(capacity=1)
    register(session, 1)
    second, third, fourth = (
        register(session, 2),
        register(session, 3),
        register(session, 4),
    )
    services.registration_cancel(code=third.code, token=third.token)
    session.refresh_from_db()
    assert session.seats_taken == 1
    assert positions(session) == [
        ("person2@example.org", 1),
        ("person4@example.org", 2),
    ]
    assert second.status == "waitlisted"
    fourth.refresh_from_db()
    assert fourth.status == "waitlisted"


def test_cancel_is_idempotent() -> None:
    session = SessionFactory(capacity=1)
    seated = register(session, 1)
    register(session, 2)
    services.registration_cancel(code=seated.code, token=seated.token)
    again = services.registration_cancel(code=seated.code, token=seated.token)
    session.refresh_from_db()
    assert again.status == "cancelled"
    assert session.seats_taken == 1, "a second cancel must not free another seat"


def test_cancel_with_a_wrong_token_is_not_found() -> None:
    registration = register(SessionFactory(), 1)
    with pytest.raises(RegistrationNotFound):
        services.registration_cancel(code=registration.code, token="wrong")
    registration.refresh_from_db()
    assert registration.status == "confirmed"


def test_capacity_increase_promotes_in_order() -> None:
    session = SessionFactory(capacity=1)
    register(session, 1)
    waiting = [register(session, n) for n in (2, 3, 4)]
    services.session_update(session=session, data={"capacity": 3})
    statuses = [Registration.objects.get(pk=r.pk).status for r in waiting]
    assert statuses == ["confirmed", "confirmed", "waitlisted"]
    session.refresh_from_db()
    assert session.seats_taken == 3


def test_capacity_to_unlimited_promotes_everyone() -> None:
    session = SessionFactory(capacity=1)
    for n in range(4):
        register(session, n)
    services.session_update(session=session, data={"capacity": None})
    assert set(
        Registration.objects.filter(session=session).values_list("status", flat=True)
    ) == {"confirmed"}


def test_capacity_cannot_go_below_the_confirmed_count() -> None:
    session = SessionFactory(capacity=3)
    for n in range(3):
        register(session, n)
    with pytest.raises(CapacityBelowConfirmed):
        services.session_update(session=session, data={"capacity": 2})
    session.refresh_from_db()
    assert session.capacity == 3


def test_time_change_raises_the_calendar_sequence() -> None:
    session = SessionFactory()
    later = session.starts_at + dt.timedelta(hours=1)
    services.session_update(
        session=session,
        data={"starts_at": later, "ends_at": later + dt.timedelta(hours=1)},
    )
    session.refresh_from_db()
    assert session.sequence == 1
    services.session_update(session=session, data={"capacity": 50})
    session.refresh_from_db()
    assert session.sequence == 1, "a capacity change is not news for the calendar"


def test_session_cancel_cancels_every_registration_once() -> None:
    session = SessionFactory(capacity=1)
    register(session, 1)
    register(session, 2)
    services.session_cancel(session=session)
    services.session_cancel(session=session)
    session.refresh_from_db()
    assert session.status == "cancelled"
    assert session.seats_taken == 0
    assert session.sequence == 1
    assert set(
        Registration.objects.filter(session=session).values_list("status", flat=True)
    ) == {"cancelled"}


def test_check_in_is_idempotent() -> None:
    session = SessionFactory()
    registration = register(session, 1)
    first, already = services.registration_check_in(
        event=session.event, code=registration.code.lower()
    )
    assert already is False and first.checked_in_at is not None
    second, already = services.registration_check_in(
        event=session.event, code=registration.code
    )
    assert already is True
    assert second.checked_in_at == first.checked_in_at


def test_check_in_refuses_waitlisted_and_cancelled() -> None:
    session = SessionFactory(capacity=1)
    seated = register(session, 1)
    waiting = register(session, 2)
    with pytest.raises(NotActive):
        services.registration_check_in(event=session.event, code=waiting.code)
    services.registration_cancel(code=waiting.code, token=waiting.token)
    with pytest.raises(NotActive):
        services.registration_check_in(event=session.event, code=waiting.code)
    assert Registration.objects.get(pk=seated.pk).checked_in_at is None


def test_check_in_only_within_the_event() -> None:
    registration = register(SessionFactory(), 1)
    with pytest.raises(RegistrationNotFound):
        services.registration_check_in(event=EventFactory(), code=registration.code)
