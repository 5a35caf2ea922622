"""The admin is for operators (superusers): organisers are refused; what it offers."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from awards.models import AwardCategory
from events import services
from events.models import Attendee, Event, Registration
from notifications.models import Notification

from .factories import EventFactory, SessionFactory, UserFactory, VenueFactory
from .test_admin_invariants import add, change_form

pytestmark = pytest.mark.django_db


def registrations(event, count=2):
    session = SessionFactory(event=event, capacity=1, title=f"Session of {event.slug}")
    return [
        services.registration_create(
            session=session,
            attendee=services.AttendeeData(
                full_name=f"陈佳萌 {n}",
                email=f"p{n}@example.org",
                phone=f"1380000000{n}",
            ),
        )
        for n in range(count)
    ]


@pytest.fixture
def operator(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    return client


@pytest.fixture
def organiser_client(client):
    """An organiser who is staff (as add_organiser made them before) but no superuser."""
    theirs = EventFactory(slug="theirs", title="Their week")
    registrations(theirs)
    organiser = UserFactory(is_staff=True, is_superuser=False)
    EventFactory(slug="mine", title="My week", organisers=[organiser])
    client.force_login(organiser)
    return client


def admin_urls() -> list[str]:
    event = Event.objects.get(slug="theirs")
    registration = Registration.objects.filter(session__event=event).first()
    assert registration is not None
    return [
        "/admin/",
        "/admin/events/event/",
        "/admin/events/event/add/",
        f"/admin/events/event/{event.pk}/change/",
        f"/admin/events/session/{registration.session_id}/change/",
        "/admin/events/registration/",
        f"/admin/events/registration/{registration.pk}/change/",
        f"/admin/events/venue/{event.venue_id}/change/",
        "/admin/events/attendee/?q=138",
        f"/admin/events/attendee/{registration.attendee_id}/change/",
        "/admin/awards/awardcategory/add/",
        "/admin/awards/awardbatch/add/",
        "/admin/notifications/notification/",
        "/admin/auth/user/",
    ]


def test_an_organiser_who_is_staff_is_refused_on_every_admin_page(
    organiser_client,
) -> None:
    """Staff without superuser: every admin page sends them to the admin's login."""
    for url in admin_urls():
        response = organiser_client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url


def test_an_organiser_cannot_create_in_another_event_through_the_admin(
    organiser_client,
) -> None:
    theirs = Event.objects.get(slug="theirs")
    response = organiser_client.post(
        "/admin/awards/awardcategory/add/",
        {"event": theirs.pk, "name": "Slipped in", "recipient_kind": "person"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert not AwardCategory.objects.exists()
    venue = theirs.venue
    organiser_client.post(
        f"/admin/events/venue/{venue.pk}/change/",
        {"name": venue.name, "address": "Somewhere else"},
    )
    venue.refresh_from_db()
    assert venue.address != "Somewhere else"


def test_the_admin_login_refuses_an_organiser(client) -> None:
    EventFactory(slug="week")
    call_command(
        "add_organiser",
        "org@example.org",
        "week",
        "--password",
        "a-long-enough-password",
        stdout=io.StringIO(),
    )
    response = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": "org@example.org",
            "password": "a-long-enough-password",
            "next": "/admin/",
        },
    )
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_the_admin_login_lets_an_operator_in(client) -> None:
    get_user_model().objects.create_superuser(
        "root@example.org", "root@example.org", "a-long-enough-password"
    )
    response = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": "root@example.org",
            "password": "a-long-enough-password",
            "next": "/admin/",
        },
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_operator_sees_every_event_and_the_fill(operator) -> None:
    registrations(EventFactory(title="Any week", slug="any"), 3)
    EventFactory(title="Other week")
    page = operator.get("/admin/events/event/").content.decode()
    assert "Any week" in page and "Other week" in page
    assert "1 / 1" in operator.get("/admin/events/session/").content.decode()


def test_registration_search(operator) -> None:
    mine = registrations(EventFactory(slug="a"))
    page = operator.get(
        "/admin/events/registration/", {"q": mine[0].code}
    ).content.decode()
    assert mine[0].code in page and mine[1].code not in page


def test_check_in_action(operator) -> None:
    confirmed, waitlisted = registrations(EventFactory())
    response = operator.post(
        "/admin/events/registration/",
        {"action": "check_in", "_selected_action": [confirmed.pk, waitlisted.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert Registration.objects.get(pk=confirmed.pk).checked_in_at is not None
    assert Registration.objects.get(pk=waitlisted.pk).checked_in_at is None
    assert "not confirmed" in response.content.decode()


def test_csv_export_action(operator) -> None:
    confirmed, waitlisted = registrations(EventFactory())
    response = operator.post(
        "/admin/events/registration/",
        {"action": "export_csv", "_selected_action": [confirmed.pk, waitlisted.pk]},
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "陈佳萌 0" in text and "陈佳萌 1" in text
    assert ",waitlisted,1," in text


def test_cancelling_registrations_confirms_then_tells_and_promotes(operator) -> None:
    """The cancel action goes through registration_cancel_by_organiser."""
    confirmed, waitlisted = registrations(EventFactory())
    action = {"action": "cancel_registrations", "_selected_action": [confirmed.pk]}

    page = operator.post("/admin/events/registration/", action)
    assert page.status_code == 200
    assert confirmed.code in page.content.decode()
    assert Registration.objects.get(pk=confirmed.pk).status == "confirmed"

    operator.post("/admin/events/registration/", {**action, "confirm": "yes"})

    assert Registration.objects.get(pk=confirmed.pk).status == "cancelled"
    assert Registration.objects.get(pk=waitlisted.pk).status == "confirmed"
    assert Notification.objects.filter(
        kind="registration_cancelled", recipient=confirmed.email
    ).exists()
    assert Notification.objects.filter(
        kind="registration_promoted", recipient=waitlisted.email
    ).exists()
    confirmed.session.refresh_from_db()
    assert confirmed.session.seats_taken == 1


def test_attendees_are_read_only(operator) -> None:
    (registration,) = registrations(EventFactory(), 1)
    attendee = registration.attendee
    url = f"/admin/events/attendee/{attendee.pk}/change/"
    assert operator.get(url).status_code == 200
    response = operator.post(
        url, {"email": attendee.email, "full_name": "Someone else", "_save": "Save"}
    )
    assert response.status_code == 403
    assert Attendee.objects.get(pk=attendee.pk).full_name == "陈佳萌 0"
    assert operator.get("/admin/events/attendee/add/").status_code == 403


def test_a_session_added_in_the_admin_goes_through_the_service(operator) -> None:
    event = EventFactory()
    response = operator.post(
        "/admin/events/session/add/",
        {
            "event": event.pk,
            # A field per language (django-modeltranslation's admin).
            "title_en": "Outstanding projects showcase",
            "title_zh_hans": "优秀项目展示",
            "description_en": "",
            "kind": "showcase",
            "starts_at_0": "2030-05-20",
            "starts_at_1": "09:00:00",
            "ends_at_0": "2030-05-20",
            "ends_at_1": "11:00:00",
            "capacity": "40",
            "waitlist_enabled": "on",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    session = event.sessions.get()
    assert (session.title, session.capacity, session.status) == (
        "Outstanding projects showcase",
        40,
        "scheduled",
    )


def test_publishing_an_event_from_the_admin(operator) -> None:
    draft = EventFactory(status=Event.Status.DRAFT)
    operator.post(
        "/admin/events/event/",
        {"action": "publish_events", "_selected_action": [draft.pk]},
    )
    draft.refresh_from_db()
    assert draft.status == Event.Status.PUBLISHED


def test_every_admin_page_opens_for_the_operator(operator) -> None:
    """Every list, add form and change (or view) page of the demo week answers."""
    from django.contrib import admin

    call_command("seed_demo", stdout=io.StringIO())
    for model in admin.site._registry:
        opts = model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}"
        assert operator.get(f"{base}/").status_code == 200, base
        assert operator.get(f"{base}/add/").status_code in {200, 403}, base
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            page = operator.get(f"{base}/{first.pk}/change/")
            assert page.status_code == 200, base


def test_an_event_is_added_and_changed_through_the_services(operator) -> None:
    """New events start as drafts; the slug of a saved event is read-only."""
    organiser = UserFactory(is_staff=False)
    venue = VenueFactory()
    response = add(
        operator,
        "/admin/events/event/add/",
        slug="week-2031",
        title_en="Social Work Week 2031",
        title_zh_hans="2031年社会工作周",
        starts_on="2031-03-01",
        ends_on="2031-03-03",
        venue=venue.pk,
        timezone="Asia/Shanghai",
        reminder_offsets="[1440]",
        organisers=organiser.pk,
    )
    assert response.status_code == 302, re.findall(
        r"errorlist[^>]*>(.*?)</ul>", response.content.decode(), re.S
    )
    event = Event.objects.get(slug="week-2031")
    assert event.status == Event.Status.DRAFT
    assert list(event.organisers.all()) == [organiser]

    url = f"/admin/events/event/{event.pk}/change/"
    data = change_form(operator, url)
    assert "slug" not in data
    data["title_en"] = ["Social Work Week 2031 (renamed)"]
    data["_save"] = ["Save"]
    assert operator.post(url, data).status_code == 302
    event.refresh_from_db()
    assert (event.title, event.slug) == ("Social Work Week 2031 (renamed)", "week-2031")
