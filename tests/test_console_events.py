"""The console's event and session pages: settings, publish, cancel, sessions.

Every write goes through ``events.services``, so the tests look at what those
leave behind: the rows, the registrations' states and the outbox (Notification
rows), as well as the page the organiser reads.
"""

import datetime as dt
import os
import re
import zoneinfo

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext
from playwright.sync_api import expect, sync_playwright

from events import services
from events.models import Event, Registration, Session
from events.services import AttendeeData
from notifications.models import Notification
from tests.factories import EventFactory, SessionFactory, UserFactory
from tests.test_browser import CHROMIUM_ARGS

PASSWORD = "correct horse battery staple"
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture
def organiser(db):
    user = UserFactory(is_staff=False)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def event(organiser):
    # Wide enough for the sessions typed below: a session must fall within its
    # event's dates (in the event's zone).
    today = timezone.localdate()
    return EventFactory(
        organisers=[organiser],
        timezone="America/New_York",
        starts_on=min(dt.date(2026, 6, 1), today),
        ends_on=today + dt.timedelta(days=30),
    )


@pytest.fixture
def signed_in(client, organiser):
    client.force_login(organiser)
    return client


def register(session: Session, *names: str) -> list[Registration]:
    return [
        services.registration_create(
            session=session,
            attendee=AttendeeData(full_name=name, email=f"{name}@example.org"),
        )
        for name in names
    ]


def message_texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def notices(kind: str, session: Session) -> int:
    ids = [
        str(pk)
        for pk in Registration.objects.filter(session=session).values_list(
            "pk", flat=True
        )
    ]
    return Notification.objects.filter(
        kind=kind, about_type="events.registration", about_id__in=ids
    ).count()


def event_post_data(event: Event, **changes: str) -> dict[str, str]:
    data = {
        "title": event.title,
        "description": event.description,
        "timezone": event.timezone,
        "starts_on": event.starts_on.isoformat(),
        "ends_on": event.ends_on.isoformat(),
        "venue_name": event.venue.name if event.venue else "",
        "venue_address": event.venue.address if event.venue else "",
        "registration_opens_at": "",
        "registration_closes_at": "",
        "reminder_offsets": ", ".join(str(o) for o in event.reminder_offsets),
    }
    return {**data, **changes}


def local_input(moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def session_post_data(session: Session, **changes: str) -> dict[str, str]:
    zone = session.event.tzinfo
    data = {
        "title": session.title,
        "description": session.description,
        "kind": session.kind,
        "starts_at": local_input(session.starts_at, zone),
        "ends_at": local_input(session.ends_at, zone),
        "venue_name": session.venue.name if session.venue else "",
        "venue_address": session.venue.address if session.venue else "",
        "capacity": "" if session.capacity is None else str(session.capacity),
    }
    if session.waitlist_enabled:
        data["waitlist_enabled"] = "on"
    return {**data, **changes}


# The event's settings ------------------------------------------------------------


def test_edit_page_lists_sessions_with_their_fill(signed_in, event):
    """The page shows each session's seats taken of its capacity and its waiting list."""
    session = SessionFactory(event=event, title="Opening", capacity=2)
    register(session, "ann", "bo", "cy")
    SessionFactory(event=event, title="Open talk", capacity=None)

    response = signed_in.get(reverse("console:event_edit", args=[event.slug]))

    assert response.status_code == 200
    row = response.content.decode().split(f'id="session-{session.pk}"')[1]
    row = row.split("</tr>")[0]
    assert "2 of 2" in row
    assert "<td" in row and ">1</td>" in row  # one waiting
    assert "0 (no limit)" in response.content.decode()
    # The zone as a reader says it (config.l10n.zone_name), not its identifier.
    assert "All times are in Eastern " in response.content.decode()
    assert "Times are in America/New_York." not in response.content.decode()


def test_settings_are_saved_with_times_read_in_the_events_zone(
    signed_in, event, settings
):
    """A naive 09:00 is 09:00 in New York, not in the server's zone (Asia/Shanghai)."""
    assert event.timezone != settings.TIME_ZONE
    url = reverse("console:event_edit", args=[event.slug])
    opens = dt.datetime(2026, 1, 5, 9, 0)
    closes = dt.datetime(2026, 7, 5, 18, 30)

    response = signed_in.post(
        url,
        event_post_data(
            event,
            title="Social Work Week, revised",
            registration_opens_at=opens.strftime("%Y-%m-%dT%H:%M"),
            registration_closes_at=closes.strftime("%Y-%m-%dT%H:%M"),
            reminder_offsets="2880, 60",
            venue_name="Civic Hall",
            venue_address="1 Main Street",
        ),
    )

    assert response.status_code == 302
    assert message_texts(response) == ["The event's settings are saved."]
    event.refresh_from_db()
    assert event.title == "Social Work Week, revised"
    assert event.registration_opens_at == opens.replace(tzinfo=NEW_YORK)
    assert event.registration_opens_at == dt.datetime(2026, 1, 5, 14, 0, tzinfo=dt.UTC)
    assert event.registration_closes_at == closes.replace(tzinfo=NEW_YORK)
    assert event.reminder_offsets == [2880, 60]
    assert (event.venue.name, event.venue.address) == ("Civic Hall", "1 Main Street")
    # Shown again as typed, in the event's zone.
    page = signed_in.get(url).content.decode()
    assert 'value="2026-01-05T09:00"' in page
    assert 'value="2026-07-05T18:30"' in page
    assert 'value="2880, 60"' in page


def test_a_new_time_zone_keeps_the_registration_window_where_it_was(signed_in, event):
    """The times on the page were shown in the saved zone, so they are read in it:
    changing the zone in the same form moves no moment."""
    response = signed_in.post(
        reverse("console:event_edit", args=[event.slug]),
        event_post_data(
            event, timezone="Asia/Shanghai", registration_opens_at="2026-01-05T09:00"
        ),
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.timezone == "Asia/Shanghai"
    assert event.registration_opens_at == dt.datetime(2026, 1, 5, 14, 0, tzinfo=dt.UTC)


def test_empty_reminder_offsets_are_saved_as_an_empty_list(signed_in, event):
    """An event may send no reminders: an empty field saves [] (it was refused)."""
    assert event.reminder_offsets
    response = signed_in.post(
        reverse("console:event_edit", args=[event.slug]),
        event_post_data(event, reminder_offsets=""),
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.reminder_offsets == []


def test_the_api_accepts_an_empty_list_of_reminder_offsets(api, event):
    """PATCH with reminder_offsets [] is saved, as the console saves it."""
    user = UserFactory(is_staff=True)
    event.organisers.add(user)
    api.force_authenticate(user)
    response = api.patch(
        f"/api/v1/events/{event.slug}/", {"reminder_offsets": []}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["reminder_offsets"] == []
    event.refresh_from_db()
    assert event.reminder_offsets == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"reminder_offsets": "1440, abc"},
            "reminder_offsets",
            "is not a whole number",
        ),
        ({"reminder_offsets": "60, 60"}, "reminder_offsets", "Give each number"),
        ({"reminder_offsets": "0"}, "reminder_offsets", "Each reminder is 1 to"),
        ({"ends_on": "2000-01-01"}, "ends_on", "cannot end before it starts"),
        ({"starts_on": "1899-01-01"}, "starts_on", "between 2000 and 2100"),
        ({"timezone": "Mars/Olympus"}, "timezone", "Select a valid choice"),
        # A title in neither language (the plain name is the reader's language).
        ({"title": ""}, "title_zh_hans", "Give a title in Chinese or in English"),
        (
            {"venue_name": "", "venue_address": "Somewhere"},
            "venue_name_zh_hans",
            "name",
        ),
        (
            {
                "registration_opens_at": "2026-03-01T10:00",
                "registration_closes_at": "2026-03-01T09:00",
            },
            "registration_closes_at",
            "must close after it opens",
        ),
        ({"registration_opens_at": "tomorrow"}, "registration_opens_at", "valid"),
        # 02:30 does not exist in New York that night: the clocks skip to 03:00.
        (
            {"registration_opens_at": "2026-03-08T02:30"},
            "registration_opens_at",
            "America/New_York",
        ),
    ],
)
def test_bad_settings_are_form_errors_and_nothing_changes(
    signed_in, event, changes, field, message
):
    before = Event.objects.values().get(pk=event.pk)
    response = signed_in.post(
        reverse("console:event_edit", args=[event.slug]),
        event_post_data(event, **changes),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    assert Event.objects.values().get(pk=event.pk) == before


# Publish and cancel the event ----------------------------------------------------


def test_publish_is_confirmed_then_done(signed_in, organiser):
    event = EventFactory(organisers=[organiser], status=Event.Status.DRAFT)
    url = reverse("console:event_publish", args=[event.slug])

    page = signed_in.get(url)
    assert page.status_code == 200
    assert "What happens" in page.content.decode()
    assert "It has no sessions yet" in page.content.decode()
    event.refresh_from_db()
    assert event.status == Event.Status.DRAFT

    response = signed_in.post(url)
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED
    assert "The event is published" in message_texts(response)[0]


def test_a_cancelled_event_is_not_published_again(signed_in, organiser):
    event = EventFactory(organisers=[organiser], status=Event.Status.CANCELLED)
    response = signed_in.post(reverse("console:event_publish", args=[event.slug]))
    assert response.status_code == 302
    [message] = list(get_messages(response.wsgi_request))
    assert message.level_tag == "error"
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED


def test_cancelling_the_event_cancels_its_sessions_and_tells_registrants(
    signed_in, event
):
    """The confirmation counts who is told; the POST cancels every session, and
    each registrant gets one event_cancelled email (tests/test_tester_fixes.py)."""
    first = SessionFactory(event=event, capacity=1)
    second = SessionFactory(event=event, capacity=5)
    register(first, "ann", "bo")  # bo waits
    register(second, "cy")
    url = reverse("console:event_cancel", args=[event.slug])

    page = signed_in.get(url).content.decode()
    assert "All of its 2 sessions are cancelled." in page
    assert "3 people each get one email saying the event is cancelled" in page
    assert "(2 seats taken, 1 on waiting lists)" in page

    response = signed_in.post(url)
    assert response.status_code == 302
    assert message_texts(response) == [
        "The event is cancelled; 3 people are being emailed."
    ]
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED
    assert set(event.sessions.values_list("status", flat=True)) == {"cancelled"}
    assert not Registration.objects.filter(
        session__event=event, status__in=Registration.ACTIVE_STATUSES
    ).exists()
    assert notices("event_cancelled", first) == 2
    assert notices("event_cancelled", second) == 1
    assert not Notification.objects.filter(kind="session_cancelled").exists()

    # Twice: nothing more happens.
    signed_in.post(url)
    assert Notification.objects.filter(kind="event_cancelled").count() == 3


# Sessions --------------------------------------------------------------------------


def test_a_session_is_added_with_times_in_the_events_zone(signed_in, event):
    response = signed_in.post(
        reverse("console:session_new", args=[event.slug]),
        {
            "title": "Supervisors' appointment ceremony",
            "kind": "ceremony",
            "starts_at": "2026-06-01T09:30",
            "ends_at": "2026-06-01T11:00",
            "venue_name": "",
            "venue_address": "",
            "capacity": "120",
            "waitlist_enabled": "on",
        },
    )
    assert response.status_code == 302
    session = Session.objects.get(event=event)
    assert session.title == "Supervisors' appointment ceremony"
    assert session.starts_at == dt.datetime(2026, 6, 1, 9, 30, tzinfo=NEW_YORK)
    assert session.starts_at == dt.datetime(2026, 6, 1, 13, 30, tzinfo=dt.UTC)
    assert session.capacity == 120
    assert session.venue is None  # at the event's venue
    assert message_texts(response) == ["“Supervisors' appointment ceremony” is added."]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ends_at": "2026-06-01T08:00"}, "ends_at"),
        ({"starts_at": ""}, "starts_at"),
        ({"capacity": "-1"}, "capacity"),
        ({"kind": "party"}, "kind"),
        ({"title": "bad\x07title"}, "title_en"),
        ({"title_zh_hans": "bad\x07title"}, "title_zh_hans"),
    ],
)
def test_a_bad_new_session_is_a_form_error(signed_in, event, changes, field):
    data = {
        "title": "Workshop",
        "kind": "workshop",
        "starts_at": "2026-06-01T09:30",
        "ends_at": "2026-06-01T11:00",
        "capacity": "10",
        **changes,
    }
    response = signed_in.post(reverse("console:session_new", args=[event.slug]), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Session.objects.filter(event=event).exists()


def test_moving_a_session_emails_a_change_notice_to_each_registrant(signed_in, event):
    session = SessionFactory(event=event, capacity=1)
    register(session, "ann", "bo")  # bo waits
    new_start = session.starts_at + dt.timedelta(days=1, hours=2)
    url = reverse("console:session_edit", args=[event.slug, session.pk])

    page = signed_in.get(url).content.decode()
    assert "change notice" in page
    assert f'value="{local_input(session.starts_at, NEW_YORK)}"' in page

    response = signed_in.post(
        url,
        session_post_data(
            session,
            starts_at=local_input(new_start, NEW_YORK),
            ends_at=local_input(new_start + dt.timedelta(hours=1), NEW_YORK),
        ),
    )

    assert response.status_code == 302
    assert message_texts(response) == [
        f"“{session.title}” is saved. 2 registrants are being emailed the change."
    ]
    session.refresh_from_db()
    assert session.starts_at == new_start.replace(second=0, microsecond=0)
    assert session.sequence == 1
    assert notices("session_changed", session) == 2


def test_saving_a_session_unchanged_tells_nobody(signed_in, event):
    """Its times have seconds (as the API may set them) that the inputs do not show:
    sent back as shown, they are no change, and nobody is emailed."""
    session = SessionFactory(event=event)
    assert session.starts_at.second or session.starts_at.microsecond
    register(session, "ann")
    starts_at = Session.objects.get(pk=session.pk).starts_at
    response = signed_in.post(
        reverse("console:session_edit", args=[event.slug, session.pk]),
        session_post_data(session),
    )
    assert response.status_code == 302
    assert message_texts(response) == [f"“{session.title}” is saved."]
    assert notices("session_changed", session) == 0
    session.refresh_from_db()
    assert (session.starts_at, session.sequence) == (starts_at, 0)


def test_capacity_below_the_confirmed_count_is_a_form_error(signed_in, event):
    """3 confirmed, capacity 2: the form says so, and nothing changes."""
    session = SessionFactory(event=event, capacity=3)
    register(session, "ann", "bo", "cy")
    moved = session.starts_at + dt.timedelta(hours=3)

    response = signed_in.post(
        reverse("console:session_edit", args=[event.slug, session.pk]),
        session_post_data(
            session,
            capacity="2",
            title="Renamed",
            starts_at=local_input(moved, NEW_YORK),
            ends_at=local_input(moved + dt.timedelta(hours=1), NEW_YORK),
        ),
    )

    assert response.status_code == 200
    assert response.context["form"].errors["capacity"] == [
        "3 registrations are confirmed: the capacity cannot be lower."
    ]
    assert 'id="id_capacity_error"' in response.content.decode()
    assert not message_texts(response)
    session.refresh_from_db()
    assert (session.capacity, session.title, session.sequence) == (3, session.title, 0)
    assert session.title != "Renamed"
    assert notices("session_changed", session) == 0


def test_more_seats_promote_the_waiting_list(signed_in, event):
    session = SessionFactory(event=event, capacity=1)
    register(session, "ann", "bo", "cy", "di")

    response = signed_in.post(
        reverse("console:session_edit", args=[event.slug, session.pk]),
        session_post_data(session, capacity="3"),
    )

    assert response.status_code == 302
    assert message_texts(response) == [
        f"“{session.title}” is saved. 2 people moved from the waiting list to "
        "seats and are being emailed."
    ]
    statuses = dict(
        Registration.objects.filter(session=session).values_list("email", "status")
    )
    assert statuses == {
        "ann@example.org": "confirmed",
        "bo@example.org": "confirmed",
        "cy@example.org": "confirmed",
        "di@example.org": "waitlisted",
    }
    session.refresh_from_db()
    assert (session.capacity, session.seats_taken) == (3, 3)
    assert notices("registration_promoted", session) == 2


def test_cancelling_a_session_is_confirmed_then_tells_everyone(signed_in, event):
    session = SessionFactory(event=event, capacity=2)
    other = SessionFactory(event=event)
    register(session, "ann", "bo", "cy")  # cy waits
    register(other, "di")
    url = reverse("console:session_cancel", args=[event.slug, session.pk])

    page = signed_in.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "2 people with a seat are emailed that the session is cancelled." in text
    assert "1 person on the waiting list is emailed too." in text
    assert "reminders stop" in text
    assert Session.objects.get(pk=session.pk).status == Session.Status.SCHEDULED

    response = signed_in.post(url)

    assert response.status_code == 302
    assert message_texts(response) == [
        f"“{session.title}” is cancelled; 3 people are being emailed."
    ]
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED
    assert set(session.registrations.values_list("status", flat=True)) == {"cancelled"}
    assert notices("session_cancelled", session) == 3
    assert other.registrations.get().status == Registration.Status.CONFIRMED
    # The edit page of a cancelled session offers no form.
    edit = signed_in.get(reverse("console:session_edit", args=[event.slug, session.pk]))
    assert "form" not in edit.context or b"Save the session" not in edit.content


def test_a_session_of_another_event_is_404(signed_in, event, organiser):
    """Even one of the organiser's own other events: the session must be this event's."""
    mine_too = EventFactory(organisers=[organiser])
    session = SessionFactory(event=mine_too)
    for name in ("console:session_edit", "console:session_cancel"):
        url = reverse(name, args=[event.slug, session.pk])
        assert signed_in.get(url).status_code == 404
        assert signed_in.post(url).status_code == 404
    assert Session.objects.get(pk=session.pk).status == Session.Status.SCHEDULED
    huge = f"/organise/{event.slug}/sessions/99999999999999999999/edit/"
    assert signed_in.get(huge).status_code == 404


def _urls(event: Event, session: Session) -> list[str]:
    return [
        reverse("console:event_edit", args=[event.slug]),
        reverse("console:event_publish", args=[event.slug]),
        reverse("console:event_cancel", args=[event.slug]),
        reverse("console:session_new", args=[event.slug]),
        reverse("console:session_edit", args=[event.slug, session.pk]),
        reverse("console:session_cancel", args=[event.slug, session.pk]),
    ]


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_organiser_gets_404_on_every_page_and_nothing_changes(
    client, event, method
):
    session = SessionFactory(event=event, capacity=5)
    register(session, "ann")
    draft = EventFactory(
        status=Event.Status.DRAFT, organisers=list(event.organisers.all())
    )
    draft_session = SessionFactory(event=draft)
    someone_else = UserFactory(is_staff=True)
    EventFactory(organisers=[someone_else])
    client.force_login(someone_else)
    before = (
        list(Event.objects.order_by("pk").values()),
        list(Session.objects.order_by("pk").values()),
        list(Registration.objects.order_by("pk").values()),
        Notification.objects.count(),
    )

    for url in [*_urls(event, session), *_urls(draft, draft_session)]:
        data = {
            **event_post_data(event, title="Hijacked"),
            **session_post_data(session, title="Hijacked", capacity="0"),
        }
        response = getattr(client, method)(url, data if method == "post" else None)
        assert response.status_code == 404, url

    after = (
        list(Event.objects.order_by("pk").values()),
        list(Session.objects.order_by("pk").values()),
        list(Registration.objects.order_by("pk").values()),
        Notification.objects.count(),
    )
    assert after == before


def test_signed_out_visitors_are_sent_to_sign_in(client, event):
    session = SessionFactory(event=event)
    for url in _urls(event, session):
        response = client.post(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")
    assert Session.objects.get(pk=session.pk).status == Session.Status.SCHEDULED


# A new event -----------------------------------------------------------------------


def test_an_organiser_creates_a_draft_event_and_organises_it(
    signed_in, organiser, event
):
    response = signed_in.post(
        reverse("console:event_new"),
        {
            "title": "Volunteer Day",
            "slug": "volunteer-day",
            "timezone": "America/New_York",
            "starts_on": "2026-09-01",
            "ends_on": "2026-09-01",
            "registration_opens_at": "2026-08-01T08:00",
            "reminder_offsets": "",
        },
    )
    assert response.status_code == 302
    created = Event.objects.get(slug="volunteer-day")
    assert response.url == reverse("console:event_edit", args=["volunteer-day"])
    assert created.status == Event.Status.DRAFT
    assert list(created.organisers.all()) == [organiser]
    assert created.reminder_offsets == []
    assert created.registration_opens_at == dt.datetime(
        2026, 8, 1, 12, 0, tzinfo=dt.UTC
    )


@pytest.mark.parametrize("slug", ["new", "week-taken"])
def test_a_taken_or_reserved_address_is_refused(signed_in, event, slug):
    EventFactory(slug="week-taken")
    response = signed_in.post(
        reverse("console:event_new"),
        {
            "title": "Volunteer Day",
            "slug": slug,
            "timezone": "Asia/Shanghai",
            "starts_on": "2026-09-01",
            "ends_on": "2026-09-01",
        },
    )
    assert response.status_code == 200
    assert "slug" in response.context["form"].errors
    assert not Event.objects.filter(title="Volunteer Day").exists()


def test_someone_who_organises_nothing_cannot_create_events(client, db):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse("console:event_new")).status_code == 403
    assert client.post(reverse("console:event_new"), {}).status_code == 403


# In a browser ----------------------------------------------------------------------


@pytest.mark.browser
def test_organiser_moves_a_session_in_chromium(
    live_server, transactional_db, chromium_path
):
    """Sign in, open the event's sessions, move one: the page confirms the new time
    and each registrant has a change notice in the outbox."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    organiser = UserFactory(username="organiser@example.org", is_staff=False)
    organiser.set_password(PASSWORD)
    organiser.save()
    event = EventFactory(
        organisers=[organiser],
        timezone="Asia/Shanghai",
        ends_on=timezone.localdate() + dt.timedelta(days=20),
    )
    zone = event.tzinfo
    starts = timezone.now().astimezone(zone).replace(
        hour=9, minute=0, second=0, microsecond=0
    ) + dt.timedelta(days=12)
    session = SessionFactory(
        event=event,
        title="督导讲师团聘任仪式",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        capacity=5,
    )
    register(session, "ann", "bo")
    new_start = starts + dt.timedelta(days=1, hours=5, minutes=30)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(
                locale="en-US", viewport={"width": 1280, "height": 900}
            )
            page.set_default_timeout(15_000)
            page.goto(live_server.url + "/accounts/login/")
            page.get_by_label("Email").fill("organiser@example.org")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/organise/**")

            page.goto(
                live_server.url + reverse("console:event_edit", args=[event.slug])
            )
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "Event and sessions"
            )
            page.get_by_role("link", name=f"Edit {session.title}").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text(session.title)
            expect(page.get_by_text("change notice")).to_be_visible()
            page.get_by_label("Starts").fill(new_start.strftime("%Y-%m-%dT%H:%M"))
            page.get_by_label("Ends").fill(
                (new_start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
            )
            page.get_by_role("button", name="Save the session").click()

            expect(page.get_by_role("status")).to_have_text(
                f"“{session.title}” is saved. "
                "2 registrants are being emailed the change."
            )
            row = page.locator(f"#session-{session.pk}")
            expect(row.get_by_test_id("session-when")).to_contain_text(
                new_start.strftime("%H:%M")
            )
            expect(row.locator("time").first).to_have_attribute(
                "datetime", new_start.isoformat()
            )
        finally:
            browser.close()

    session.refresh_from_db()
    assert session.starts_at == new_start
    assert notices("session_changed", session) == 2


def test_the_capacity_error_is_in_the_readers_language(client, organiser, event):
    """The service's refusal reaches a Chinese reader in Chinese."""
    session = SessionFactory(event=event, capacity=2)
    register(session, "ann", "bo")
    client.force_login(organiser)
    response = client.post(
        reverse("console:session_edit", args=[event.slug, session.pk]),
        session_post_data(session, capacity="1"),
        headers={"accept-language": "zh-hans"},
    )
    assert response.status_code == 200
    with translation.override("zh-hans"):
        expected = ngettext(
            "%(count)d registration is confirmed: the capacity cannot be lower.",
            "%(count)d registrations are confirmed: the capacity cannot be lower.",
            2,
        ) % {"count": 2}
    assert expected != "2 registrations are confirmed: the capacity cannot be lower."
    assert response.context["form"].errors["capacity"] == [expected]
    session.refresh_from_db()
    assert session.capacity == 2


def test_the_session_cancel_page_names_the_time_the_readers_way(signed_in, event):
    session = SessionFactory(event=event)
    url = reverse("console:session_cancel", args=[event.slug, session.pk])
    zh = signed_in.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    en = signed_in.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # The event is in New York: its zone, named the reader's way, after the time.
    assert re.search(r"\d（北美东部(标准|夏令)时间）", zh) and " （" not in zh
    assert re.search(r"\d \(Eastern (Standard|Daylight) Time\)", en)
