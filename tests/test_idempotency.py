"""Registration retries with an ``Idempotency-Key`` (events.idempotency, API.md)."""

import datetime as dt
import shutil
import threading

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.celery import app as celery_app
from events import tasks
from events.models import IdempotencyKey, Registration
from notifications.models import Notification

from .conftest import require
from .factories import EventFactory, SessionFactory, UserFactory
from .processes import CeleryProcess, RedisServer, service_environment, wait_for

PROBLEM = "application/problem+json"
KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"


@pytest.fixture
def event(db):
    return EventFactory(slug="week")


@pytest.fixture
def session(event):
    return SessionFactory(event=event, capacity=2)


def body_for(session, email: str = "chen@example.org", **extra) -> dict:
    return {"session": session.pk, "full_name": "陈佳萌", "email": email, **extra}


def post(api: APIClient, event, body: dict, key: str | None = KEY, **headers):
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return api.post(
        f"/api/v1/events/{event.slug}/registrations/", body, format="json", **headers
    )


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    return body


def assert_same_answer(first, again) -> None:
    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert again["Idempotent-Replayed"] == "true"


def test_a_retry_gets_the_first_answer_and_registers_once(api, event, session) -> None:
    first = post(api, event, body_for(session))
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first

    again = post(api, event, body_for(session))

    assert_same_answer(first, again)
    assert again["Idempotent-Replayed"] == "true"
    registration = Registration.objects.get()
    assert again.json()["code"] == registration.code
    assert again.json()["token"] == registration.token
    assert Notification.objects.filter(kind="registration_confirmed").count() == 1
    assert Notification.objects.count() == 1


def test_a_retry_of_a_full_session_gets_the_same_409_though_a_seat_came_free(
    api, event
) -> None:
    session = SessionFactory(event=event, capacity=1, waitlist_enabled=False)
    seated = post(api, event, body_for(session, "first@example.org"), key=None).json()
    first = post(api, event, body_for(session))
    assert_problem(first, 409, "session_full")
    api.post(f"/api/v1/registrations/{seated['code']}/cancel/?token={seated['token']}")

    again = post(api, event, body_for(session))

    assert_same_answer(first, again)
    assert not Registration.objects.filter(email="chen@example.org").exists()
    # Without the key, the same request is a new one and takes the free seat.
    assert post(api, event, body_for(session), key=None).status_code == 201


def test_a_retry_of_already_registered_gets_the_same_409_and_no_second_email(
    api, event, session
) -> None:
    post(api, event, body_for(session), key=None)
    first = post(api, event, body_for(session))
    assert_problem(first, 409, "already_registered")
    assert Notification.objects.filter(kind="manage_link").count() == 1

    again = post(api, event, body_for(session))

    assert_same_answer(first, again)
    assert Notification.objects.filter(kind="manage_link").count() == 1
    assert Registration.objects.count() == 1


def test_a_retry_of_invalid_input_gets_the_same_400(api, event, session) -> None:
    first = post(api, event, body_for(session, email="not an address"))
    assert_problem(first, 400, "invalid")
    assert_same_answer(
        first, post(api, event, body_for(session, email="not an address"))
    )
    assert not Registration.objects.exists()


def test_the_same_key_with_another_body_is_422_and_changes_nothing(
    api, event, session
) -> None:
    first = post(api, event, body_for(session))
    assert first.status_code == 201

    other = post(api, event, body_for(session, "someone.else@example.org"))

    problem = assert_problem(other, 422, "idempotency_key_reused")
    assert problem["title"] and problem["detail"]
    assert list(Registration.objects.values_list("email", flat=True)) == [
        "chen@example.org"
    ]
    assert Notification.objects.count() == 1
    # The key still answers its own request.
    assert_same_answer(first, post(api, event, body_for(session)))


def test_the_body_is_compared_as_json_not_as_bytes(api, event, session) -> None:
    first = api.post(
        f"/api/v1/events/{event.slug}/registrations/",
        f'{{"session": {session.pk}, "email": "chen@example.org", "full_name": "Chen"}}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=KEY,
    )
    again = api.post(
        f"/api/v1/events/{event.slug}/registrations/",
        f'{{"full_name":"Chen","email":"chen@example.org","session":{session.pk}}}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=KEY,
    )
    assert first.status_code == 201
    assert_same_answer(first, again)
    assert Registration.objects.count() == 1


def test_a_lone_surrogate_in_the_body_is_a_field_error_kept_like_others(
    api, event, session
) -> None:
    body = (
        f'{{"session": {session.pk}, "full_name": "\\ud800", '
        '"email": "chen@example.org"}'
    )

    def send():
        return api.post(
            f"/api/v1/events/{event.slug}/registrations/",
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=KEY,
        )

    first = send()
    assert_problem(first, 400, "invalid")
    assert_same_answer(first, send())


@pytest.mark.parametrize(
    ("first_key", "second_key"),
    [
        (f'"{KEY}"', KEY),
        (KEY, f'"{KEY}"'),
        ('"a\\"b\\\\c"', 'a"b\\c'),
        ("  padded  ", '"padded"'),
    ],
)
def test_a_quoted_key_and_the_bare_key_are_one_key(
    api, event, session, first_key, second_key
) -> None:
    first = post(api, event, body_for(session), key=first_key)
    again = post(api, event, body_for(session), key=second_key)
    assert first.status_code == 201
    assert_same_answer(first, again)
    assert again["Idempotent-Replayed"] == "true"
    assert Registration.objects.count() == 1


@pytest.mark.parametrize(
    "key",
    [
        "",
        '""',
        "   ",
        '"   "',
        "k" * 256,
        '"' + "k" * 256 + '"',
        '"unterminated',
        '"quoted" then more',
        '"bad \\n escape"',
        "tab\tinside",
        "line\x01control",
        "caf\xe9",  # what WSGI hands over for a UTF-8 or Latin-1 byte
    ],
)
def test_a_bad_key_is_invalid_and_nothing_is_done(api, event, session, key) -> None:
    response = post(api, event, body_for(session), key=key)
    problem = assert_problem(response, 400, "invalid")
    assert list(problem["errors"]) == ["Idempotency-Key"]
    assert not Registration.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_a_key_of_255_printable_characters_is_taken(api, event, session) -> None:
    key = "~ !" + "k" * 252
    assert post(api, event, body_for(session), key=key).status_code == 201
    assert IdempotencyKey.objects.get().key == key


def test_a_key_older_than_a_day_is_a_new_key(api, event, session) -> None:
    first = post(api, event, body_for(session))
    assert first.status_code == 201
    IdempotencyKey.objects.update(
        created_at=timezone.now() - dt.timedelta(hours=24, seconds=1)
    )

    again = post(api, event, body_for(session))

    # Done again, not replayed: the person is registered already.
    assert_problem(again, 409, "already_registered")
    assert "Idempotent-Replayed" not in again
    row = IdempotencyKey.objects.get()
    assert row.response_status == 409
    assert row.created_at > timezone.now() - dt.timedelta(minutes=1)
    # And from now on that is what the key answers.
    assert_same_answer(again, post(api, event, body_for(session)))


def test_an_expired_key_may_carry_another_body(api, event, session) -> None:
    assert post(api, event, body_for(session)).status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(days=2))
    other = post(api, event, body_for(session, "new@example.org"))
    assert other.status_code == 201
    assert Registration.objects.count() == 2


def test_the_beat_task_deletes_keys_older_than_a_day(db) -> None:
    now = timezone.now()
    for name, age in [("old", 25), ("day", 24), ("fresh", 23)]:
        IdempotencyKey.objects.create(
            scope="registrations:week",
            key=name,
            fingerprint="0" * 64,
            response_status=201,
            created_at=now - dt.timedelta(hours=age),
        )

    assert tasks.idempotency_keys_delete_expired.apply().get() == 2

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]


@pytest.mark.slow
def test_a_worker_runs_the_cleanup_task_from_the_broker(postgres_transactional) -> None:
    """The task as beat sends it: through Redis to a real ``celery worker``."""
    require(shutil.which("redis-server") is not None, "redis-server")
    IdempotencyKey.objects.create(
        scope="registrations:week",
        key="old",
        fingerprint="0" * 64,
        created_at=timezone.now() - dt.timedelta(days=2),
    )
    db = connection.settings_dict
    redis = RedisServer().start()
    worker = CeleryProcess(
        "worker",
        service_environment(
            database_url=(
                f"postgres://{db['USER'] or 'root'}@{db['HOST'] or '127.0.0.1'}"
                f":{db['PORT'] or 5432}/{db['NAME']}"
            ),
            broker_url=redis.url,
            email_url="smtp://127.0.0.1:1",
        ),
    )
    try:
        worker.start()
        with celery_app.connection_for_write(redis.url) as broker:
            tasks.idempotency_keys_delete_expired.apply_async(connection=broker)
        wait_for(
            lambda: not IdempotencyKey.objects.exists(),
            timeout=60,
            what="the worker to delete the expired key",
        )
    finally:
        worker.stop()
        redis.stop()
    assert "idempotency_keys_delete_expired" in worker.output()


def test_beat_runs_the_cleanup_task_hourly() -> None:
    entry = django_settings.CELERY_BEAT_SCHEDULE["delete-expired-idempotency-keys"]
    celery_app.loader.import_default_modules()
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"] == 3600


def test_a_request_without_a_key_keeps_nothing(api, event, session) -> None:
    assert post(api, event, body_for(session), key=None).status_code == 201
    assert not IdempotencyKey.objects.exists()


def test_keys_are_separate_per_event_and_per_signed_in_user(
    api, event, session
) -> None:
    other_event = EventFactory()
    other_session = SessionFactory(event=other_event)
    assert post(api, event, body_for(session)).status_code == 201
    assert post(api, other_event, body_for(other_session)).status_code == 201

    user = UserFactory()
    signed_in = APIClient()
    signed_in.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}"
    )
    # The same key and body from a signed-in user is that user's own request.
    answer = post(signed_in, event, body_for(session))
    assert_problem(answer, 409, "already_registered")
    assert IdempotencyKey.objects.count() == 3


def test_a_retry_with_an_answer_costs_no_attempt_of_the_rate_limit(
    api, event, session, settings
) -> None:
    settings.REGISTRATION_RATE_LIMIT = "2/min"
    first = post(api, event, body_for(session))
    for _ in range(3):
        assert_same_answer(first, post(api, event, body_for(session)))
    assert_problem(
        post(api, event, body_for(session, "x@example.org")),
        422,
        "idempotency_key_reused",
    )
    assert (
        post(api, event, body_for(session, "b@example.org"), key="b").status_code == 201
    )

    # A new key is a new registration attempt, and the limit holds.
    throttled = post(api, event, body_for(session, "c@example.org"), key="c")

    assert_problem(throttled, 429, "throttled")
    assert Registration.objects.count() == 2
    # Nothing was kept for the refused attempt: it may be retried once allowed.
    assert not IdempotencyKey.objects.filter(key="c").exists()


def test_the_schema_documents_the_header_and_the_422(api, db) -> None:
    schema = api.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/events/{slug}/registrations/"]["post"]
    (header,) = [p for p in operation["parameters"] if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key"
    assert not header.get("required", False)
    assert "422" in operation["responses"]
    assert PROBLEM in operation["responses"]["422"]["content"]


THREADS = 20


def test_twenty_threads_with_one_key_register_once_and_get_one_answer(
    postgres_transactional, live_server, settings
) -> None:
    """Retries racing the first request wait for it, then replay its answer."""
    settings.REGISTRATION_RATE_LIMIT = "1000/min"
    event = EventFactory()
    session = SessionFactory(event=event, capacity=5)
    url = f"{live_server.url}/api/v1/events/{event.slug}/registrations/"
    barrier = threading.Barrier(THREADS)
    answers: list[object] = [None] * THREADS

    def send(i: int) -> None:
        try:
            barrier.wait()
            response = requests.post(
                url,
                json=body_for(session),
                headers={"Idempotency-Key": f'"{KEY}"' if i % 2 else KEY},
                timeout=60,
            )
            answers[i] = (
                response.status_code,
                response.headers["Content-Type"],
                response.content,
            )
        except Exception as exc:
            answers[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    assert not [a for a in answers if isinstance(a, Exception) or a is None], answers
    assert len(set(answers)) == 1
    status_code, content_type, _ = answers[0]  # type: ignore[misc]
    assert status_code == 201
    assert content_type.startswith("application/json")
    registration = Registration.objects.get()
    assert registration.status == "confirmed"
    session.refresh_from_db()
    assert session.seats_taken == 1
    assert IdempotencyKey.objects.count() == 1
    assert Notification.objects.filter(kind="registration_confirmed").count() == 1
