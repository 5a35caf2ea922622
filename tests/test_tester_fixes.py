"""What a new user's run through the demo found: the whole event cancelled (one
email per person, a page that says so), sessions kept inside the event's dates,
the changed session's previous time, and a ticket checked in on the wrong day.

Real PostgreSQL and the outbox's own rendering (``render_message``): each test
reads the rows and emails the services leave behind.
"""

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from events import services
from events.models import Event, Registration, Session
from events.notices import reminders_plan
from events.services import AttendeeData
from notifications.delivery import render_message
from notifications.models import Notification
from tests.factories import EventFactory, SessionFactory, UserFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def organiser(db):
    return UserFactory(is_staff=False)


@pytest.fixture
def event(organiser) -> Event:
    return EventFactory(
        organisers=[organiser], title="Social Work Week", timezone="Asia/Shanghai"
    )


@pytest.fixture
def signed_in(client, organiser):
    client.force_login(organiser)
    return client


def register(
    session: Session, name: str, email: str, language: str = "en"
) -> Registration:
    return services.registration_create(
        session=session,
        attendee=AttendeeData(full_name=name, email=email, language=language),
    )


def _session(event: Event, title: str, days: int, **extra) -> Session:
    starts_at = timezone.now() + dt.timedelta(days=days, hours=1)
    return SessionFactory(
        event=event,
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        **extra,
    )


# 1. Cancelling the whole event ----------------------------------------------------


def test_cancelling_the_event_sends_one_email_per_person_listing_their_sessions(
    signed_in, event
):
    opening = _session(event, "Opening ceremony", 10)
    workshop = _session(event, "Case workshop", 11, capacity=1)
    closing = _session(event, "Closing talk", 11)
    for session in (opening, workshop, closing):
        register(session, "Ann Lee", "ann@example.org")
    register(workshop, "陈佳萌", "Chen@Example.org", language="zh-hans")  # waits
    register(opening, "陈佳萌", "chen@example.org", language="zh-hans")
    Notification.objects.all().delete()

    response = signed_in.post(reverse("console:event_cancel", args=[event.slug]))
    assert response.status_code == 302

    assert not Notification.objects.filter(kind="session_cancelled").exists()
    rows = Notification.objects.filter(kind="event_cancelled").order_by("recipient")
    assert [r.recipient.lower() for r in rows] == [
        "ann@example.org",
        "chen@example.org",
    ]
    ann, chen = rows
    message = render_message(ann)
    assert message.subject == "Event cancelled: Social Work Week"
    body = message.body
    for title in ("Opening ceremony", "Case workshop", "Closing talk"):
        assert title in body
        assert title in message.alternatives[0][0]
    assert body.index("Opening ceremony") < body.index("Case workshop")
    assert "See the other sessions" not in body
    assert "other sessions" not in message.alternatives[0][0]
    assert [a[2] for a in message.attachments] == ["text/calendar; method=CANCEL"] * 3
    assert all(b"METHOD:CANCEL" in a[1].encode() for a in message.attachments)

    chinese = render_message(chen)
    assert chen.language == "zh-hans"
    assert "Case workshop" in chinese.body and "Opening ceremony" in chinese.body
    assert "Closing talk" not in chinese.body
    # In Shanghai's time: the session's start as the attendee reads it.
    local = timezone.localtime(opening.starts_at, SHANGHAI)
    assert f"{local:%H:%M}" in chinese.body or f"{local.hour}:{local:%M}" in (
        chinese.body
    )

    assert not Registration.objects.filter(
        session__event=event, status__in=Registration.ACTIVE_STATUSES
    ).exists()
    # Twice: nothing more.
    signed_in.post(reverse("console:event_cancel", args=[event.slug]))
    assert Notification.objects.filter(kind="event_cancelled").count() == 2


def test_cancelling_the_event_stops_the_reminders(event):
    session = _session(event, "Opening ceremony", 0)
    session.starts_at = timezone.now() + dt.timedelta(minutes=30)
    session.ends_at = session.starts_at + dt.timedelta(hours=1)
    session.save()
    ann = register(session, "Ann Lee", "ann@example.org")
    Registration.objects.filter(pk=ann.pk).update(
        created_at=timezone.now() - dt.timedelta(days=2)
    )
    reminders_plan()
    pending = Notification.objects.filter(
        kind="session_reminder", status=Notification.Status.PENDING
    )
    assert pending.exists()
    services.event_cancel(event=event)
    assert not pending.exists()


def test_a_cancelled_events_page_says_so_and_the_api_still_answers_404(
    client, api, event
):
    session = _session(event, "Opening ceremony", 10)
    ann = register(session, "Ann Lee", "ann@example.org")
    services.event_cancel(event=event)

    page = client.get(f"/events/{event.slug}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "This event is cancelled." in html
    assert "Social Work Week" in html
    assert 'data-testid="event-cancelled"' in html
    assert "style=" not in html and "<script>" not in html

    # The attendee's manage page links back to that page, which answers.
    ann.refresh_from_db()
    manage = client.get(f"/r/{ann.code}/?token={ann.token}").content.decode()
    assert f'href="/events/{event.slug}/"' in manage

    assert api.get(f"/api/v1/events/{event.slug}/").status_code == 404
    draft = EventFactory(status=Event.Status.DRAFT)
    assert client.get(f"/events/{draft.slug}/").status_code == 404
    assert client.get("/events/no-such-event/").status_code == 404


def test_a_cancelled_session_points_to_other_sessions_only_when_some_are_left(
    event,
):
    first = _session(event, "Opening ceremony", 10)
    second = _session(event, "Closing talk", 11)
    register(first, "Ann Lee", "ann@example.org")
    register(second, "Bo Wu", "bo@example.org")

    services.session_cancel(session=first)
    told = render_message(Notification.objects.get(kind="session_cancelled"))
    assert "See the other sessions" in told.body
    assert f"/events/{event.slug}/" in told.body

    services.session_cancel(session=second)
    last = render_message(
        Notification.objects.get(kind="session_cancelled", recipient="bo@example.org")
    )
    assert "See the other sessions" not in last.body
    assert "See the other sessions" not in last.alternatives[0][0]
    assert f"/events/{event.slug}/" not in last.body


# 2. Sessions inside the event's dates; the changed session's previous time -------------


def _session_form(event: Event, starts: str, ends: str) -> dict[str, str]:
    return {
        "title": "Evening talk",
        "description": "",
        "kind": "talk",
        "starts_at": starts,
        "ends_at": ends,
        "venue_name": "",
        "venue_address": "",
        "capacity": "20",
        "waitlist_enabled": "on",
    }


def test_a_session_outside_the_events_dates_is_a_form_error(signed_in, event):
    url = reverse("console:session_new", args=[event.slug])
    day_before = event.starts_on - dt.timedelta(days=1)
    after = event.ends_on + dt.timedelta(days=1)

    for starts, ends in [
        (f"{day_before}T18:00", f"{day_before}T20:00"),
        (f"{event.ends_on}T23:00", f"{after}T01:00"),
        (f"{after}T10:00", f"{after}T11:00"),
    ]:
        response = signed_in.post(url, _session_form(event, starts, ends))
        assert response.status_code == 200, (starts, ends)
        errors = response.context["form"].errors["starts_at"]
        assert "within the event's dates" in errors[0]
        assert event.starts_on.strftime("%Y") in errors[0]
    assert not event.sessions.exists()

    # The first minute of the first day and midnight after the last day are inside.
    response = signed_in.post(
        url,
        _session_form(event, f"{event.starts_on}T00:00", f"{event.ends_on}T23:59"),
    )
    assert response.status_code == 302
    session = event.sessions.get()
    assert timezone.localtime(session.starts_at, SHANGHAI).date() == event.starts_on


def test_moving_a_session_outside_the_events_dates_is_refused_in_chinese(
    signed_in, event
):
    session = _session(event, "Opening ceremony", 10)
    before = session.starts_at
    late = event.ends_on + dt.timedelta(days=5)
    response = signed_in.post(
        reverse("console:session_edit", args=[event.slug, session.pk]),
        _session_form(event, f"{late}T10:00", f"{late}T11:00"),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200
    assert response.context["form"].errors["starts_at"]
    session.refresh_from_db()
    assert session.starts_at == before


def test_the_session_changed_email_shows_the_previous_and_the_new_time(event):
    starts_at = dt.datetime.combine(event.starts_on, dt.time(9, 0), SHANGHAI)
    session = SessionFactory(
        event=event,
        title="Opening ceremony",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=1),
    )
    register(session, "Ann Lee", "ann@example.org")
    later = starts_at + dt.timedelta(hours=5)

    services.session_update(
        session=session,
        data={"starts_at": later, "ends_at": later + dt.timedelta(hours=1)},
    )
    row = Notification.objects.get(kind="session_changed")
    message = render_message(row)
    assert "Was: " in message.body and "Now: " in message.body
    was, now = message.body.split("Was: ")[1].split("Now: ")
    # A 24-hour clock, and the zone as an English reader says it (config/formats).
    assert "09:00 – 10:00" in was
    assert "14:00 – 15:00 (China Standard Time)" in now
    assert "Was: " in message.alternatives[0][0]

    # A new title alone: no previous time to show.
    services.session_update(session=session, data={"title": "Opening"})
    retitled = Notification.objects.filter(kind="session_changed").latest("pk")
    assert "Was: " not in render_message(retitled).body


# 3. Check-in on another day ------------------------------------------------------------


def _check_in_event(organiser) -> tuple[Event, Registration, Registration]:
    event = EventFactory(organisers=[organiser], title="Door", timezone="Asia/Shanghai")
    later = _session(event, "Closing talk", 14)
    today = _session(event, "Opening ceremony", 1)
    far = register(later, "Ann Lee", "ann@example.org")
    near = register(today, "Bo Wu", "bo@example.org")
    # Today's session, whatever the hour: it started a little while ago.
    now = timezone.now()
    Session.objects.filter(pk=today.pk).update(
        starts_at=now - dt.timedelta(minutes=20), ends_at=now + dt.timedelta(hours=1)
    )
    return event, far, near


def test_scanning_a_ticket_for_another_day_checks_in_with_a_warning(
    signed_in, organiser
):
    event, far, near = _check_in_event(organiser)
    url = reverse("console:check_in_scan", args=[event.slug])

    body = signed_in.post(url, {"code": far.code}).json()
    assert body["result"] == "ok"
    day = timezone.localtime(far.session.starts_at, SHANGHAI).date()
    assert body["warning"] == (
        f"This ticket is for Closing talk on {date_format(day)}, not today."
    )
    far.refresh_from_db()
    assert far.checked_in_at is not None  # still checked in: the door decides

    again = signed_in.post(url, {"code": far.code}).json()
    assert again["result"] == "already" and again["warning"]

    today = signed_in.post(url, {"code": near.code}).json()
    assert today["result"] == "ok" and today["warning"] == ""


def test_the_typed_code_form_shows_the_warning_in_amber(signed_in, organiser):
    event, far, near = _check_in_event(organiser)
    url = reverse("console:check_in", args=[event.slug])

    html = signed_in.post(url, {"code": far.code}).content.decode()
    assert 'class="result check-in-result warn"' in html
    assert 'data-result="ok"' in html
    assert "This ticket is for Closing talk on" in html and "not today." in html

    html = signed_in.post(url, {"code": near.code}).content.decode()
    assert 'class="result check-in-result ok"' in html
    assert "not today" not in html
