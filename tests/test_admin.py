"""The admin as organisers use it: only their events, fill, CSV export, check-in."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from events import services
from events.models import Registration

from .factories import EventFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def organiser(client):
    mine = EventFactory(slug="mine", title="My week")
    EventFactory(slug="theirs", title="Their week")
    call_command("add_organiser", "org@example.org", "mine", stdout=io.StringIO())
    user = get_user_model().objects.get(email="org@example.org")
    client.force_login(user)
    return mine


def registrations(event, count=2):
    session = SessionFactory(event=event, capacity=1, title=f"Session of {event.slug}")
    return [
        services.registration_create(
            session=session,
            attendee=services.AttendeeData(
                full_name=f"陈佳萌 {n}", email=f"p{n}@example.org"
            ),
        )
        for n in range(count)
    ]


def test_organiser_sees_only_their_events(client, organiser) -> None:
    page = client.get("/admin/events/event/").content.decode()
    assert "My week" in page and "Their week" not in page
    other = EventFactory(slug="other")
    assert client.get(f"/admin/events/event/{other.pk}/change/").status_code == 302


def test_session_list_shows_the_fill(client, organiser) -> None:
    registrations(organiser, 3)
    page = client.get("/admin/events/session/").content.decode()
    assert "1 / 1" in page


def test_registration_search_and_scope(client, organiser) -> None:
    mine = registrations(organiser)
    theirs = registrations(EventFactory(slug="x"))
    page = client.get(
        "/admin/events/registration/", {"q": mine[0].code}
    ).content.decode()
    assert mine[0].code in page and mine[1].code not in page
    page = client.get("/admin/events/registration/").content.decode()
    assert theirs[0].code not in page


def test_check_in_action(client, organiser) -> None:
    confirmed, waitlisted = registrations(organiser)
    response = client.post(
        "/admin/events/registration/",
        {"action": "check_in", "_selected_action": [confirmed.pk, waitlisted.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert Registration.objects.get(pk=confirmed.pk).checked_in_at is not None
    assert Registration.objects.get(pk=waitlisted.pk).checked_in_at is None
    assert "not confirmed" in response.content.decode()


def test_csv_export_action(client, organiser) -> None:
    confirmed, waitlisted = registrations(organiser)
    response = client.post(
        "/admin/events/registration/",
        {"action": "export_csv", "_selected_action": [confirmed.pk, waitlisted.pk]},
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "陈佳萌 0" in text and "陈佳萌 1" in text
    assert ",waitlisted,1," in text


def test_superuser_sees_everything(client) -> None:
    EventFactory(title="Any week")
    client.force_login(UserFactory(is_superuser=True))
    assert "Any week" in client.get("/admin/events/event/").content.decode()
