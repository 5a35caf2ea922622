"""The attendee pages, rendered by the server, in English and Simplified Chinese."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from events import services
from events.models import Registration

from .factories import EventFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def session():
    event = EventFactory(title="社会工作宣传周", slug="week")
    return SessionFactory(event=event, title="授牌仪式 Award ceremony", capacity=2)


def form(session, **extra):
    return {
        "session": session.pk,
        "full_name": "陈佳萌",
        "email": "chen@example.org",
        **extra,
    }


def test_event_list_and_page_show_seats_left(client, session) -> None:
    EventFactory(title="Hidden draft", status="draft")
    home = client.get("/").content.decode()
    assert "社会工作宣传周" in home and "Hidden draft" not in home
    page = client.get("/events/week/").content.decode()
    assert "授牌仪式 Award ceremony" in page
    assert "2 seats left" in page
    assert f"/events/week/register/?session={session.pk}" in page


def test_event_page_of_a_draft_is_not_found(client) -> None:
    EventFactory(slug="secret", status="draft")
    assert client.get("/events/secret/").status_code == 404


def test_register_through_the_form(client, session) -> None:
    response = client.post("/events/week/register/", form(session))
    assert response.status_code == 302
    registration = Registration.objects.get()
    assert (
        response["Location"]
        == f"/r/{registration.code}/confirmed/?token={registration.token}"
    )
    page = client.get(response["Location"]).content.decode()
    assert registration.code in page
    assert "data:image/svg+xml" in page, "the ticket's QR code"
    assert f"/r/{registration.code}/?token={registration.token}" in page


def test_form_errors_are_shown_next_to_fields(client, session) -> None:
    response = client.post(
        "/events/week/register/", form(session, email="not-an-address", full_name="")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r'id="id_email_error".*Enter a valid email address', page, re.S)
    assert 'id="id_full_name_error"' in page
    assert '<label for="id_email">' in page
    assert not Registration.objects.exists()


def test_duplicate_registration_is_a_form_error(client, session) -> None:
    client.post("/events/week/register/", form(session))
    response = client.post(
        "/events/week/register/", form(session, email="CHEN@example.org")
    )
    assert response.status_code == 409
    assert "already registered" in response.content.decode()
    assert Registration.objects.count() == 1


def test_the_form_refuses_without_csrf_token(session) -> None:
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/events/week/register/", form(session)).status_code == 403
    assert not Registration.objects.exists()


def test_the_form_is_throttled(client, session, settings) -> None:
    settings.REGISTRATION_RATE_LIMIT = "1/min"
    client.post("/events/week/register/", form(session))
    response = client.post(
        "/events/week/register/", form(session, email="other@example.org")
    )
    assert response.status_code == 429
    assert Registration.objects.count() == 1


def test_manage_page_cancels_and_offers_the_calendar_file(client, session) -> None:
    registration = services.registration_create(
        session=session,
        attendee=services.AttendeeData(
            full_name="<b>Chen</b>", email="chen@example.org"
        ),
    )
    url = f"/r/{registration.code}/?token={registration.token}"
    page = client.get(url).content.decode()
    assert "&lt;b&gt;Chen&lt;/b&gt;" in page and "<b>Chen</b>" not in page
    ics = client.get(f"/r/{registration.code}/calendar.ics?token={registration.token}")
    assert ics["Content-Type"].startswith("text/calendar")
    event = Calendar.from_ical(ics.content).walk("VEVENT")[0]
    assert str(event["SUMMARY"]).endswith("授牌仪式 Award ceremony")
    assert event.decoded("DTSTART") == session.starts_at.replace(microsecond=0)
    cancel = f"/r/{registration.code}/cancel/?token={registration.token}"
    # The first press asks, and says what happens; nothing changes yet.
    asked = client.post(cancel)
    assert asked.status_code == 200
    assert "Yes, cancel my registration" in asked.content.decode()
    registration.refresh_from_db()
    assert registration.status == "confirmed"
    response = client.post(cancel, {"confirm": "yes"})
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == "cancelled"
    assert "Cancel my registration" not in client.get(url).content.decode()


def test_manage_page_with_a_wrong_token_is_not_found(client, session) -> None:
    registration = services.registration_create(
        session=session,
        attendee=services.AttendeeData(full_name="Chen", email="chen@example.org"),
    )
    assert client.get(f"/r/{registration.code}/?token=wrong").status_code == 404
    assert client.post(f"/r/{registration.code}/cancel/?token=wrong").status_code == 404
    assert client.get("/r/%00/?token=x").status_code == 404
    registration.refresh_from_db()
    assert registration.status == "confirmed"


def test_pages_speak_chinese_from_the_browser(client, session) -> None:
    page = client.get(
        "/events/week/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"
    ).content.decode()
    assert '<html lang="zh-hans">' in page
    assert "Register" not in page.replace("register/", "")


def test_language_switcher_sets_chinese(client, session) -> None:
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/events/week/"})
    page = client.get("/events/week/").content.decode()
    assert '<html lang="zh-hans">' in page
    client.post("/events/week/register/", form(session))
    assert Registration.objects.get().language == "zh-hans"


def test_the_old_check_in_page_leads_to_the_consoles(client, session) -> None:
    """Check-in moved to the console (tests/test_console_checkin.py)."""
    assert client.get("/checkin/")["Location"] == "/organise/"
    organiser = UserFactory()
    session.event.organisers.add(organiser)
    client.force_login(organiser)
    response = client.get("/checkin/")
    assert response["Location"] == f"/organise/{session.event.slug}/check-in/"


def test_a_started_session_offers_no_registration(client) -> None:
    event = EventFactory(slug="now")
    started = SessionFactory(
        event=event, starts_at=timezone.now() - dt.timedelta(minutes=10)
    )
    page = client.get("/events/now/").content.decode()
    assert f"register/?session={started.pk}" not in page
    assert "This session has started." in page


def test_sign_in_takes_the_email_address_in_any_letter_case(client) -> None:
    """Accounts are stored lower-case; people type their address as they like."""
    from tests.factories import UserFactory

    user = UserFactory(username="organiser@example.org", is_staff=False)
    user.set_password("a-long-organiser-password")
    user.save()
    wrong = client.post(
        "/accounts/login/",
        {"username": "Organiser@Example.org", "password": "not-it"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "the address is not" in wrong.content.decode()
    signed_in = client.post(
        "/accounts/login/",
        {
            "username": " Organiser@Example.ORG ",
            "password": "a-long-organiser-password",
        },
    )
    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/organise/"


def test_the_form_says_when_its_link_names_a_cancelled_session(client) -> None:
    from tests.factories import EventFactory, SessionFactory

    event = EventFactory()
    gone = SessionFactory(event=event, title="Gone", status="cancelled")
    full = SessionFactory(event=event, title="Busy talk", capacity=1)
    services.registration_create(
        session=full,
        attendee=services.AttendeeData(full_name="A", email="a@example.org"),
    )
    page = client.get(
        f"/events/{event.slug}/register/?session={gone.pk}", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "The session of your link is cancelled" in page
    assert "Busy talk (full: you join the waiting list)" in page


def test_every_page_names_its_icon_so_browsers_do_not_ask_for_a_missing_one(
    client, session
) -> None:
    """Without a named icon every browser asks for /favicon.ico, a 404 in every
    page's console."""
    from django.contrib.staticfiles import finders

    body = client.get("/").content.decode()
    (href,) = re.findall(
        r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', body
    )
    assert href.endswith("favicon.svg")
    icon = finders.find("favicon.svg")
    assert icon
    with open(icon, encoding="utf-8") as svg:
        assert svg.read().startswith("<svg")
