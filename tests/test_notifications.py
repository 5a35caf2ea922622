"""The outbox: rows written with their cause, rendering, dispatch, delivery, reminders."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from events import services
from events.errors import AlreadyRegistered, SessionFull
from events.notices import reminders_plan
from notifications.delivery import render_message
from notifications.models import Notification, Unsubscription
from notifications.services import (
    notifications_deliver,
    notifications_dispatch,
    unsubscribe_token,
)

from .factories import EventFactory, SessionFactory
from .mailsink import MailSink, free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _locmem_mail(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def register(session, email="chen@example.org", name="陈佳萌", language="zh-hans"):
    return services.registration_create(
        session=session,
        attendee=services.AttendeeData(full_name=name, email=email, language=language),
    )


def deliver_all() -> None:
    ids = list(
        Notification.objects.filter(status="pending").values_list("pk", flat=True)
    )
    notifications_deliver(ids=ids)


@pytest.fixture
def session():
    event = EventFactory(title="宁波社会工作宣传周", timezone="Asia/Shanghai")
    starts = timezone.now().replace(microsecond=0) + dt.timedelta(days=3)
    return SessionFactory(event=event, title="授牌仪式", capacity=1, starts_at=starts)


def test_registration_writes_its_confirmation_in_the_same_transaction(session) -> None:
    registration = register(session)
    row = Notification.objects.get()
    assert row.kind == "registration_confirmed"
    assert row.dedupe_key == f"registration_confirmed:{registration.pk}"
    assert row.recipient == "chen@example.org" and row.language == "zh-hans"
    assert row.status == "pending" and row.scope == f"event:{session.event_id}"
    assert row.context["code"] == registration.code
    assert {a["filename"] for a in row.attachments} == {
        "invite.ics",
        f"ticket-{registration.code}.png",
    }


def test_a_refused_registration_writes_no_email(session) -> None:
    session.capacity = 0
    session.waitlist_enabled = False
    session.save()
    with pytest.raises(SessionFull):
        register(session)
    assert not Notification.objects.exists()


def test_confirmation_renders_in_chinese_with_local_time_and_calendar(session) -> None:
    registration = register(session)
    message = render_message(Notification.objects.get())
    assert message.subject == "报名成功：授牌仪式"
    local = session.starts_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert f"{local.hour}:{local.minute:02d}" in message.body
    # The zone as a Chinese reader says it, not its identifier.
    assert "北京时间" in message.body and "Asia/Shanghai" not in message.body
    assert registration.code in message.body and registration.manage_url in message.body
    ics = next(
        a
        for a in message.attachments
        if getattr(a, "get_filename", lambda: None)() == "invite.ics"
        or (isinstance(a, tuple) and a[0] == "invite.ics")
    )
    content = ics[1] if isinstance(ics, tuple) else ics.get_payload(decode=True)
    vevent = Calendar.from_ical(content).walk("VEVENT")[0]
    assert (
        str(vevent["UID"])
        == f"session-{session.pk}-registration-{registration.code}@podium"
    )
    assert vevent.decoded("DTSTART") == session.starts_at


def test_waitlisted_notice_tells_the_position(session) -> None:
    register(session, "a@example.org", language="en")
    register(session, "b@example.org", language="en")
    row = Notification.objects.get(kind="registration_waitlisted")
    message = render_message(row)
    assert row.context["position"] == 1
    assert "number 1 in line" in message.body


def test_names_are_escaped_in_html_and_plain_in_text(session) -> None:
    register(session, name="<script>alert(1)</script>", language="en")
    message = render_message(Notification.objects.get())
    html = message.alternatives[0][0]
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Dear <script>alert(1)</script>," in message.body


def test_no_header_injection_from_titles(session) -> None:
    session.title = "Talk\r\nBcc: victim@example.org"
    session.save()
    register(session, language="en")
    message = render_message(Notification.objects.get()).message()
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"]


def test_delivery_sends_once_and_marks_sent(session) -> None:
    register(session)
    row = Notification.objects.get()
    notifications_deliver(ids=[row.pk])
    notifications_deliver(ids=[row.pk])
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.status == "sent" and row.sent_at and row.attempts == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == row.message_id


def test_message_id_is_stable(session) -> None:
    register(session)
    row = Notification.objects.get()
    assert (
        render_message(row).extra_headers["Message-ID"]
        == render_message(row).extra_headers["Message-ID"]
    )


def test_dispatch_claims_due_rows_once_until_the_requeue_delay(
    session, settings
) -> None:
    settings.NOTIFICATIONS_REQUEUE_AFTER = 60
    register(session)
    queued: list[list[int]] = []
    now = timezone.now()
    notifications_dispatch(now=now, queue=queued.append)
    notifications_dispatch(now=now + dt.timedelta(seconds=5), queue=queued.append)
    assert len(queued) == 1
    notifications_dispatch(now=now + dt.timedelta(seconds=61), queue=queued.append)
    assert len(queued) == 2, "a task message lost with Redis is queued again"
    assert queued[0] == queued[1]


def test_dispatch_recovers_rows_left_sending(session, settings) -> None:
    settings.NOTIFICATIONS_STALE_AFTER = 600
    register(session)
    Notification.objects.update(
        status="sending", claimed_at=timezone.now() - dt.timedelta(minutes=11)
    )
    queued: list[list[int]] = []
    notifications_dispatch(queue=queued.append)
    assert Notification.objects.get().status == "pending"
    assert len(queued) == 1


@pytest.fixture
def sink(settings):
    server = MailSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    yield server
    server.stop()


def test_temporary_failure_is_retried_with_backoff(session, sink, settings) -> None:
    settings.NOTIFICATIONS_RETRY_BASE = 30
    register(session, "busy@example.org")
    row = Notification.objects.get()
    before = timezone.now()
    notifications_deliver(ids=[row.pk])
    row.refresh_from_db()
    assert row.status == "pending" and row.attempts == 1
    assert "451" in row.last_error
    assert row.send_after >= before + dt.timedelta(seconds=29)


def test_permanent_failure_is_marked_failed(session, sink) -> None:
    register(session, "bounce@example.org")
    row = Notification.objects.get()
    notifications_deliver(ids=[row.pk])
    row.refresh_from_db()
    assert row.status == "failed" and "550" in row.last_error


def test_server_down_returns_the_batch_for_retry(session, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1
    register(session)
    row = Notification.objects.get()
    notifications_deliver(ids=[row.pk])
    row.refresh_from_db()
    assert row.status == "pending" and row.attempts == 1 and row.last_error


def test_delivery_reaches_a_real_smtp_server_with_chinese_subject(
    session, sink
) -> None:
    register(session)
    deliver_all()
    (message,) = sink.to("chen@example.org")
    assert message["Subject"] == "报名成功：授牌仪式"
    parts = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html", "text/calendar", "image/png"} <= parts


# Reminders


@pytest.fixture
def soon():
    """A session an hour and a half from now whose event reminds 2 hours and 1 day before."""
    event = EventFactory(reminder_offsets=[1440, 120])
    return SessionFactory(
        event=event, capacity=10, starts_at=timezone.now() + dt.timedelta(minutes=90)
    )


def backdate(registration, minutes: int) -> None:
    type(registration).objects.filter(pk=registration.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=minutes)
    )


def reminders():
    return Notification.objects.filter(kind="session_reminder").order_by("dedupe_key")


def test_due_reminder_is_planned_once(soon) -> None:
    registration = register(soon, language="en")
    backdate(registration, 60 * 30)
    reminders_plan()
    reminders_plan()
    statuses = {r.dedupe_key.split(":")[1]: r.status for r in reminders()}
    assert statuses == {"120": "pending", "1440": "skipped"}, (
        "the day-before reminder is superseded"
    )
    row = reminders().get(status="pending")
    message = render_message(row)
    assert (
        message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    )
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")


def test_registering_after_the_moment_gets_no_reminder_for_it(soon) -> None:
    register(soon)
    reminders_plan()
    assert not reminders().exists()


def test_reminder_for_a_started_session_is_recorded_skipped(soon) -> None:
    registration = register(soon)
    backdate(registration, 60 * 30)
    soon.starts_at = timezone.now() - dt.timedelta(minutes=5)
    soon.ends_at = soon.starts_at + dt.timedelta(hours=2)
    soon.save()
    reminders_plan()
    assert set(reminders().values_list("status", flat=True)) == {"skipped"}


def test_time_change_moves_the_reminder(soon) -> None:
    registration = register(soon)
    backdate(registration, 60 * 30)
    reminders_plan()
    later = soon.starts_at + dt.timedelta(days=2)
    services.session_update(
        session=soon,
        data={"starts_at": later, "ends_at": later + dt.timedelta(hours=1)},
    )
    assert set(reminders().values_list("status", flat=True)) == {"cancelled", "skipped"}
    reminders_plan()
    assert reminders().filter(status="pending").count() == 0, (
        "not due yet at the new time"
    )
    changed = Notification.objects.get(kind="session_changed")
    ics = next(a for a in changed.attachments if a["filename"] == "invite.ics")
    assert Calendar.from_ical(ics["content"]).walk("VEVENT")[0]["SEQUENCE"] == 1


def test_cancellation_stops_reminders(soon) -> None:
    registration = register(soon)
    backdate(registration, 60 * 30)
    reminders_plan()
    services.session_cancel(session=soon)
    assert not reminders().filter(status="pending").exists()
    cancel = Notification.objects.get(kind="session_cancelled")
    ics = Calendar.from_ical(
        next(a for a in cancel.attachments if a["filename"] == "invite.ics")["content"]
    )
    assert ics["METHOD"] == "CANCEL"


def test_unsubscribed_address_gets_no_reminders_but_confirmations(soon, client) -> None:
    registration = register(soon, "Chen@Example.org")
    backdate(registration, 60 * 30)
    token = unsubscribe_token("chen@example.org")
    page = client.get(f"/unsubscribe/{token}/")
    assert page.status_code == 200 and not Unsubscription.objects.exists()
    response = client.post(f"/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert Unsubscription.objects.filter(email="chen@example.org").exists()
    reminders_plan()
    assert set(reminders().values_list("status", flat=True)) == {"skipped"}
    assert Notification.objects.get(kind="registration_confirmed").status == "pending"


def test_unsubscribe_with_a_forged_token_is_not_found(client) -> None:
    assert client.post("/unsubscribe/forged-token/").status_code == 404
    assert not Unsubscription.objects.exists()


def test_manage_link_is_mailed_again_on_a_duplicate(session) -> None:
    register(session, "chen@example.org")
    with pytest.raises(AlreadyRegistered):
        register(session, "CHEN@example.org")
    assert Notification.objects.filter(kind="manage_link").count() == 1


def test_cancel_and_promotion_notices(session) -> None:
    first = register(session, "a@example.org")
    register(session, "b@example.org")
    services.registration_cancel(code=first.code, token=first.token)
    kinds = sorted(Notification.objects.values_list("kind", flat=True))
    assert kinds == [
        "registration_cancelled",
        "registration_confirmed",
        "registration_promoted",
        "registration_waitlisted",
    ]
    assert (
        Notification.objects.get(kind="registration_promoted").recipient
        == "b@example.org"
    )


@pytest.fixture
def redis_down(settings):
    """The cache (rate limits, the dispatch kick) on a Redis that does not answer."""
    import notifications.services

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    notifications.services._broker_down_until = 0.0
    yield
    notifications.services._broker_down_until = 0.0


def test_registration_answers_201_after_its_commit_while_redis_is_down(
    session, redis_down, settings, api, django_capture_on_commit_callbacks, caplog
) -> None:
    """Issue 9: with Redis down, registrations answered 500 after they had committed
    (the dispatcher kick read the cache outside its try), or 500 before (the rate
    limiter). Now the limiter fails open with a warning, the kick gives up with a
    warning, and the registration answers 201 with its email queued."""
    settings.REGISTRATION_RATE_LIMIT = "20/min"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post(
            f"/api/v1/events/{session.event.slug}/registrations/",
            {"session": session.pk, "full_name": "Chen", "email": "chen@example.org"},
            format="json",
        )
    assert response.status_code == 201, response.content
    assert callbacks, "the commit asked for a dispatch"
    row = Notification.objects.get()
    assert row.recipient == "chen@example.org" and row.status == "pending"
    assert "Registration rate limit not applied" in caplog.text
    assert "Could not ask for a dispatch" in caplog.text


def _untimed(text: str) -> str:
    """The unsubscribe token signs the second it was made: two renderings may differ."""
    import re

    return re.sub(r"/unsubscribe/[^/\s\"<>]+/", "/unsubscribe/T/", text)


def _flattened(message) -> bytes:
    """The bytes of a message, less what differs on every call (``_smtp_bytes``)."""
    return _smtp_bytes(message.message().as_bytes(), message.to[0])


def _reminders_for(soon, people: list[tuple[str, str]]) -> list[Notification]:
    """The pending reminders of ``soon``, in order, for people (name, language)
    who registered half an hour ago."""
    for n, (name, language) in enumerate(people):
        registration = register(
            soon, email=f"p{n}@example.org", name=name, language=language
        )
        backdate(registration, 60 * 30)
    reminders_plan()
    rows = list(reminders().filter(status="pending").order_by("pk"))
    assert len(rows) == len(people)
    return rows


def test_batch_rendering_gives_the_same_emails_as_rendering_row_by_row(soon) -> None:
    """Reminders rendered once per language with placeholders: byte for byte the
    email that rendering each row on its own gives, names escaped in HTML only."""
    from notifications.delivery import BatchRenderer

    people = [
        ("陈佳萌", "zh-hans"),
        ("O'Brien & <Söhne>", "en"),
        ('王"小明"', "zh-hans"),
        ("Ann Lee", "en"),
        ("李 & 张 <b>", "zh-hans"),
    ]
    rows = _reminders_for(soon, people)
    renderer = BatchRenderer(rows)
    for row in rows:
        alone = render_message(row)
        batched = render_message(row, renderer=renderer)
        assert batched.subject == alone.subject
        assert _untimed(batched.body) == _untimed(alone.body)
        assert _untimed(batched.alternatives[0][0]) == _untimed(
            alone.alternatives[0][0]
        )
        assert batched.to == alone.to
        assert batched.extra_headers["Message-ID"] == alone.extra_headers["Message-ID"]
        assert _flattened(batched) == _flattened(alone)
    # Each language was rendered once with placeholders, not fallen back row by row.
    groups = list(renderer._groups.values())
    assert len(groups) == 2 and all(parts is not None for parts in groups)
    chinese = render_message(rows[4], renderer=renderer)
    assert "李 &amp; 张 &lt;b&gt;" in chinese.alternatives[0][0]
    assert "李 & 张 <b>" in chinese.body


def _smtp_bytes(raw: bytes, recipient: str) -> bytes:
    """SMTP's bytes of a message, less Date, boundaries and the unsubscribe token's
    timestamp (the token checked to name the recipient first)."""
    import re

    from notifications.services import email_from_unsubscribe_token

    for token in re.findall(rb"/unsubscribe/([^/\s\"<>]+)/", raw):
        assert email_from_unsubscribe_token(token.decode()) == recipient.lower()
    raw = re.sub(rb"/unsubscribe/[^/\s\"<>]+/", b"/unsubscribe/T/", raw)
    raw = re.sub(rb"^Date: [^\r\n]*", b"Date: D", raw, flags=re.MULTILINE)
    for boundary in set(re.findall(rb'boundary="([^"]+)"', raw)):
        raw = raw.replace(boundary, b"BOUNDARY")
    return raw


def test_emails_filled_into_a_mould_are_the_bytes_smtp_gets_for_the_built_ones(
    soon,
) -> None:
    """Each group's message is built once with holes and each row filled in: SMTP
    is handed byte for byte what building the row's email gives (envelope too).
    A row the mould cannot follow is built the ordinary way: here a name that
    makes a line longer than SMTP allows."""
    from django.core.mail.message import sanitize_address

    from notifications.delivery import BatchRenderer

    people = [
        ("陈佳萌", "zh-hans"),
        ("O'Brien & <Söhne>", "en"),
        ('王"小明"', "zh-hans"),
        ("Ann Lee", "en"),
        ("李 & 张 <b>", "zh-hans"),
        ("Bo", "en"),
        ("&" * 200, "en"),  # 1,000 bytes escaped in HTML
    ]
    rows = _reminders_for(soon, people)
    renderer = BatchRenderer(rows)
    filled = []
    for row in rows:
        envelope = renderer.envelope(row)
        built = render_message(row)
        if envelope is None:
            continue
        filled.append(row.recipient)
        sender, recipients, data = envelope
        assert sender == sanitize_address(built.from_email, "utf-8")
        assert recipients == [row.recipient]
        expected = built.message().as_bytes(linesep="\r\n")
        assert _smtp_bytes(data, row.recipient) == _smtp_bytes(expected, row.recipient)
    # The 200 "&" make an HTML line too long: built (and so encoded) the usual way.
    assert filled == [f"p{n}@example.org" for n in range(6)]
    assert [m is not None for m in renderer._moulds.values()] == [True, True]


def test_an_ascii_email_is_not_filled_with_a_name_that_is_not(
    soon, settings, tmp_path
) -> None:
    """A part written in ASCII goes as 7bit; a Chinese name makes it 8bit, which the
    mould of its group cannot follow: that row is built the ordinary way."""

    from notifications.delivery import BatchRenderer

    folder = tmp_path / "custom"
    folder.mkdir()
    (folder / "plain_subject.txt").write_text("Hello")
    (folder / "plain.txt").write_text("Hi {{ full_name }}, {{ code }}")
    (folder / "plain.html").write_text("<p>Hi {{ full_name }}</p>")
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "DIRS": [str(tmp_path), *settings.TEMPLATES[0]["DIRS"]],
        }
    ]
    for n, name in enumerate(["Ann", "张伟", "Bo"]):
        registration = register(
            soon, email=f"a{n}@example.org", name=name, language="en"
        )
        backdate(registration, 60 * 30)
    reminders_plan()  # (reminders: no attachment of their own, unlike tickets)
    reminders().update(template="custom/plain")
    rows = list(reminders().filter(status="pending").order_by("pk"))
    renderer = BatchRenderer(rows)
    envelopes = [renderer.envelope(row) for row in rows]
    assert [e is not None for e in envelopes] == [True, False, True]
    for row, envelope in zip(rows, envelopes, strict=True):
        built = render_message(row).message().as_bytes(linesep="\r\n")
        assert (b"Content-Transfer-Encoding: 8bit" in built) == (
            row.context["full_name"] == "张伟"
        )
        if envelope is not None:
            assert _smtp_bytes(envelope[2], row.recipient) == _smtp_bytes(
                built, row.recipient
            )


def test_batch_rendering_falls_back_when_a_template_transforms_a_value(
    soon, settings, tmp_path
) -> None:
    """A template that filters a recipient's value cannot be filled in: its rows are
    rendered one by one, and still give the right email."""
    from notifications.delivery import BatchRenderer

    folder = tmp_path / "custom"
    folder.mkdir()
    (folder / "shout_subject.txt").write_text("{{ full_name|upper }}")
    (folder / "shout.txt").write_text("Hi {{ full_name|upper }}, {{ code }}")
    (folder / "shout.html").write_text("<p>{{ full_name|truncatechars:4 }}</p>")
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "DIRS": [str(tmp_path), *settings.TEMPLATES[0]["DIRS"]],
        }
    ]
    for n in range(3):
        register(soon, email=f"s{n}@example.org", name=f"name {n}", language="en")
    Notification.objects.update(template="custom/shout")
    rows = list(Notification.objects.order_by("pk"))
    renderer = BatchRenderer(rows)
    for n, row in enumerate(rows):
        message = render_message(row, renderer=renderer)
        assert message.subject == f"NAME {n}"
        assert message.body.startswith(f"Hi NAME {n}, ")
        assert message.alternatives[0][0] == "<p>nam…</p>"
    assert list(renderer._groups.values()) == [None]


def test_dispatch_keeps_at_most_the_limit_queued_and_waiting(soon, settings) -> None:
    """A large fan-out is queued a limited amount at a time: what waits in the
    broker is never older than the requeue delay because it was queued too early."""
    settings.NOTIFICATIONS_BATCH_SIZE = 2
    settings.NOTIFICATIONS_MAX_QUEUED = 5
    settings.NOTIFICATIONS_REQUEUE_AFTER = 60
    for n in range(9):
        registration = register(soon, email=f"q{n}@example.org", language="en")
        backdate(registration, 60 * 30)
    Notification.objects.filter(kind="registration_confirmed").delete()
    reminders_plan()
    assert reminders().filter(status="pending").count() == 9
    queued: list[list[int]] = []
    now = timezone.now()
    notifications_dispatch(now=now, queue=queued.append)
    assert sum(map(len, queued)) == 5 and max(map(len, queued)) == 2
    notifications_dispatch(now=now + dt.timedelta(seconds=1), queue=queued.append)
    assert sum(map(len, queued)) == 5, "nothing more while five wait"
    notifications_deliver(ids=queued[0])  # two sent: room for two more
    notifications_dispatch(now=now + dt.timedelta(seconds=2), queue=queued.append)
    assert sum(map(len, queued)) == 7
    ids = [pk for batch in queued for pk in batch]
    assert len(set(ids)) == 7, "no row queued twice"


def test_a_process_that_finds_a_run_about_to_start_waits_for_it(monkeypatch) -> None:
    """Within the margin before a run asked for by another process, the cache key
    stands until that run's ETA: asking again each request would cost two round
    trips to Redis for nothing (issue 11). It asks again every ``DISPATCH_RECHECK``
    (its clock may be behind the one that asked, and the run already started)."""
    import time

    from django.core.cache import cache

    import notifications.services as outbox

    monkeypatch.setattr(outbox, "_dispatch_known_until", 0.0)
    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)
    eta = time.time() + outbox.DISPATCH_MARGIN / 2  # inside the margin already
    cache.set(outbox.DISPATCH_REQUESTED, eta, timeout=outbox.DISPATCH_DELAY)
    asked: list[str] = []
    add, get = cache.add, cache.get
    monkeypatch.setattr(
        cache, "add", lambda *a, **k: asked.append("add") or add(*a, **k)
    )
    monkeypatch.setattr(
        cache, "get", lambda *a, **k: asked.append("get") or get(*a, **k)
    )
    try:
        before = time.time()
        for _ in range(50):
            outbox._request_dispatch()
        assert asked == ["add", "get"]
        assert (
            before
            < outbox._dispatch_known_until
            <= min(eta, time.time() + outbox.DISPATCH_RECHECK)
        )
        time.sleep(outbox.DISPATCH_RECHECK)
        outbox._request_dispatch()
        assert asked == ["add", "get", "add", "get"]
    finally:
        cache.delete(outbox.DISPATCH_REQUESTED)


def test_a_process_asks_for_a_dispatch_once_until_the_run_it_knows_of(
    monkeypatch,
) -> None:
    """Every commit with mail asks for a dispatcher run; within the second before
    that run, one process asks the cache once (twice if another process asked
    first: it reads the run's ETA), not once per request."""
    import time

    from django.core.cache import cache

    import notifications.services as outbox
    from notifications.tasks import dispatch_notifications

    monkeypatch.setattr(outbox, "_dispatch_known_until", 0.0)
    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)
    cache.delete(outbox.DISPATCH_REQUESTED)
    asked: list[str] = []
    queued: list[dict] = []
    add, get, apply_async = cache.add, cache.get, dispatch_notifications.apply_async
    monkeypatch.setattr(
        cache, "add", lambda *a, **k: asked.append("add") or add(*a, **k)
    )
    monkeypatch.setattr(
        cache, "get", lambda *a, **k: asked.append("get") or get(*a, **k)
    )
    monkeypatch.setattr(
        dispatch_notifications,
        "apply_async",
        lambda **k: queued.append(k) or apply_async(**k),
    )
    before = time.time()
    for _ in range(50):
        outbox._request_dispatch()
    assert asked == ["add"] and len(queued) == 1
    eta = queued[0]["eta"].timestamp()
    slack = 1e-5  # the task's ETA is a datetime: to the microsecond
    assert (
        before + outbox.DISPATCH_DELAY - slack
        <= eta
        <= time.time() + outbox.DISPATCH_DELAY + slack
    )
    # Another process (nothing known yet) finds the run asked for and its ETA.
    monkeypatch.setattr(outbox, "_dispatch_known_until", 0.0)
    for _ in range(50):
        outbox._request_dispatch()
    assert asked == ["add", "add", "get"] and len(queued) == 1
    assert abs(outbox._dispatch_known_until - (eta - outbox.DISPATCH_MARGIN)) < slack
    # Once that run is due, a commit asks for the next one.
    time.sleep(max(0.0, eta - time.time()) + 0.1)
    outbox._request_dispatch()
    assert asked[-1] == "add" and len(queued) == 2
