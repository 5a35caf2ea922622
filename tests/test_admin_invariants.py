"""The admin cannot break an invariant, even for an operator (issue 7's admin findings).

Each test drives the admin as a browser would: it reads the change form from the
page, changes what an operator would change and posts it back.
"""

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from awards import services as award_services
from awards.models import AuditEntry, AwardBatch, AwardCategory
from events import services
from events.models import Registration, Session
from notifications.models import Notification

from .factories import EventFactory, SessionFactory, UserFactory, VenueFactory

pytestmark = pytest.mark.django_db


class _FormReader(HTMLParser):
    """The values a browser would post from the page's ``<model>_form``."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._in_form = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "form" and (a.get("id") or "").endswith("_form"):
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in {"submit", "button", "file"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            default = "on" if kind in {"checkbox", "radio"} else ""
            self.data.setdefault(name, []).append(a.get("value") or default)
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea][0] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def change_form(client, url: str) -> dict[str, list[str]]:
    """The change form at ``url`` as its page would submit it, unchanged."""
    response = client.get(url)
    assert response.status_code == 200
    reader = _FormReader()
    reader.feed(response.content.decode())
    return reader.data


def add(client, url: str, **values: object):
    """Fills the add form at ``url`` with ``values`` and saves it."""
    data = change_form(client, url)
    data.update({name: [str(value)] for name, value in values.items()})
    data["_save"] = ["Save"]
    return client.post(url, data)


def register(session: Session, n: int | str) -> Registration:
    return services.registration_create(
        session=session,
        attendee=services.AttendeeData(
            full_name=f"Person {n}", email=f"person{n}@example.org"
        ),
    )


def guest(session: Session, n: int | str) -> Registration:
    registration = services.registration_reserve(
        session=session,
        attendee=services.AttendeeData(
            full_name=f"Guest {n}", email=f"guest{n}@example.org"
        ),
    )
    assert registration is not None
    return registration


def public_confirmed(session: Session) -> int:
    return Registration.objects.filter(
        session=session, status="confirmed", reserved=False
    ).count()


@pytest.fixture
def operator(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    return client


def test_reserved_is_read_only_so_cancelling_a_guest_cannot_overbook(operator) -> None:
    """Unticking ``reserved`` is refused, so a cancelled guest frees no public seat."""
    session = SessionFactory(capacity=2)
    register(session, 1)
    register(session, 2)
    seated_guest = guest(session, 1)
    url = f"/admin/events/registration/{seated_guest.pk}/change/"

    data = change_form(operator, url)
    data.pop("reserved", None)
    data["_save"] = ["Save"]
    operator.post(url, data)

    seated_guest.refresh_from_db()
    assert seated_guest.reserved, "the admin changed a registration's reserved seat"
    operator.post(
        "/admin/events/registration/",
        {
            "action": "cancel_registrations",
            "_selected_action": [seated_guest.pk],
            "confirm": "yes",
        },
    )
    assert Registration.objects.get(pk=seated_guest.pk).status == "cancelled"
    third = register(session, 3)
    session.refresh_from_db()
    assert third.status == "waitlisted"
    assert public_confirmed(session) == session.seats_taken == 2


def test_a_registration_cannot_be_deleted(operator) -> None:
    """Deleting would leave a phantom taken seat and promote nobody: it is refused."""
    session = SessionFactory(capacity=1)
    confirmed = register(session, 1)
    waiting = register(session, 2)

    response = operator.post(
        f"/admin/events/registration/{confirmed.pk}/delete/", {"post": "yes"}
    )
    operator.post(
        "/admin/events/registration/",
        {
            "action": "delete_selected",
            "_selected_action": [confirmed.pk],
            "post": "yes",
        },
    )

    assert Registration.objects.filter(pk=confirmed.pk, status="confirmed").exists()
    session.refresh_from_db()
    assert session.seats_taken == 1
    assert Registration.objects.get(pk=waiting.pk).status == "waitlisted"
    assert response.status_code == 403


def test_a_session_cannot_be_deleted(operator) -> None:
    """Deleting a session would drop its registrations without a word: refused."""
    session = SessionFactory(capacity=2)
    register(session, 1)

    response = operator.post(
        f"/admin/events/session/{session.pk}/delete/", {"post": "yes"}
    )
    operator.post(
        "/admin/events/session/",
        {"action": "delete_selected", "_selected_action": [session.pk], "post": "yes"},
    )

    assert Session.objects.filter(pk=session.pk, seats_taken=1).exists()
    assert Registration.objects.filter(session=session, status="confirmed").count() == 1
    assert response.status_code == 403


def test_the_event_page_cannot_cancel_a_session_without_telling_anyone(
    operator,
) -> None:
    """The event's session rows are read-only: no silent cancel from the inline."""
    session = SessionFactory(capacity=2)
    first = register(session, 1)
    url = f"/admin/events/event/{session.event.pk}/change/"

    data = change_form(operator, url)
    data["sessions-0-status"] = ["cancelled"]
    data["_save"] = ["Save"]
    operator.post(url, data)

    session.refresh_from_db()
    first.refresh_from_db()
    assert session.status == "scheduled", (
        "a session was cancelled outside session_cancel"
    )
    assert first.status == "confirmed"
    assert not Notification.objects.filter(kind="session_cancelled").exists()


def test_cancelling_a_session_confirms_first_then_cancels_and_tells_everyone(
    operator,
) -> None:
    """The cancel action says what will happen, then cancels through session_cancel."""
    session = SessionFactory(capacity=1, title="Lecturer Group appointment")
    confirmed = register(session, 1)
    waiting = register(session, 2)
    action = {"action": "cancel_sessions", "_selected_action": [session.pk]}

    page = operator.post("/admin/events/session/", action)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Lecturer Group appointment" in text and "2 active registrations" in text
    assert Session.objects.get(pk=session.pk).status == "scheduled"

    operator.post("/admin/events/session/", {**action, "confirm": "yes"})

    session.refresh_from_db()
    assert session.status == "cancelled" and session.seats_taken == 0
    assert {
        r.status for r in Registration.objects.filter(pk__in=[confirmed.pk, waiting.pk])
    } == {"cancelled"}
    told = set(
        Notification.objects.filter(kind="session_cancelled").values_list(
            "recipient", flat=True
        )
    )
    assert told == {confirmed.email, waiting.email}


def test_capacity_below_confirmed_is_a_form_error_and_changes_nothing(
    operator,
) -> None:
    session = SessionFactory(capacity=3)
    register(session, 1)
    register(session, 2)
    url = f"/admin/events/session/{session.pk}/change/"

    data = change_form(operator, url)
    data["capacity"] = ["1"]
    data["_save"] = ["Save"]
    response = operator.post(url, data)

    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert "2 registrations are confirmed" in response.content.decode()
    session.refresh_from_db()
    assert (session.capacity, session.seats_taken, session.sequence) == (3, 2, 0)


def test_a_capacity_increase_promotes_the_waiting_list(operator) -> None:
    session = SessionFactory(capacity=1)
    register(session, 1)
    waiting = register(session, 2)
    url = f"/admin/events/session/{session.pk}/change/"

    data = change_form(operator, url)
    data["capacity"] = ["2"]
    data["_save"] = ["Save"]
    assert operator.post(url, data).status_code == 302

    session.refresh_from_db()
    assert (session.capacity, session.seats_taken) == (2, 2)
    assert Registration.objects.get(pk=waiting.pk).status == "confirmed"
    assert Notification.objects.filter(
        kind="registration_promoted", recipient=waiting.email
    ).exists()


def test_a_new_time_tells_the_registrants(operator) -> None:
    session = SessionFactory(capacity=2)
    first = register(session, 1)
    url = f"/admin/events/session/{session.pk}/change/"
    later = timezone.localtime(session.starts_at + dt.timedelta(days=1))

    data = change_form(operator, url)
    data["starts_at_0"] = [later.strftime("%Y-%m-%d")]
    data["ends_at_0"] = [
        timezone.localtime(session.ends_at + dt.timedelta(days=1)).strftime("%Y-%m-%d")
    ]
    data["_save"] = ["Save"]
    assert operator.post(url, data).status_code == 302

    session.refresh_from_db()
    assert session.sequence == 1
    assert Notification.objects.filter(
        kind="session_changed", recipient=first.email
    ).exists()


def test_a_venue_in_use_cannot_be_edited(operator) -> None:
    """Its address is on public pages and tickets; a session moves on its own page."""
    venue = VenueFactory(name="Talents House", address="Old address")
    session = SessionFactory(venue=venue)
    register(session, 1)
    url = f"/admin/events/venue/{venue.pk}/change/"

    response = operator.post(
        url, {"name": "Talents House", "address": "New address", "_save": "Save"}
    )

    venue.refresh_from_db()
    assert venue.address == "Old address"
    assert response.status_code == 403


def test_moving_a_session_to_another_venue_tells_the_registrants(operator) -> None:
    session = SessionFactory(capacity=2, venue=VenueFactory(name="Talents House"))
    first = register(session, 1)
    elsewhere = VenueFactory(name="Jiangbei Library", address="Elsewhere")
    url = f"/admin/events/session/{session.pk}/change/"

    data = change_form(operator, url)
    data["venue"] = [str(elsewhere.pk)]
    data["_save"] = ["Save"]
    assert operator.post(url, data).status_code == 302

    session.refresh_from_db()
    assert session.venue == elsewhere and session.sequence == 1
    assert Notification.objects.filter(
        kind="session_changed", recipient=first.email
    ).exists()


def test_a_batch_ceremony_must_be_a_session_of_its_own_event(operator) -> None:
    """A batch of event A cannot seat its awardees in event B's session."""
    mine = EventFactory()
    theirs_ceremony = SessionFactory(title="Their ceremony")
    category = award_services.category_create(
        event=mine,
        data={"name": "Demonstration base", "recipient_kind": "organisation"},
        actor=None,
    )

    response = add(
        operator,
        "/admin/awards/awardbatch/add/",
        category=category.pk,
        number=4,
        title_en="Fourth batch",
        ceremony_session=theirs_ceremony.pk,
    )

    assert response.status_code == 200
    assert "must be a session of the category" in response.content.decode()
    assert not AwardBatch.objects.exists()


def test_categories_and_batches_are_created_through_the_audited_services(
    operator,
) -> None:
    event = EventFactory()
    ceremony = SessionFactory(event=event)
    add(
        operator,
        "/admin/awards/awardcategory/add/",
        event=event.pk,
        name_en="Demonstration base",
        recipient_kind="organisation",
    )
    category = AwardCategory.objects.get(event=event)
    add(
        operator,
        "/admin/awards/awardbatch/add/",
        category=category.pk,
        number=4,
        title_en="Fourth batch",
        ceremony_session=ceremony.pk,
    )
    batch = AwardBatch.objects.get(category=category)
    assert batch.ceremony_session == ceremony and batch.status == "draft"
    assert set(AuditEntry.objects.values_list("action", flat=True)) == {
        "category_created",
        "batch_created",
    }


def test_a_batch_cannot_be_changed_in_the_admin(operator) -> None:
    """No service edits a batch, and its status moves only through the workflow."""
    category = award_services.category_create(
        event=EventFactory(),
        data={"name": "Demonstration base", "recipient_kind": "organisation"},
        actor=None,
    )
    batch = award_services.batch_create(
        category=category, data={"number": 4, "title": "Fourth batch"}, actor=None
    )
    url = f"/admin/awards/awardbatch/{batch.pk}/change/"

    response = operator.post(
        url,
        {
            "category": category.pk,
            "number": 4,
            "title": "Renamed",
            "status": "announced",
            "_save": "Save",
        },
    )

    assert response.status_code == 403
    batch.refresh_from_db()
    assert (batch.title, batch.status) == ("Fourth batch", "draft")
