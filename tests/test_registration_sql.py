"""What a registration writes, and how few statements it takes (issue 11).

A registration is one short transaction on a hot row: what it sends to PostgreSQL
is part of its behaviour, as is every row it writes.
"""

import random
import re
from collections import Counter
from typing import Any

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from events import services
from events.models import Registration, Session
from events.selectors import registration_waitlist_position
from notifications.models import Notification

from .factories import EventFactory, SessionFactory
from .test_concurrency import run_at_once


def person(n: object) -> services.AttendeeData:
    return services.AttendeeData(full_name=f"Person {n}", email=f"p{n}@example.org")


def test_the_written_out_insert_names_every_column_of_a_registration(
    postgres: None,
) -> None:
    """A field added to Registration must be written by the registration, too."""
    columns = {f.name for f in Registration._meta.concrete_fields} - {"id"}
    assert set(services.REGISTRATION_FIELDS) == columns
    assert len(services.REGISTRATION_FIELDS) == len(columns)


def test_a_registration_is_written_as_the_orm_would_write_it(postgres: None) -> None:
    session = SessionFactory(capacity=1, waitlist_enabled=True)
    seated = services.registration_create(session=session, attendee=person("A"))
    waiting = services.registration_create(session=session, attendee=person("B"))

    for made in (seated, waiting):
        stored = Registration.objects.get(pk=made.pk)
        for field in Registration._meta.concrete_fields:
            assert getattr(stored, field.attname) == getattr(made, field.attname), (
                field.name
            )
        assert stored.event_id == session.event_id
        assert stored.attendee.email == made.email.lower()
    assert (seated.status, waiting.status) == ("confirmed", "waitlisted")
    assert (waiting.waitlist_number, waiting.waitlist_position) == (1, 1)


def test_the_attendee_row_follows_the_latest_registration(postgres: None) -> None:
    first, second = SessionFactory(), SessionFactory()
    a = services.registration_create(
        session=first,
        attendee=services.AttendeeData(full_name="张伟", email="Zhang@Example.org"),
    )
    b = services.registration_create(
        session=second,
        attendee=services.AttendeeData(
            full_name="Zhang Wei", email="zhang@example.org", language="zh-hans"
        ),
    )
    assert a.attendee_id == b.attendee_id
    b.attendee.refresh_from_db()
    assert (b.attendee.full_name, b.attendee.language) == ("Zhang Wei", "zh-hans")


def test_the_database_holds_a_registration_to_its_sessions_event(
    postgres: None,
) -> None:
    registration = services.registration_create(
        session=SessionFactory(), attendee=person("A")
    )
    elsewhere = EventFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        Registration.objects.filter(pk=registration.pk).update(event=elsewhere)


def test_waiting_list_places_match_the_list_through_promotions_and_cancellations(
    postgres: None,
) -> None:
    """A new place is its number less those who left the list, as the session row
    counts them; the list counts those still waiting. Both agree however people
    come and go: cancelled, promoted by a cancellation or by more seats, erased at
    their request (seeded, repeatable)."""
    rng = random.Random(11)
    session = SessionFactory(capacity=3, waitlist_enabled=True)
    active: list[Registration] = []
    joined = 0
    moves: Counter[str] = Counter()

    def left_the_list() -> int:
        return (
            Registration.objects.filter(session=session, waitlist_number__isnull=False)
            .exclude(status="waitlisted")
            .count()
        )

    for step in range(80):
        roll = rng.random()
        if active and roll < 0.3:
            leaving = active.pop(rng.randrange(len(active)))
            services.registration_cancel(code=leaving.code, token=leaving.token)
            moves["cancelled"] += 1
        elif active and roll < 0.38:
            leaving = active.pop(rng.randrange(len(active)))
            services.person_erase(event=session.event, email=leaving.email, actor=None)
            moves["erased"] += 1
        elif roll < 0.43:
            current = Session.objects.get(pk=session.pk)
            services.session_update(
                session=current, data={"capacity": current.capacity + 1}
            )
            moves["more seats"] += 1
        else:
            fresh = Session.objects.select_related("event").get(pk=session.pk)
            made = services.registration_create(session=fresh, attendee=person(step))
            active.append(made)
            if made.status == Registration.Status.WAITLISTED:
                joined += 1
                counted = registration_waitlist_position(
                    Registration.objects.get(pk=made.pk)
                )
                assert made.waitlist_position == counted, step
                mail = Notification.objects.get(
                    dedupe_key=f"registration_waitlisted:{made.pk}"
                )
                assert mail.context["position"] == counted
        session.refresh_from_db()
        assert session.waitlist_left == left_the_list(), step
    promoted = Registration.objects.filter(session=session, promoted_at__isnull=False)
    assert joined > 10 and left_the_list() > 5 and promoted.exists()
    assert min(moves.values()) >= 2, moves  # the sequence did test every way out


def test_places_given_at_once_are_each_given_once(postgres_transactional: None) -> None:
    session = SessionFactory(capacity=5, waitlist_enabled=True)

    def register(i: int) -> tuple[str, int | None]:
        made = services.registration_create(session=session, attendee=person(i))
        return made.status, made.waitlist_position

    results = run_at_once(30, register)
    assert not [r for r in results if isinstance(r, Exception)]
    assert Counter(status for status, _ in results) == {
        "confirmed": 5,
        "waitlisted": 25,
    }
    assert sorted(p for s, p in results if s == "waitlisted") == list(range(1, 26))


@pytest.mark.parametrize("full", [False, True], ids=["seat", "waiting list"])
def test_a_registration_request_sends_only_what_a_seat_needs(
    api, postgres_transactional: None, monkeypatch, full: bool
) -> None:
    """One read of the event and session, then one statement that is its own
    transaction: the seat or the place (with its position), the person, the
    registration and its outbox row. No BEGIN and no COMMIT to wait for, nothing
    reads the waiting list, and nothing reads the session twice."""
    session = SessionFactory(capacity=1, waitlist_enabled=True)
    if full:
        services.registration_create(session=session, attendee=person("first"))
    url = f"/api/v1/events/{session.event.slug}/registrations/"
    connection.ensure_connection()
    commands: list[bytes] = []  # what psycopg sends by itself (BEGIN, COMMIT, ...)
    exec_command = connection.connection._exec_command
    monkeypatch.setattr(
        connection.connection,
        "_exec_command",
        lambda command, *a, **k: (
            commands.append(command) or exec_command(command, *a, **k)
        ),
    )
    with CaptureQueriesContext(connection) as queries:
        response = api.post(
            url,
            {"session": session.pk, "full_name": "张伟", "email": "zhang@example.org"},
            format="json",
        )
    assert response.status_code == 201, response.content
    statements = [q["sql"] for q in queries.captured_queries]
    table = Session._meta.db_table
    # The one read: the session with its event, venues and whether it asks questions.
    assert statements[0].startswith("SELECT") and f'"{table}"' in statements[0]
    assert len(statements) == 2, statements
    write = statements[1]
    assert write.startswith("WITH")
    parts = re.findall(r'\b(UPDATE|INSERT INTO) "(\w+)"', write)
    assert parts == [
        ("UPDATE", table),  # one: the seat, or the place on a full session's list
        ("INSERT INTO", "events_attendee"),
        ("INSERT INTO", "events_registration"),
        ("INSERT INTO", "notifications_notification"),
    ], parts
    assert commands == [], commands
    assert not [s for s in statements if "COUNT(" in s.upper() and "UPDATE" not in s]
    body = response.json()
    assert body["status"] == ("waitlisted" if full else "confirmed")
    assert body["waitlist_position"] == (1 if full else None)
    made = Registration.objects.get(code=body["code"])
    assert made.attendee.email == "zhang@example.org"
    mail = Notification.objects.get(about_id=str(made.pk))
    assert mail.dedupe_key == f"registration_{body['status']}:{made.pk}"
    assert mail.context["code"] == body["code"]
    if full:
        assert mail.context["position"] == 1
    else:
        assert "position" not in mail.context
        assert [a.get("draw") for a in mail.attachments][:2] == ["calendar", "qr_png"]
    with transaction.atomic():  # the control: a transaction is seen
        Session.objects.filter(pk=session.pk).update(title="Talk")
    assert commands == [b"BEGIN", b"COMMIT"]


def test_a_seat_freed_after_the_session_was_read_full_is_taken_not_queued(
    postgres: None,
) -> None:
    session = SessionFactory(capacity=1, waitlist_enabled=True)
    first = services.registration_create(session=session, attendee=person("first"))
    stale = Session.objects.select_related("event").get(pk=session.pk)  # reads full
    services.registration_cancel(code=first.code, token=first.token)

    made = services.registration_create(session=stale, attendee=person("next"))

    assert (made.status, made.waitlist_number) == ("confirmed", None)
    mail = Notification.objects.get(dedupe_key=f"registration_confirmed:{made.pk}")
    assert [a["draw"] for a in mail.attachments if "draw" in a][:2] == [
        "calendar",
        "qr_png",
    ]
    session.refresh_from_db()
    assert (session.seats_taken, session.waitlist_last) == (1, 0)


def test_a_session_read_with_a_free_seat_that_filled_meanwhile_queues(
    postgres: None,
) -> None:
    session = SessionFactory(capacity=1, waitlist_enabled=True)
    stale = Session.objects.select_related("event").get(pk=session.pk)  # reads free
    services.registration_create(session=session, attendee=person("first"))

    made = services.registration_create(session=stale, attendee=person("next"))

    assert (made.status, made.waitlist_number, made.waitlist_position) == (
        "waitlisted",
        1,
        1,
    )
    mail = Notification.objects.get(dedupe_key=f"registration_waitlisted:{made.pk}")
    assert not [a for a in mail.attachments if a.get("draw") in ("calendar", "qr_png")]


def _prepared_statements(*, with_types: bool = False) -> list[tuple[Any, ...]]:
    if connection.settings_dict["OPTIONS"].get("prepare_threshold") is None:
        pytest.skip("prepared statements are off (DATABASE_PREPARED_STATEMENTS=false)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, statement, parameter_types::text[] FROM pg_prepared_statements"
        )
        return [row if with_types else row[:2] for row in cursor.fetchall()]


def test_the_registration_requests_own_statements_stay_planned(
    api, postgres: None
) -> None:
    """PostgreSQL parses and plans the request's own statements once per connection
    (config.prepared): doing it again for each request was half of its CPU."""
    session = SessionFactory(capacity=6, waitlist_enabled=True)
    url = f"/api/v1/events/{session.event.slug}/registrations/"
    for n in range(12):  # six seats, then six places: each statement runs 6 times
        response = api.post(
            url,
            {"session": session.pk, "full_name": f"张伟 {n}", "email": f"p{n}@ex.org"},
            format="json",
        )
        assert response.status_code == 201, response.content

    prepared = [statement for _, statement in _prepared_statements()]
    assert [s for s in prepared if f'FROM "{Session._meta.db_table}" s' in s]
    writes = [s for s in prepared if s.startswith("WITH")]
    assert len(writes) == 2, writes  # the seat's and the place's
    assert [s for s in writes if 'SET "seats_taken" = "seats_taken" + 1' in s]
    assert [s for s in writes if 'SET "waitlist_last" = "waitlist_last" + 1' in s]


def test_a_place_on_the_waiting_list_reads_no_registrations(postgres: None) -> None:
    """The place is the session row's own count (numbers given less those who left),
    so however long the list, the waiting list's one statement scans none of its
    registrations, in the generic plan a prepared statement comes to as well."""
    first = SessionFactory(capacity=1, waitlist_enabled=True)
    services.registration_create(session=first, attendee=person("first"))
    for n in range(6):  # read full each time: the waiting list's one statement
        session = Session.objects.select_related("event").get(pk=first.pk)
        made = services.registration_create(session=session, attendee=person(n))
        assert made.status == "waitlisted"
    ((name, types),) = [
        (name, types)
        for name, statement, types in _prepared_statements(with_types=True)
        if 'SET "waitlist_last"' in statement and statement.startswith("WITH")
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        # A generic plan does not depend on the values: none will do.
        cursor.execute(f"EXPLAIN EXECUTE {name}({', '.join(['NULL'] * len(types))})")
        plan = "\n".join(line for (line,) in cursor.fetchall())
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'events_registration'"
        )
        indexes = [name for (name,) in cursor.fetchall()]
    assert "Insert on events_registration" in plan, plan
    reads = [
        line
        for line in plan.splitlines()
        if "Scan" in line
        and ("on events_registration" in line or any(i in line for i in indexes))
    ]
    assert not reads, plan


def test_prepared_statements_can_be_turned_off_for_a_pooler(postgres: None) -> None:
    """``DATABASE_PREPARED_STATEMENTS=false``: a pooler in transaction mode that
    does not keep prepared statements (PgBouncer before 1.22, or with
    ``max_prepared_statements = 0``) needs them off."""
    import os
    import subprocess
    import sys

    def options(**env: str) -> str:
        return subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup(); from django.conf import settings; "
                "print(settings.DATABASES['default'].get('OPTIONS', {}))",
            ],
            env={
                **{
                    k: v
                    for k, v in os.environ.items()
                    if k != "DATABASE_PREPARED_STATEMENTS"
                },
                "DJANGO_SETTINGS_MODULE": "config.settings",
                **env,
            },
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    url = "postgres://podium@db.example.org:5432/podium"
    assert "'prepare_threshold': 5" in options(DATABASE_URL=url)
    assert "prepare_threshold" not in options(
        DATABASE_URL=url, DATABASE_PREPARED_STATEMENTS="false"
    )
    assert "prepare_threshold" not in options(DATABASE_URL="sqlite:///:memory:")

    from config.prepared import prepared_cursor

    kept = connection.settings_dict["OPTIONS"]
    try:
        connection.settings_dict["OPTIONS"] = {**kept, "prepare_threshold": None}
        with prepared_cursor(connection) as cursor:
            assert type(cursor.cursor).__name__ == "Cursor"  # Django's client binding
        connection.settings_dict["OPTIONS"] = {**kept, "prepare_threshold": 5}
        with prepared_cursor(connection) as cursor:
            assert type(cursor.cursor).__name__ == "ServerBindingCursor"
    finally:
        connection.settings_dict["OPTIONS"] = kept


def test_a_migration_that_retypes_a_column_the_lookup_returns_breaks_no_registration(
    api, postgres_transactional: None
) -> None:
    """PostgreSQL refuses a prepared statement whose result type changed ("cached
    plan must not change result type"), as when a migration widens a column on a
    connection that outlives it: the lookup forgets its statements and runs again."""
    session = SessionFactory(capacity=100)
    url = f"/api/v1/events/{session.event.slug}/registrations/"

    def register(n: object) -> None:
        response = api.post(
            url,
            {"session": session.pk, "full_name": "张伟", "email": f"p{n}@ex.org"},
            format="json",
        )
        assert response.status_code == 201, response.content

    for n in range(6):
        register(n)
    assert [s for _, s in _prepared_statements() if 'FROM "events_session" s' in s]

    def migrate(length: int) -> None:
        # On a connection of its own, as `manage.py migrate` would be: psycopg
        # forgets its statements when it sees an ALTER on its own connection.
        with psycopg.connect(**connection.get_connection_params()) as other:
            other.execute(
                f'ALTER TABLE "events_venue" ALTER COLUMN "name" TYPE varchar({length})'
            )

    migrate(201)
    try:
        register("-after")
        register("-after-again")
    finally:
        migrate(200)
    assert Registration.objects.filter(session=session).count() == 8


def test_one_address_sent_both_ways_at_once_neither_deadlocks_nor_registers_twice(
    postgres_transactional: None,
) -> None:
    """A registration with answers takes the steps, one without takes the one
    statement; both lock the session row before the person's row, so that the same
    address sent both ways at once (a double submit) cannot deadlock."""
    from events.errors import AlreadyRegistered
    from events.questions import question_create

    full = SessionFactory(capacity=1, waitlist_enabled=True)
    note = question_create(
        event=full.event, data={"kind": "short_text", "label_en": "Note"}
    )
    services.registration_create(session=full, attendee=person("first"))
    # Read full: those without answers go the waiting list's one statement.
    session = Session.objects.select_related("event").get(pk=full.pk)

    def register(i: int) -> str:
        try:
            return services.registration_create(
                session=session,
                attendee=person(i // 2),
                answers={str(note.pk): "素食"} if i % 2 else None,
            ).status
        except AlreadyRegistered:
            return "already registered"

    results = run_at_once(60, register)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Counter(results) == {"already registered": 30, "waitlisted": 30}
    made = Registration.objects.filter(session=session, status="waitlisted")
    assert sorted(made.values_list("waitlist_number", flat=True)) == list(range(1, 31))
    session.refresh_from_db()
    assert (session.seats_taken, session.waitlist_last) == (1, 30)
    mail = Counter(
        Notification.objects.filter(about_type="events.registration").values_list(
            "kind", flat=True
        )
    )
    assert mail == {
        "registration_confirmed": 1,
        "registration_waitlisted": 30,
        "manage_link": 30,  # the second of each pair: the link again
    }


def _went_at_once(monkeypatch) -> list[bool]:
    """Records what each one-statement attempt answered."""
    answered: list[bool] = []
    at_once = services._registration_write_at_once

    def spy(*args: Any, **kwargs: Any) -> bool:
        answered.append(at_once(*args, **kwargs))
        return answered[-1]

    monkeypatch.setattr(services, "_registration_write_at_once", spy)
    return answered


@pytest.mark.parametrize("full", [False, True], ids=["seat", "waiting list"])
def test_the_one_statement_writes_what_the_steps_write(
    postgres: None, monkeypatch, full: bool
) -> None:
    """Row for row, the one statement and the steps write the same registration,
    person and outbox row; only ids and moments differ."""
    from events.models import Attendee
    from tests.factories import VenueFactory

    made_by = SessionFactory(capacity=1, waitlist_enabled=True, venue=VenueFactory())
    if full:
        services.registration_create(session=made_by, attendee=person("first"))
    # The same ticket code both ways (the field's default, as Django keeps it).
    code = Registration._meta.get_field("code")
    monkeypatch.setattr(code, "_get_default", lambda: "PARITY7777", raising=False)
    session = Session.objects.select_related("event").get(pk=made_by.pk)
    zhang = services.AttendeeData(
        full_name="张伟",
        email="Zhang.Wei@Example.org ",
        phone="+86 574 8000 0000",
        organisation="海曙区社工站",
        language="zh-hans",
    )

    def written() -> dict[str, Any]:
        saved = transaction.savepoint()
        made = services.registration_create(session=session, attendee=zhang)
        registration = Registration.objects.filter(pk=made.pk).values().get()
        attendee = Attendee.objects.filter(pk=made.attendee_id).values().get()
        mail = Notification.objects.filter(about_id=str(made.pk)).values().get()
        transaction.savepoint_rollback(saved)
        assert mail["dedupe_key"] == f"{mail['kind']}:{made.pk}"
        assert registration["attendee_id"] == attendee["id"]
        for row, moments in (
            (registration, ["id", "attendee_id", "created_at"]),
            (attendee, ["id", "created_at", "updated_at"]),
            (mail, ["id", "about_id", "dedupe_key", "created_at", "send_after"]),
        ):
            for name in moments:
                row.pop(name)
        for attachment in mail["attachments"]:
            attachment.get("calendar", {}).pop("stamp", None)
        return {
            "registration": registration,
            "attendee": attendee,
            "mail": mail,
            "position": made.waitlist_position,
        }

    answered = _went_at_once(monkeypatch)
    at_once = written()
    assert answered == [True]
    monkeypatch.setattr(services, "_registration_write_at_once", lambda *a, **k: False)
    in_steps = written()

    assert at_once == in_steps
    assert at_once["registration"]["status"] == ("waitlisted" if full else "confirmed")
    assert at_once["position"] == (1 if full else None)
    assert at_once["mail"]["context"].get("position") == (1 if full else None)


def test_the_one_statement_also_binds_on_the_client_for_a_pooler(
    postgres: None, monkeypatch
) -> None:
    """With prepared statements off (``DATABASE_PREPARED_STATEMENTS=false``), psycopg
    writes the values into the statement's text: the same rows come of it."""
    monkeypatch.setitem(
        connection.settings_dict,
        "OPTIONS",
        {**connection.settings_dict["OPTIONS"], "prepare_threshold": None},
    )
    answered = _went_at_once(monkeypatch)
    session = SessionFactory(capacity=1, waitlist_enabled=True)
    with CaptureQueriesContext(connection) as queries:
        seated = services.registration_create(session=session, attendee=person("A"))
    (write,) = [q["sql"] for q in queries.captured_queries if "WITH" in q["sql"]]
    assert "'pA@example.org'" in write  # composed on the client
    full = Session.objects.select_related("event").get(pk=session.pk)
    waiting = services.registration_create(session=full, attendee=person("B"))

    assert answered == [True, True]
    assert (seated.status, waiting.status) == ("confirmed", "waitlisted")
    assert (waiting.waitlist_number, waiting.waitlist_position) == (1, 1)
    mail = Notification.objects.get(dedupe_key=f"registration_waitlisted:{waiting.pk}")
    assert (mail.about_id, mail.context["position"]) == (str(waiting.pk), 1)
    assert Registration.objects.get(pk=seated.pk).attendee.email == "pa@example.org"


def test_a_place_given_while_someone_ahead_leaves_counts_them_gone(
    postgres_transactional: None,
) -> None:
    """A joiner that waits for the session row while someone ahead on the list
    cancels must be told the place it holds once that one is gone: the count of
    leavers is read from the locked row, not from the moment the statement began."""
    import threading
    import time

    session = SessionFactory(capacity=1, waitlist_enabled=True)
    services.registration_create(session=session, attendee=person("seated"))
    ahead = [
        services.registration_create(session=session, attendee=person(n))
        for n in range(3)
    ]
    assert [r.waitlist_position for r in ahead] == [1, 2, 3]
    full = Session.objects.select_related("event").get(pk=session.pk)
    holding, release = threading.Event(), threading.Event()
    joined: list[Registration] = []

    def leave() -> None:  # the cancellation, held open while the joiner queues
        try:
            with transaction.atomic():
                Session.objects.select_for_update().get(pk=session.pk)
                holding.set()
                release.wait(30)
                services.registration_cancel(code=ahead[0].code, token=ahead[0].token)
        finally:
            connection.close()

    def join() -> None:
        try:
            joined.append(
                services.registration_create(session=full, attendee=person("new"))
            )
        finally:
            connection.close()

    leaver = threading.Thread(target=leave)
    leaver.start()
    assert holding.wait(30)
    joiner = threading.Thread(target=join)
    joiner.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until the joiner waits for the row lock
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                break
        time.sleep(0.02)
    else:
        raise AssertionError("the joiner never waited for the session row")
    release.set()
    leaver.join(30)
    joiner.join(30)

    (made,) = joined
    assert made.waitlist_number == 4
    assert made.waitlist_position == 3  # numbers 2, 3 and 4 wait
    assert made.waitlist_position == registration_waitlist_position(
        Registration.objects.get(pk=made.pk)
    )
    mail = Notification.objects.get(dedupe_key=f"registration_waitlisted:{made.pk}")
    assert mail.context["position"] == 3


def test_a_session_cancelled_counts_its_waiting_list_gone(postgres: None) -> None:
    session = SessionFactory(capacity=1, waitlist_enabled=True)
    for n in range(4):
        fresh = Session.objects.select_related("event").get(pk=session.pk)
        services.registration_create(session=fresh, attendee=person(n))
    services.session_cancel(session=Session.objects.get(pk=session.pk))
    session.refresh_from_db()
    assert (session.waitlist_last, session.waitlist_left) == (3, 3)


def test_the_migration_counts_those_who_already_left(
    postgres_transactional: None,
) -> None:
    """Sessions existing before the count get it from their registrations."""
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        ("events", "0009_registration_event"),
        ("events", "0010_session_waitlist_left"),
    )
    session = SessionFactory(capacity=1, waitlist_enabled=True)
    made = []
    for n in range(5):
        fresh = Session.objects.select_related("event").get(pk=session.pk)
        made.append(services.registration_create(session=fresh, attendee=person(n)))
    services.registration_cancel(code=made[0].code, token=made[0].token)  # promotes 1
    services.registration_cancel(code=made[3].code, token=made[3].token)
    session.refresh_from_db()
    assert session.waitlist_left == 2  # the one promoted, the one cancelled
    other = SessionFactory(capacity=5)  # nobody ever waited

    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        executor.loader.build_graph()
        executor.migrate([after])
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    session.refresh_from_db()
    other.refresh_from_db()
    assert (session.waitlist_left, other.waitlist_left) == (2, 0)


def test_an_erasure_leaves_a_registration_made_while_it_runs_for_later(
    postgres_transactional: None, monkeypatch
) -> None:
    """Erasure locks the sessions of the person's places before their registrations,
    as every writer does; a registration the person makes between the two (its own
    session unlocked) is not this erasure's: locking it there and its session after
    could deadlock with a cancellation on that session."""
    import threading

    first = SessionFactory(capacity=1, waitlist_enabled=True)
    second = SessionFactory(event=first.event, capacity=1, waitlist_enabled=True)
    for session in (first, second):
        services.registration_create(session=session, attendee=person("seated"))
    waiting = services.registration_create(
        session=Session.objects.select_related("event").get(pk=first.pk),
        attendee=person("li"),
    )
    assert waiting.status == "waitlisted"
    made: list[Registration] = []
    lock = Session.objects.select_for_update

    def meanwhile(*args: Any, **kwargs: Any) -> Any:
        def register() -> None:
            try:
                made.append(
                    services.registration_create(
                        session=Session.objects.select_related("event").get(
                            pk=second.pk
                        ),
                        attendee=person("li"),
                    )
                )
            finally:
                connection.close()

        if not made:
            thread = threading.Thread(target=register)
            thread.start()
            thread.join(30)
        return lock(*args, **kwargs)

    monkeypatch.setattr(Session.objects, "select_for_update", meanwhile)
    erasure = services.person_erase(
        event=first.event, email="pli@example.org", actor=None
    )

    assert erasure is not None and erasure.registrations == 1
    (later,) = made
    later = Registration.objects.get(pk=later.pk)
    assert (later.status, later.erased_at, later.email) == (
        "waitlisted",
        None,
        "pli@example.org",
    )
    erased = Registration.objects.get(pk=waiting.pk)
    assert erased.status == "cancelled" and erased.erased_at is not None
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.waitlist_left, second.waitlist_left) == (1, 0)
