"""Email end to end: real Redis, a real celery worker and beat, a real SMTP server.

Each test ends with every recipient holding exactly the mail they should. The faults
(Redis restarted or down, PostgreSQL restarted, a worker killed) are in test_faults.
"""

import datetime as dt
import os
import shutil
import time

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from icalendar import Calendar

from events import services
from events.models import Registration
from notifications.models import Notification

from .conftest import require
from .factories import EventFactory, SessionFactory
from .mailsink import MailSink
from .processes import CeleryProcess, RedisServer, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def redis_server():
    require(
        shutil.which("redis-server") is not None
        or os.path.exists("/usr/bin/redis-server"),
        "redis-server",
    )
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def sink():
    server = MailSink().start()
    yield server
    server.stop()


@pytest.fixture
def worker_env(postgres_transactional, redis_server, sink) -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER'] or 'root'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CELERY_", "NOTIFICATIONS_"))
    }
    env.update(
        DATABASE_URL=url,
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        CELERY_BROKER_URL=redis_server.url,
        EMAIL_URL=sink.url,
        NOTIFICATIONS_DISPATCH_INTERVAL="1",
        NOTIFICATIONS_REQUEUE_AFTER="3",
        NOTIFICATIONS_STALE_AFTER="6",
        NOTIFICATIONS_RETRY_BASE="1",
        NOTIFICATIONS_MAX_ATTEMPTS="30",
        NOTIFICATIONS_BATCH_SIZE="20",
        DATABASE_CONN_MAX_AGE="0",
    )
    return env


@pytest.fixture
def celery(worker_env):
    """Starts worker and beat on demand; stops them before the database is flushed."""
    started: dict[str, CeleryProcess] = {}

    def start(kind: str = "both") -> dict[str, CeleryProcess]:
        for name in ("worker", "beat") if kind == "both" else (kind,):
            started[name] = CeleryProcess(name, worker_env).start()
        return started

    yield start
    for process in started.values():
        process.stop()


def register(session, email: str, language: str = "zh-hans") -> Registration:
    return services.registration_create(
        session=session,
        attendee=services.AttendeeData(
            full_name="陈佳萌", email=email, language=language
        ),
    )


def subjects(sink: MailSink, address: str) -> list[str]:
    return [str(m["Subject"]) for m in sink.to(address)]


def test_confirmation_reaches_the_sink_once(celery, sink) -> None:
    session = SessionFactory(
        event=EventFactory(title="宁波社会工作宣传周"), title="授牌仪式"
    )
    celery()
    registration = register(session, "chen@example.org")
    wait_for(lambda: sink.to("chen@example.org"), timeout=30, what="the confirmation")
    time.sleep(2)
    (message,) = sink.to("chen@example.org")
    assert message["Subject"] == "报名成功：授牌仪式"
    calendar = next(
        p for p in message.walk() if p.get_content_type() == "text/calendar"
    )
    vevent = Calendar.from_ical(calendar.get_payload(decode=True)).walk("VEVENT")[0]
    assert str(vevent["UID"]).endswith(f"registration-{registration.code}@podium")
    row = Notification.objects.get(kind="registration_confirmed")
    assert row.status == "sent" and message["Message-ID"] == row.message_id


def _due_soon(event, *, minutes: int = 4, **extra):
    return SessionFactory(
        event=event, starts_at=timezone.now() + dt.timedelta(minutes=minutes), **extra
    )


def _registered_earlier(session, email: str) -> Registration:
    registration = register(session, email, language="en")
    Registration.objects.filter(pk=registration.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=1)
    )
    return registration


def test_reminders_follow_the_session(celery, sink) -> None:
    event = EventFactory(reminder_offsets=[5])
    control = _due_soon(event, title="Control")
    moved = _due_soon(event, title="Moved")
    cancelled = _due_soon(event, title="Cancelled")
    _registered_earlier(control, "control@example.org")
    _registered_earlier(moved, "moved@example.org")
    _registered_earlier(cancelled, "cancelled@example.org")
    later = timezone.now() + dt.timedelta(hours=3)
    services.session_update(
        session=moved,
        data={"starts_at": later, "ends_at": later + dt.timedelta(hours=1)},
    )
    services.session_cancel(session=cancelled)

    celery()
    wait_for(
        lambda: "Reminder: Control" in subjects(sink, "control@example.org"),
        timeout=30,
        what="the reminder",
    )
    wait_for(
        lambda: any(
            s.startswith("Session cancelled")
            for s in subjects(sink, "cancelled@example.org")
        ),
        timeout=30,
        what="the cancellation",
    )
    time.sleep(3)
    assert subjects(sink, "control@example.org").count("Reminder: Control") == 1
    assert not any(
        s.startswith("Reminder") for s in subjects(sink, "moved@example.org")
    )
    assert not any(
        s.startswith("Reminder") for s in subjects(sink, "cancelled@example.org")
    )

    # Moved back within the reminder's reach, it comes at the new time, once.
    soon = timezone.now() + dt.timedelta(minutes=3)
    services.session_update(
        session=moved, data={"starts_at": soon, "ends_at": soon + dt.timedelta(hours=1)}
    )
    wait_for(
        lambda: "Reminder: Moved" in subjects(sink, "moved@example.org"),
        timeout=30,
        what="the moved reminder",
    )
    time.sleep(3)
    assert subjects(sink, "moved@example.org").count("Reminder: Moved") == 1
    reminder = next(
        m for m in sink.to("moved@example.org") if m["Subject"] == "Reminder: Moved"
    )
    assert reminder["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_smtp_down_then_up_is_retried_and_delivered(celery, sink) -> None:
    session = SessionFactory(capacity=None)
    celery()
    sink.stop()
    addresses = [f"person{n}@example.org" for n in range(5)]
    for address in addresses:
        register(session, address, language="en")
    wait_for(
        lambda: (
            Notification.objects.filter(attempts__gte=1, status="pending").count() == 5
        ),
        timeout=30,
        what="failed attempts",
    )
    assert all(row.last_error for row in Notification.objects.all())
    sink.start()
    wait_for(
        lambda: all(sink.to(a) for a in addresses),
        timeout=90,
        what="every confirmation",
    )
    time.sleep(3)
    assert {a: len(sink.to(a)) for a in addresses} == dict.fromkeys(addresses, 1)
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
