"""Fifty people registering at the same instant for ten seats, with real threads."""

import threading
from collections import Counter

from django.db import connection

from events import services
from events.errors import AlreadyRegistered
from events.models import Registration, Session
from events.selectors import registration_list_for_event

from .factories import SessionFactory

PEOPLE = 50
SEATS = 10


def run_at_once(count: int, work) -> list[object]:
    """Runs ``work(i)`` in ``count`` threads released together; returns results or errors."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_fifty_registrations_for_ten_seats(postgres_transactional: None) -> None:
    session = SessionFactory(capacity=SEATS)

    def register(i: int) -> str:
        return services.registration_create(
            session=session,
            attendee=services.AttendeeData(
                full_name=f"Person {i}", email=f"p{i}@example.org"
            ),
        ).status

    results = run_at_once(PEOPLE, register)

    assert not [r for r in results if isinstance(r, Exception)]
    assert Counter(results) == {"confirmed": SEATS, "waitlisted": PEOPLE - SEATS}
    session.refresh_from_db()
    assert session.seats_taken == SEATS
    rows = registration_list_for_event(event=session.event, status="waitlisted")
    assert sorted(r.waitlist_position for r in rows) == list(
        range(1, PEOPLE - SEATS + 1)
    )
    assert (
        Registration.objects.filter(session=session, status="confirmed").count()
        == SEATS
    )


def test_the_same_person_twice_at_once_gets_one_registration(
    postgres_transactional: None,
) -> None:
    session = SessionFactory(capacity=SEATS)

    def register(i: int) -> str:
        return services.registration_create(
            session=session,
            attendee=services.AttendeeData(
                full_name="Same",
                email="SAME@example.org" if i % 2 else "same@example.org",
            ),
        ).status

    results = run_at_once(10, register)
    assert sum(1 for r in results if r == "confirmed") == 1
    assert all(isinstance(r, AlreadyRegistered) for r in results if r != "confirmed")
    session.refresh_from_db()
    assert session.seats_taken == 1


def test_cancellations_and_registrations_race_without_overbooking(
    postgres_transactional: None,
) -> None:
    session = SessionFactory(capacity=5)
    seated = [
        services.registration_create(
            session=session,
            attendee=services.AttendeeData(
                full_name=f"Seated {i}", email=f"s{i}@example.org"
            ),
        )
        for i in range(5)
    ]

    def act(i: int) -> str:
        if i < 5:
            return services.registration_cancel(
                code=seated[i].code, token=seated[i].token
            ).status
        return services.registration_create(
            session=session,
            attendee=services.AttendeeData(
                full_name=f"New {i}", email=f"n{i}@example.org"
            ),
        ).status

    results = run_at_once(25, act)
    assert not [r for r in results if isinstance(r, Exception)]
    session.refresh_from_db()
    confirmed = Registration.objects.filter(session=session, status="confirmed").count()
    waiting = Registration.objects.filter(session=session, status="waitlisted").count()
    assert session.seats_taken == confirmed == 5
    assert waiting == 15
    assert session.status == Session.Status.SCHEDULED
