"""A registration writes down its ticket (calendar file, QR image); the worker draws it.

The request stores recipes in the outbox row; rendering draws them to the very bytes
the ticket had when it was drawn in the request (issue 11).
"""

import base64
import datetime as dt

import pytest
from django.utils import timezone
from icalendar import Calendar

from events import services
from events.notices import registration_calendar, ticket_qr_png
from notifications.delivery import attachments_drawn, render_message
from notifications.models import Notification

from .factories import EventFactory, SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def session():
    event = EventFactory(title="宁波社会工作宣传周", timezone="Asia/Shanghai")
    starts = timezone.now().replace(microsecond=0) + dt.timedelta(days=3)
    return SessionFactory(event=event, title="授牌仪式", capacity=1, starts_at=starts)


def _register(session, email: str):
    return services.registration_create(
        session=session,
        attendee=services.AttendeeData(full_name="陈佳萌", email=email),
    )


def _without_stamp(ics: str) -> str:
    return "\n".join(
        line for line in ics.splitlines() if not line.startswith("DTSTAMP")
    )


def test_the_confirmation_row_holds_recipes_and_renders_the_drawn_ticket(session):
    registration = _register(session, "chen@example.org")
    row = Notification.objects.get(kind="registration_confirmed")
    # Nothing drawn in the request: recipes only, a few hundred bytes.
    assert [a["draw"] for a in row.attachments] == ["calendar", "qr_png"]
    assert not any("content" in a or "content_base64" in a for a in row.attachments)

    message = render_message(row)
    parts = {p.get_filename(): p for p in message.message().walk() if p.get_filename()}
    png = parts[f"ticket-{registration.code}.png"].get_payload(decode=True)
    assert png == ticket_qr_png(registration.code)
    assert parts[f"ticket-{registration.code}.png"]["Content-ID"] == "<ticket-qr>"
    ics = parts["invite.ics"].get_payload(decode=True).decode()
    registration.refresh_from_db()
    assert _without_stamp(ics) == _without_stamp(
        registration_calendar(registration).decode()
    )
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert (
        event["UID"] == f"session-{session.pk}-registration-{registration.code}@podium"
    )
    # The stamp is the registration's moment, as when the request drew it.
    assert abs(event["DTSTAMP"].dt - registration.created_at) < dt.timedelta(minutes=1)
    # Whoever shows the row after rendering it (the console) sees the drawn image.
    drawn = next(a for a in row.attachments if a.get("content_id") == "ticket-qr")
    assert base64.b64decode(drawn["content_base64"]) == png


def test_an_unknown_recipe_is_refused():
    with pytest.raises(ValueError, match="unknown attachment recipe"):
        attachments_drawn([{"filename": "x", "mimetype": "x/y", "draw": "nope"}])


def test_drawn_attachments_pass_through(session):
    plain = [{"filename": "a.txt", "mimetype": "text/plain", "content": "hi"}]
    assert attachments_drawn(plain) == plain
    _register(session, "first@example.org")
    _register(session, "second@example.org")  # waitlisted: no ticket, nothing drawn
    waitlisted = Notification.objects.get(kind="registration_waitlisted")
    assert waitlisted.attachments == []
