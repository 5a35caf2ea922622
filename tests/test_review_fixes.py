"""Defects found in review: each test failed before its fix."""

import datetime as dt
import secrets
import threading
import time

import pytest
from django.db import connection, transaction
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from awards import services as award_services
from awards.models import Certificate
from events.models import Event, IdempotencyKey, PrivacyNotice, Registration
from events.services import (
    AttendeeData,
    event_update,
    person_erase,
    personal_data_expire,
    registration_cancel_by_organiser,
    registration_create,
    session_cancel,
    session_update,
)
from notifications.models import Notification
from notifications.services import notifications_deliver
from tests.factories import EventFactory, SessionFactory, UserFactory, VenueFactory
from tests.test_admin_invariants import add, change_form

pytestmark = pytest.mark.django_db


def register(session, name: str, email: str) -> Registration:
    return registration_create(
        session=session, attendee=AttendeeData(full_name=name, email=email)
    )


def api_client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}"
    )
    return client


@pytest.fixture
def organiser():
    return UserFactory(username="organiser@example.org", is_staff=False)


@pytest.fixture
def event(organiser):
    return EventFactory(slug="week", title="Publicity Week", organisers=[organiser])


@pytest.fixture
def talk(event):
    return SessionFactory(event=event, title="Kick-off", capacity=5)


@pytest.fixture
def signed_in(client, organiser):
    client.force_login(organiser)
    return client


def resend(client, event, row):
    return client.post(
        reverse("console:mail_resend", kwargs={"slug": event.slug, "pk": row.pk}),
        follow=True,
    )


def levels(response) -> list[str]:
    return [m.level_tag for m in response.context["messages"]]


def first_message(response) -> str:
    return str(next(iter(response.context["messages"])))


# 1. The console's "send again" keeps to what the mail is about.


def test_resending_a_cancelled_registrations_confirmation_is_refused(
    signed_in, event, talk
):
    """No new ticket for a registration that was cancelled since: an error, no row."""
    registration = register(talk, "Chen", "chen@example.org")
    row = Notification.objects.get(
        dedupe_key=f"registration_confirmed:{registration.pk}"
    )
    notifications_deliver(ids=[row.pk])
    registration_cancel_by_organiser(registration=registration)
    count = Notification.objects.count()

    response = resend(signed_in, event, row)

    assert levels(response) == ["error"]
    assert "cancelled" in first_message(response)
    assert Notification.objects.count() == count
    assert not Notification.objects.filter(
        kind="registration_confirmed", status=Notification.Status.PENDING
    ).exists()


def test_resending_a_waitlist_notice_after_promotion_sends_the_confirmation(
    signed_in, event
):
    """The email is rebuilt from the registration as it is now: a ticket."""
    small = SessionFactory(event=event, title="Small", capacity=1)
    first = register(small, "Chen", "chen@example.org")
    second = register(small, "Li", "li@example.org")
    row = Notification.objects.get(dedupe_key=f"registration_waitlisted:{second.pk}")
    notifications_deliver(ids=[row.pk])
    registration_cancel_by_organiser(registration=first)  # Li is promoted

    response = resend(signed_in, event, row)

    assert levels(response) == ["success"]
    copy = response.context["notification"]
    assert copy.kind == "registration_confirmed"
    assert copy.about_id == str(second.pk)
    assert copy.status == Notification.Status.PENDING


def test_resending_a_change_notice_of_a_cancelled_session_is_refused(
    signed_in, event, talk
):
    """A session that is off gets no "it moved" email again."""
    register(talk, "Chen", "chen@example.org")
    session_update(
        session=talk, data={"starts_at": talk.starts_at + dt.timedelta(hours=1)}
    )
    row = Notification.objects.get(kind="session_changed")
    notifications_deliver(ids=[row.pk])
    session_cancel(session=talk)
    count = Notification.objects.count()

    response = resend(signed_in, event, row)

    assert levels(response) == ["error"]
    assert Notification.objects.count() == count


def test_resending_a_revoked_certificates_announcement_is_refused(
    signed_in, organiser, event
):
    """A revoked award is not announced again; a valid one may be."""
    api = api_client_for(organiser)
    category = api.post(
        "/api/v1/events/week/award-categories/",
        {
            "name": "Demonstration base",
            "recipient_kind": "organisation",
            "certificate_prefix": "NBSW",
        },
        format="json",
    ).json()
    batch = api.post(
        f"/api/v1/award-categories/{category['id']}/batches/",
        {"number": 5, "title": "Fifth batch"},
        format="json",
    ).json()
    nomination = api.post(
        f"/api/v1/award-batches/{batch['id']}/nominations/",
        {
            "recipient": {
                "kind": "organisation",
                "name": "Wantou Community",
                "email": "wantou@example.org",
            },
            "citation": "Serves its residents.",
        },
        format="json",
    ).json()
    api.patch(
        f"/api/v1/nominations/{nomination['id']}/", {"status": "awarded"}, format="json"
    )
    api.post(f"/api/v1/award-batches/{batch['id']}/approve/")
    api.post(f"/api/v1/award-batches/{batch['id']}/announce/")
    row = Notification.objects.get(kind="award_announced")
    notifications_deliver(ids=[row.pk])
    row.refresh_from_db()
    assert row.status == Notification.Status.SENT

    assert levels(resend(signed_in, event, row)) == ["success"]
    award_services.certificate_revoke(
        certificate=Certificate.objects.get(), reason="Issued in error", actor=None
    )
    count = Notification.objects.count()

    response = resend(signed_in, event, row)

    assert levels(response) == ["error"]
    assert "revoked" in first_message(response)
    assert Notification.objects.count() == count


# 2. A new privacy notice gets a new version, whoever set it on the instance first.


@pytest.fixture
def operator(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    return client


def notice_versions(event) -> list[tuple[int, str]]:
    return list(
        PrivacyNotice.objects.filter(event=event)
        .order_by("version")
        .values_list("version", "text_en")
    )


def test_a_notice_changed_in_the_admin_gets_a_new_version(operator, event):
    """The admin's form sets the new text on the instance before the service runs."""
    event_update(event=event, data={"privacy_notice_en": "We keep your name."})
    url = f"/admin/events/event/{event.pk}/change/"
    data = change_form(operator, url)
    data["privacy_notice_en"] = ["We keep your name and phone."]
    data["_save"] = ["Save"]

    assert operator.post(url, data).status_code == 302

    event.refresh_from_db()
    assert event.privacy_notice_version == 2
    assert notice_versions(event) == [
        (1, "We keep your name."),
        (2, "We keep your name and phone."),
    ]


def test_event_update_compares_the_notice_with_the_stored_row(event):
    """A caller that set the new text on the instance still gets a new version."""
    event_update(event=event, data={"privacy_notice_en": "We keep your name."})
    stale = Event.objects.get(pk=event.pk)
    stale.privacy_notice_en = "We keep your email."

    event_update(event=stale, data={"privacy_notice_en": "We keep your email."})

    assert Event.objects.get(pk=event.pk).privacy_notice_version == 2
    assert notice_versions(event)[-1] == (2, "We keep your email.")


# 3. Each erased person gets an address of their own.


@pytest.fixture
def same_token(monkeypatch):
    """The random part of a placeholder comes out the same every time."""
    monkeypatch.setattr(secrets, "token_hex", lambda nbytes=None: "3f9a2c")


def test_erasing_two_people_of_one_session_gives_each_their_own_address(
    organiser, event, talk, same_token
):
    """Two active registrations never share a placeholder (no IntegrityError)."""
    chen, li = (
        register(talk, "Chen", "chen@example.org"),
        register(talk, "Li", "li@example.org"),
    )

    person_erase(event=event, email="chen@example.org", actor=organiser)
    person_erase(event=event, email="li@example.org", actor=organiser)

    chen.refresh_from_db()
    li.refresh_from_db()
    assert chen.erased_at and li.erased_at
    assert chen.email != li.email
    assert chen.status == li.status == Registration.Status.CONFIRMED


def test_the_retention_pass_gives_each_person_their_own_address(event, same_token):
    """People in different sessions are not merged, in one session not refused."""
    talk, walk = SessionFactory(event=event), SessionFactory(event=event)
    people = [
        register(talk, "Chen", "chen@example.org"),
        register(talk, "Li", "li@example.org"),
        register(walk, "Wang", "wang@example.org"),
    ]
    late = event.ends_on + dt.timedelta(days=event.retention_days + 2)

    assert personal_data_expire(today=late) == 3

    emails = set(
        Registration.objects.filter(pk__in=[r.pk for r in people]).values_list(
            "email", flat=True
        )
    )
    assert len(emails) == 3


# 4. An erased person's registration answer is no longer kept for replays.

KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"


def register_by_api(event, session, key: str = KEY):
    return APIClient().post(
        f"/api/v1/events/{event.slug}/registrations/",
        {
            "session": session.pk,
            "full_name": "陈佳萌",
            "email": "chen@example.org",
            "phone": "13800000000",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_a_retry_after_erasure_does_not_replay_the_erased_data(organiser, event, talk):
    """The kept 201 (name, email, phone, token) goes with the erasure; a retry with
    the same key and body is carried out afresh."""
    first = register_by_api(event, talk)
    assert first.status_code == 201, first.content
    old = first.json()
    assert IdempotencyKey.objects.filter(response_body__contains=old["token"]).exists()

    person_erase(event=event, email="chen@example.org", actor=organiser)

    assert not IdempotencyKey.objects.filter(
        response_body__contains=old["token"]
    ).exists()
    again = register_by_api(event, talk)
    assert again.status_code == 201, again.content
    assert "Idempotent-Replayed" not in again
    assert again.json()["code"] != old["code"]
    assert again.json()["token"] != old["token"]
    assert Registration.objects.get(code=old["code"]).erased_at is not None


def test_the_retention_pass_deletes_the_kept_answers_too(event, talk):
    """Only the answers about erased registrations go; others stay."""
    later = event.ends_on + dt.timedelta(days=400)
    other = EventFactory(slug="other-week", starts_on=later, ends_on=later)
    kept = register_by_api(other, SessionFactory(event=other), key="another-key")
    first = register_by_api(event, talk)
    late = event.ends_on + dt.timedelta(days=event.retention_days + 2)

    personal_data_expire(today=late)

    assert not IdempotencyKey.objects.filter(
        response_body__contains=first.json()["token"]
    ).exists()
    assert IdempotencyKey.objects.filter(
        response_body__contains=kept.json()["token"]
    ).exists()


# 5. The admin publishes through event_publish.


def publish_in_admin(client, *events):
    return client.post(
        "/admin/events/event/",
        {"action": "publish_events", "_selected_action": [e.pk for e in events]},
        follow=True,
    )


def test_the_admin_does_not_publish_a_cancelled_event_and_says_so(operator):
    """A cancelled event stays cancelled; the refusal is an error, the draft goes."""
    cancelled = EventFactory(status=Event.Status.CANCELLED, title="Called off")
    draft = EventFactory(status=Event.Status.DRAFT)

    response = publish_in_admin(operator, cancelled, draft)

    cancelled.refresh_from_db()
    draft.refresh_from_db()
    assert cancelled.status == Event.Status.CANCELLED
    assert draft.status == Event.Status.PUBLISHED
    shown = {(m.level_tag, str(m)) for m in response.context["messages"]}
    assert ("success", "1 event published.") in shown
    assert any(
        level == "error" and "Called off" in text and "cancelled" in text
        for level, text in shown
    )


@pytest.mark.django_db(transaction=True)
def test_an_event_cancelled_while_the_admin_publishes_stays_cancelled(client):
    """The action reads the draft, another transaction cancels it meanwhile: the
    row lock of event_publish sees the cancellation, a plain update did not."""
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    draft = EventFactory(status=Event.Status.DRAFT)
    locked = threading.Event()

    def cancel() -> None:
        try:
            with transaction.atomic():
                row = Event.objects.select_for_update().get(pk=draft.pk)
                row.status = Event.Status.CANCELLED
                row.save(update_fields=["status"])
                locked.set()
                time.sleep(1)  # the action reads the draft and waits on the row
        finally:
            connection.close()

    canceller = threading.Thread(target=cancel)
    canceller.start()
    assert locked.wait(10)
    publish_in_admin(client, draft)
    canceller.join()

    draft.refresh_from_db()
    assert draft.status == Event.Status.CANCELLED


# 6. A slug that names a console page is refused by every door.

EVENT_BODY = {
    "title": "Social Work Week 2031",
    "starts_on": "2031-03-01",
    "ends_on": "2031-03-03",
    "timezone": "Asia/Shanghai",
}


@pytest.mark.parametrize("slug", ["new", "NEW"])
def test_the_api_refuses_a_reserved_slug(organiser, slug):
    """400 invalid with errors.slug; no event is made."""
    from django.contrib.auth.models import Group

    organiser.groups.add(Group.objects.get_or_create(name="Organisers")[0])
    response = api_client_for(organiser).post(
        "/api/v1/events/", {**EVENT_BODY, "slug": slug}, format="json"
    )

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == ["slug"]
    assert "reserved" in body["errors"]["slug"][0]
    assert not Event.objects.filter(slug__iexact="new").exists()


def test_the_admin_refuses_a_reserved_slug(operator):
    """A form error on the slug, not a 500 and not an event."""
    venue = VenueFactory()
    response = add(
        operator,
        "/admin/events/event/add/",
        slug="new",
        title_en="Social Work Week 2031",  # the admin edits each language
        starts_on="2031-03-01",
        ends_on="2031-03-03",
        venue=venue.pk,
        timezone="Asia/Shanghai",
        reminder_offsets="[1440]",
    )

    assert response.status_code == 200
    assert "reserved" in str(response.context["adminform"].form.errors["slug"])
    assert not Event.objects.filter(slug="new").exists()


def test_the_service_refuses_a_reserved_slug(organiser):
    """Whoever calls event_create, the slug is checked there."""
    from django.core.exceptions import ValidationError

    from events.services import event_create

    with pytest.raises(ValidationError) as refusal:
        event_create(
            data={
                **EVENT_BODY,
                "slug": "new",
                "starts_on": dt.date(2031, 3, 1),
                "ends_on": dt.date(2031, 3, 3),
            },
            organiser=organiser,
        )
    assert list(refusal.value.message_dict) == ["slug"]
