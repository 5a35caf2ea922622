"""The event dashboard (``/organise/<slug>/``) and its ``stats.json``.

Its numbers are the API's for the same data, it is the organiser's own event only,
it asks the database a fixed number of questions however large the event, and in
Chromium it updates itself while open.
"""

import datetime as dt
import io
import json
import os
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright
from rest_framework.test import APIClient

from events import services
from events.models import Event, Registration, Session
from events.selectors import event_registrations_by_day
from notifications.models import Notification
from tests.factories import EventFactory, SessionFactory, UserFactory
from tests.test_browser import CHROMIUM_ARGS

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def register(session: Session, n: int, **extra: Any) -> Registration:
    return services.registration_create(
        session=session,
        attendee=services.AttendeeData(
            full_name=f"Person {n}", email=f"person{n}@example.org", **extra
        ),
    )


def cancel(registration: Registration) -> Registration:
    return services.registration_cancel_by_organiser(registration=registration)


def check_in(registration: Registration) -> None:
    services.registration_check_in(
        event=registration.session.event, code=registration.code
    )


@pytest.fixture
def organiser(db: None) -> Any:
    return UserFactory(is_staff=False)


@pytest.fixture
def event(organiser: Any) -> Event:
    return EventFactory(organisers=[organiser])


def busy_event(event: Event) -> list[Session]:
    """Two sessions with every state: confirmed, waitlisted, cancelled, checked in."""
    small = SessionFactory(event=event, capacity=3, title="Ciyuan Post talk")
    large = SessionFactory(event=event, capacity=None, title="Kick-off")
    people = [register(small, n) for n in range(5)]  # 3 confirmed, 2 waiting
    cancel(people[0])  # promotes people[3]
    check_in(people[1])
    others = [register(large, n) for n in range(10, 16)]
    cancel(others[0])
    check_in(others[1])
    check_in(others[2])
    cancel(others[2])  # checked in, then cancelled: no longer counted as in
    services.registration_reserve(
        session=small,
        attendee=services.AttendeeData(full_name="Guest", email="guest@example.org"),
    )
    return [small, large]


def stats_for(client: Client, event: Event) -> dict[str, Any]:
    response = client.get(reverse("console:dashboard_stats", args=[event.slug]))
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    return response.json()


def api_count(api: APIClient, event: Event, **filters: object) -> int:
    response = api.get(f"/api/v1/events/{event.slug}/registrations/", filters)
    assert response.status_code == 200
    return response.json()["count"]


def api_checked_in(api: APIClient, event: Event, **filters: object) -> int:
    response = api.get(
        f"/api/v1/events/{event.slug}/registrations/",
        {"status": "confirmed", **filters},
    )
    body = response.json()
    assert body["next"] is None
    return sum(1 for r in body["results"] if r["checked_in_at"])


def test_numbers_equal_the_api(client: Client, organiser: Any, event: Event) -> None:
    """Registered, confirmed, waiting, cancelled and checked in, in total and per
    session, are the counts the organiser API reports for the same filters."""
    small, large = busy_event(event)
    api = APIClient()
    api.force_authenticate(organiser)
    client.force_login(organiser)

    stats = stats_for(client, event)

    assert stats["counts"] == {
        "registered": api_count(api, event),
        "confirmed": api_count(api, event, status="confirmed"),
        "waiting": api_count(api, event, status="waitlisted"),
        "cancelled": api_count(api, event, status="cancelled"),
        "checked_in": api_checked_in(api, event),
    }
    assert stats["counts"] == {
        "registered": 12,
        "confirmed": 8,
        "waiting": 1,
        "cancelled": 3,
        "checked_in": 2,
    }
    by_id = {s["id"]: s for s in stats["sessions"]}
    for session in (small, large):
        row = by_id[session.pk]
        assert row["confirmed"] == api_count(
            api, event, session=session.pk, status="confirmed"
        )
        assert row["waiting"] == api_count(
            api, event, session=session.pk, status="waitlisted"
        )
    assert by_id[small.pk] | {"title": "", "when": ""} == {
        "id": small.pk,
        "title": "",
        "when": "",
        "cancelled": False,
        "capacity": 3,
        "capacity_label": "3",
        "confirmed": 4,
        "reserved": 1,
        "confirmed_note": "incl. 1 guest",
        "seats_left": 0,
        "seats_left_label": "0",
        "waiting": 1,
    }
    assert by_id[large.pk]["capacity_label"] == "Unlimited"
    assert by_id[large.pk]["seats_left"] is None
    progress = {s["id"]: s for s in stats["check_in"]}
    assert progress[small.pk]["checked_in"] == api_checked_in(
        api, event, session=small.pk
    )
    assert (progress[small.pk]["checked_in"], progress[small.pk]["percent"]) == (1, 25)
    assert stats["check_in_visible"] is True

    # The page shows the same numbers, in its tables, without JavaScript.
    page = client.get(reverse("console:dashboard", args=[event.slug]))
    html = page.content.decode()
    for key, value in stats["counts"].items():
        assert f'data-count="{key}">{value}</span>' in html
    assert (
        json.loads(
            re.search(
                r'<script id="dashboard-stats" type="application/json">(.*?)</script>',
                html,
            ).group(1)
        )["counts"]
        == stats["counts"]
    )


def test_page_works_without_script_and_without_inline_code(
    client: Client, organiser: Any, event: Event
) -> None:
    """Every chart has a captioned table with header cells; the page carries no
    inline script or style (a CSP without 'unsafe-inline' is coming) and loads
    ECharts from Podium's own static files."""
    busy_event(event)
    client.force_login(organiser)
    html = client.get(reverse("console:dashboard", args=[event.slug])).content.decode()

    assert html.count("<caption>") == 4
    assert html.count('data-chart="') == 4
    assert html.count('aria-hidden="true"') >= 4
    assert 'scope="col"' in html and 'scope="row"' in html
    assert "/static/vendor/echarts/echarts.min.js" in html
    assert "/static/console/dashboard.js" in html
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources and all(src.startswith("/static/") for src in sources)
    for script in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S):
        attributes, body = script
        assert "src=" in attributes or 'type="application/json"' in attributes
        assert "src=" not in attributes or not body.strip()
    assert not re.search(r"\sstyle=", html)
    assert "<style" not in html
    assert not re.search(r"\son[a-z]+=", html)
    # The refresh interval is on the page, for the script.
    assert 'data-refresh-seconds="15"' in html
    assert f'data-stats-url="/organise/{event.slug}/stats.json"' in html


def test_check_in_progress_shows_once_the_event_runs(
    client: Client, organiser: Any, event: Event
) -> None:
    """Before the doors open and with nobody in, check-in progress is hidden; once a
    session has started it shows, at 0 %."""
    session = SessionFactory(event=event)
    register(session, 1)
    client.force_login(organiser)
    url = reverse("console:dashboard", args=[event.slug])

    assert stats_for(client, event)["check_in_visible"] is False
    assert 'data-section="check_in" hidden' in client.get(url).content.decode()

    Session.objects.filter(pk=session.pk).update(
        starts_at=timezone.now() - dt.timedelta(minutes=5)
    )
    stats = stats_for(client, event)
    assert stats["check_in_visible"] is True
    assert stats["check_in"][0] | {"title": "", "when": ""} == {
        "id": session.pk,
        "title": "",
        "when": "",
        "checked_in": 0,
        "confirmed": 1,
        "not_yet": 1,
        "percent": 0,
    }
    assert 'data-section="check_in" hidden' not in client.get(url).content.decode()


def test_registrations_per_day_in_the_event_time_zone(event: Event) -> None:
    """Days are the event's (Asia/Shanghai): 17:30 UTC is the next morning there.
    Days without registrations are rows of zeros; totals run on."""
    session = SessionFactory(event=event, capacity=None)
    first, second, third = (register(session, n) for n in range(3))
    utc = dt.UTC
    Registration.objects.filter(pk=first.pk).update(
        created_at=dt.datetime(2026, 3, 1, 15, 0, tzinfo=utc)  # 23:00 on 1 March
    )
    Registration.objects.filter(pk=second.pk).update(
        created_at=dt.datetime(2026, 3, 1, 17, 30, tzinfo=utc)  # 01:30 on 2 March
    )
    Registration.objects.filter(pk=third.pk).update(
        created_at=dt.datetime(2026, 3, 3, 16, 30, tzinfo=utc),  # 00:30 on 4 March
        status=Registration.Status.CANCELLED,
        cancelled_at=dt.datetime(2026, 3, 4, 1, 0, tzinfo=utc),  # 09:00 on 4 March
    )

    days = event_registrations_by_day(event=event, until=dt.date(2026, 3, 5))

    assert [
        (d.day.isoformat(), d.registered, d.cancelled, d.total, d.active) for d in days
    ] == [
        ("2026-03-01", 1, 0, 1, 1),
        ("2026-03-02", 1, 0, 2, 2),
        ("2026-03-03", 0, 0, 2, 2),
        ("2026-03-04", 1, 1, 3, 2),
        ("2026-03-05", 0, 0, 3, 2),
    ]


def test_mail_health_counts_this_events_mail_only(
    client: Client, organiser: Any, event: Event, settings: Any
) -> None:
    """Queued (due), scheduled, sent, failed and skipped emails of this event's
    scope, and the age of the oldest one due, late by /healthz's rule; another
    event's mail is left out."""
    settings.NOTIFICATIONS_STALLED_AFTER = 300
    now = timezone.now()
    other = EventFactory()

    def mail(scope_event: Event, status: str, minutes_ago: int, n: int) -> None:
        Notification.objects.create(
            kind="registration_confirmed",
            recipient=f"m{n}@example.org",
            scope=f"event:{scope_event.pk}",
            template="events/email/registration_confirmed",
            dedupe_key=f"test:{n}",
            status=status,
            send_after=now - dt.timedelta(minutes=minutes_ago),
        )

    mail(event, "pending", 7, 1)  # due for seven minutes: late
    mail(event, "pending", 1, 2)
    mail(event, "sending", 0, 3)
    mail(event, "pending", -60, 4)  # in an hour
    mail(event, "sent", 30, 5)
    mail(event, "sent", 30, 6)
    mail(event, "failed", 30, 7)
    mail(event, "skipped", 30, 8)
    mail(event, "cancelled", 30, 9)
    mail(other, "pending", 90, 10)
    mail(other, "failed", 90, 11)
    client.force_login(organiser)

    health = stats_for(client, event)["mail"]

    assert {k: health[k] for k in ("queued", "scheduled", "sent", "failed")} == {
        "queued": 3,
        "scheduled": 1,
        "sent": 2,
        "failed": 1,
    }
    assert health["skipped"] == 2
    assert 7 * 60 <= health["oldest_due_seconds"] < 8 * 60
    assert health["oldest_due_label"] == "The oldest email due has waited 7\xa0minutes."
    assert health["late"] is True

    Notification.objects.filter(dedupe_key="test:1").update(status="sent")
    health = stats_for(client, event)["mail"]
    assert health["late"] is False and health["queued"] == 2


@pytest.mark.parametrize("name", ["console:dashboard", "console:dashboard_stats"])
def test_another_organisers_event_is_not_found(
    client: Client, event: Event, name: str
) -> None:
    """Another organiser's event, and an unknown slug, are 404; a visitor who is not
    signed in is sent to the sign-in page."""
    busy_event(event)
    url = reverse(name, args=[event.slug])
    assert client.get(url).status_code == 302
    assert client.get(url)["Location"].startswith("/accounts/login/")

    other = UserFactory(is_staff=False)
    EventFactory(organisers=[other])
    client.force_login(other)
    assert client.get(url).status_code == 404
    assert client.get(reverse(name, args=["no-such-event"])).status_code == 404


def grow(event: Event, sessions: int, registrations_each: int, start: int) -> None:
    for s in range(sessions):
        session = SessionFactory(event=event, capacity=registrations_each // 2)
        rows = [
            register(session, start + s * 1000 + n) for n in range(registrations_each)
        ]
        cancel(rows[0])
        check_in(rows[1])


@pytest.mark.parametrize("name", ["console:dashboard", "console:dashboard_stats"])
def test_query_count_does_not_grow_with_the_event(
    client: Client,
    organiser: Any,
    event: Event,
    name: str,
    django_assert_num_queries: Any,
) -> None:
    """The same number of queries for 2 sessions of 4 as for 6 sessions of 12."""
    client.force_login(organiser)
    url = reverse(name, args=[event.slug])
    grow(event, sessions=2, registrations_each=4, start=0)
    client.get(url)  # warm the session and the translations
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200

    grow(event, sessions=4, registrations_each=12, start=100_000)
    Notification.objects.filter(scope=f"event:{event.pk}").update(status="sent")
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200
    # Sign-in (session, user), the event, its sessions, then the dashboard's own:
    # counts, sessions, two for the days, one for the mail.
    assert len(small.captured_queries) <= 10


def test_seed_demo_fills_every_chart_and_stays_the_same_on_a_second_run(
    client: Client, db: None
) -> None:
    """``seed_demo`` leaves the demo event with registrations over the last days,
    a waiting list, cancellations, check-ins and mail sent, queued and failed; a
    second run adds nothing."""
    call_command("seed_demo", stdout=io.StringIO())
    event = Event.objects.get(slug="social-work-week-2021")
    organiser = UserFactory(is_staff=False)
    event.organisers.add(organiser)
    client.force_login(organiser)
    first = stats_for(client, event)

    call_command("seed_demo", stdout=io.StringIO())
    second = stats_for(client, event)

    for stats in (first, second):
        counts = stats["counts"]
        assert counts["registered"] >= 200
        assert counts["waiting"] > 0 and counts["cancelled"] > 0
        assert counts["checked_in"] > 0 and stats["check_in_visible"]
        assert len([d for d in stats["days"] if d["registered"]]) >= 8
        assert len(stats["days"]) >= 10
        assert any(d["cancelled"] for d in stats["days"])
        assert any(s["waiting"] for s in stats["sessions"])
        mail = stats["mail"]
        assert mail["sent"] > 100 and mail["failed"] > 0 and mail["queued"] > 0
        assert mail["late"] is False
    assert second["counts"] == first["counts"]
    assert [s["confirmed"] for s in second["sessions"]] == [
        s["confirmed"] for s in first["sessions"]
    ]
    assert Registration.objects.count() == first["counts"]["registered"]


@pytest.mark.browser
def test_dashboard_updates_itself_in_chromium(
    live_server, transactional_db, chromium_path, settings
) -> None:
    """Signed in, the organiser lands on the dashboard; a registration made
    elsewhere shows in its counts and tables without a reload, and the charts are
    drawn by ECharts from Podium's static files."""
    settings.CONSOLE_DASHBOARD_REFRESH_SECONDS = 1
    organiser = UserFactory(username="door@example.org", is_staff=False)
    organiser.set_password("dashboard-pw-1")
    organiser.save()
    event = EventFactory(organisers=[organiser], title="Social Work Week")
    session = SessionFactory(event=event, capacity=2, title="Ciyuan Post talk")
    register(session, 1)
    register(session, 2)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(
                locale="en-US", viewport={"width": 390, "height": 844}
            )
            page = context.new_page()
            page.set_default_timeout(15_000)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            outside: list[str] = []
            page.on(
                "request",
                lambda request: (
                    None
                    if request.url.startswith(live_server.url)
                    else outside.append(request.url)
                ),
            )

            page.goto(live_server.url + "/accounts/login/")
            page.locator("#id_username").fill("door@example.org")
            page.locator("#id_password").fill("dashboard-pw-1")
            page.locator("main form button[type=submit]").click()

            expect(page).to_have_url(
                live_server.url + reverse("console:dashboard", args=[event.slug])
            )
            expect(page.get_by_role("heading", level=1)).to_have_text(event.title)
            registered = page.locator('[data-count="registered"]')
            waiting = page.locator('[data-count="waiting"]')
            expect(registered).to_have_text("2")
            expect(waiting).to_have_text("0")
            expect(page.locator('[data-chart="fill"] canvas')).to_have_count(1)
            expect(page.locator('[data-chart="days"] canvas')).to_have_count(1)
            refreshed = page.locator("#dashboard").get_attribute("data-refreshed")
            assert refreshed is None

            register(session, 3)  # the session is full: a waiting list begins

            expect(registered).to_have_text("3")
            expect(waiting).to_have_text("1")
            talk = page.locator('[data-table="sessions"] tbody').first
            expect(talk.locator("th")).to_contain_text("Ciyuan Post talk")
            expect(talk.locator("td").nth(3)).to_have_text("1")  # waiting
            expect(page.get_by_text("Updated at")).to_be_visible()
            assert page.locator("#dashboard").get_attribute("data-refreshed")
            assert not errors, errors
            assert not outside, outside
        finally:
            browser.close()
