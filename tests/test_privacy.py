"""Consent to an event's privacy notice, one person's data exported or erased, and
personal data anonymised once the event's retention period is over."""

import datetime as dt
import json

import pytest
from django.conf import settings
from django.utils import timezone, translation

from awards.models import Recipient
from events.models import (
    Attendee,
    Event,
    PersonalDataErasure,
    PrivacyNotice,
    Registration,
    Session,
)
from events.selectors import event_registration_counts
from events.services import (
    AttendeeData,
    event_update,
    person_erase,
    registration_create,
    session_update,
)
from events.tasks import anonymise_expired_personal_data
from notifications.models import Notification
from notifications.services import notifications_dispatch
from tests.console_walk import build_world
from tests.factories import EventFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db

NOTICE_EN = "Podium keeps your name and email to run the event, for 180 days."
NOTICE_ZH = "我们保存您的姓名和邮箱用于组织活动,保存180天。"
CONSENT_REQUIRED = "Agree to the privacy notice to register."


@pytest.fixture
def organiser():
    user = UserFactory(username="organiser@example.org", is_staff=False)
    user.set_password("organiser-pw")
    user.save()
    return user


@pytest.fixture
def event(organiser) -> Event:
    event = EventFactory(slug="week", title="Publicity Week", organisers=[organiser])
    return event_update(
        event=event,
        data={"privacy_notice_en": NOTICE_EN, "privacy_notice_zh_hans": NOTICE_ZH},
    )


@pytest.fixture
def talk(event) -> Session:
    return SessionFactory(event=event, title="Kick-off", capacity=3)


def person(email: str = "chen@example.org", **extra) -> AttendeeData:
    return AttendeeData(
        full_name="陈佳萌",
        email=email,
        phone="+86 574 5555 0101",
        organisation="Haishu Social Work Centre",
        consent=True,
        **extra,
    )


def page_form(session: Session, **extra) -> dict:
    return {
        "session": session.pk,
        "full_name": "陈佳萌",
        "email": "chen@example.org",
        "phone": "",
        "organisation": "",
        **extra,
    }


def api_body(session: Session, **extra) -> dict:
    return {
        "session": session.pk,
        "full_name": "Chen Jiameng",
        "email": "chen@example.org",
        **extra,
    }


# Consent


def test_the_registration_page_shows_the_notice_in_the_readers_language(
    client, event, talk
) -> None:
    english = client.get(f"/events/{event.slug}/register/").content.decode()
    assert NOTICE_EN in english and NOTICE_ZH not in english
    assert 'name="consent"' in english
    chinese = client.get(
        f"/events/{event.slug}/register/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"
    ).content.decode()
    assert NOTICE_ZH in chinese and NOTICE_EN not in chinese
    # An empty text falls back to the other language's.
    event_update(event=event, data={"privacy_notice_zh_hans": ""})
    fallback = client.get(
        f"/events/{event.slug}/register/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"
    ).content.decode()
    assert NOTICE_EN in fallback and 'name="consent"' in fallback


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_page_refuses_a_registration_without_consent(
    client, event, talk, language
) -> None:
    """No box ticked, no registration: a form error by the box, in the reader's
    language, and nothing stored or emailed."""
    response = client.post(
        f"/events/{event.slug}/register/",
        page_form(talk),
        HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9" if language == "zh-hans" else "en",
    )
    assert response.status_code == 400
    html = response.content.decode()
    with translation.override(language):
        expected = translation.gettext(CONSENT_REQUIRED)
    assert f'id="id_consent_error">{expected}</span>' in html
    assert f'<html lang="{language}"' in html
    assert not Registration.objects.exists()
    assert not Notification.objects.exists()


def test_the_page_records_consent_time_and_version(client, event, talk) -> None:
    before = timezone.now()
    response = client.post(
        f"/events/{event.slug}/register/",
        page_form(talk, consent="on", consent_version=event.privacy_notice_version),
    )
    assert response.status_code == 302
    registration = Registration.objects.get()
    assert registration.consent_version == event.privacy_notice_version == 1
    assert before <= registration.consent_at <= timezone.now()


def test_the_page_refuses_consent_to_a_notice_changed_meanwhile(
    client, event, talk
) -> None:
    shown = event.privacy_notice_version
    event_update(event=event, data={"privacy_notice_en": NOTICE_EN + " Updated."})
    response = client.post(
        f"/events/{event.slug}/register/",
        page_form(talk, consent="on", consent_version=shown),
    )
    assert response.status_code == 400
    assert "The privacy notice has changed" in response.content.decode()
    assert NOTICE_EN + " Updated." in response.content.decode()
    assert not Registration.objects.exists()


@pytest.mark.parametrize("consent", [None, False, "false"])
def test_the_api_refuses_a_registration_without_consent(
    api, event, talk, consent
) -> None:
    body = api_body(talk) if consent is None else api_body(talk, consent=consent)
    response = api.post(
        f"/api/v1/events/{event.slug}/registrations/", body, format="json"
    )
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "invalid"
    assert problem["errors"] == {"consent": [CONSENT_REQUIRED]}
    assert not Registration.objects.exists()
    assert not Notification.objects.exists()


def test_the_api_records_consent_and_shows_the_notice(api, event, talk) -> None:
    detail = api.get(f"/api/v1/events/{event.slug}/").json()
    assert detail["privacy_notice_en"] == NOTICE_EN
    assert detail["privacy_notice_zh_hans"] == NOTICE_ZH
    assert detail["privacy_notice_version"] == 1
    assert detail["retention_days"] == 180
    response = api.post(
        f"/api/v1/events/{event.slug}/registrations/",
        api_body(talk, consent=True),
        format="json",
    )
    assert response.status_code == 201, response.json()
    registration = Registration.objects.get(code=response.json()["code"])
    assert registration.consent_version == 1
    assert registration.consent_at is not None


def test_an_event_without_a_notice_registers_as_before(api, organiser) -> None:
    event = EventFactory(organisers=[organiser])
    session = SessionFactory(event=event)
    assert event.privacy_notice_version == 0
    response = api.post(
        f"/api/v1/events/{event.slug}/registrations/", api_body(session), format="json"
    )
    assert response.status_code == 201
    registration = Registration.objects.get()
    assert registration.consent_at is None and registration.consent_version is None


def test_a_changed_notice_is_a_new_version_and_old_registrations_keep_theirs(
    event, talk
) -> None:
    first = registration_create(session=talk, attendee=person())
    event_update(event=event, data={"privacy_notice_en": NOTICE_EN})  # unchanged
    assert event.privacy_notice_version == 1
    event_update(event=event, data={"privacy_notice_en": "Kept for 90 days."})
    assert event.privacy_notice_version == 2
    second = registration_create(session=talk, attendee=person("li@example.org"))
    first.refresh_from_db()
    assert (first.consent_version, second.consent_version) == (1, 2)
    texts = {
        n.version: (n.text_zh_hans, n.text_en)
        for n in PrivacyNotice.objects.filter(event=event)
    }
    assert texts == {1: (NOTICE_ZH, NOTICE_EN), 2: (NOTICE_ZH, "Kept for 90 days.")}
    # Emptied, the event asks for no consent; written again, it is version 3.
    event_update(
        event=event, data={"privacy_notice_en": "", "privacy_notice_zh_hans": ""}
    )
    assert not event.has_privacy_notice
    event_update(event=event, data={"privacy_notice_en": "Back."})
    assert event.privacy_notice_version == 3


def test_the_console_edits_the_notice_and_the_retention(
    client, organiser, event
) -> None:
    client.force_login(organiser)
    page = client.get(f"/organise/{event.slug}/edit/").content.decode()
    assert 'name="privacy_notice_zh_hans"' in page and 'name="retention_days"' in page
    assert f"/organise/{event.slug}/people/" in page
    form = {
        "title": event.title,
        "description": "",
        "timezone": event.timezone,
        "starts_on": event.starts_on.isoformat(),
        "ends_on": event.ends_on.isoformat(),
        "venue_name": event.venue.name,
        "venue_address": event.venue.address,
        "registration_opens_at": "",
        "registration_closes_at": "",
        "reminder_offsets": "1440, 120",
        "privacy_notice_zh_hans": NOTICE_ZH,
        "privacy_notice_en": "A new English notice.",
        "retention_days": "30",
    }
    response = client.post(f"/organise/{event.slug}/edit/", form)
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.privacy_notice_en == "A new English notice."
    assert (event.privacy_notice_version, event.retention_days) == (2, 30)
    response = client.post(
        f"/organise/{event.slug}/edit/", {**form, "retention_days": "-1"}
    )
    assert response.status_code == 200
    assert 'id="id_retention_days_error"' in response.content.decode()


# Export


def test_the_export_holds_this_events_data_of_the_person_only(
    client, organiser, event, talk
) -> None:
    other_event = EventFactory(title="Another Week")
    other_talk = SessionFactory(event=other_event, title="Elsewhere")
    registration = registration_create(session=talk, attendee=person())
    registration_create(session=other_talk, attendee=person("CHEN@example.org"))
    registration_create(session=talk, attendee=person("li@example.org"))
    Registration.objects.filter(pk=registration.pk).update(checked_in_at=timezone.now())
    client.force_login(organiser)
    response = client.post(
        f"/organise/{event.slug}/people/export/", {"email": "Chen@Example.org"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment;" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["email"] == "chen@example.org"
    assert [r["code"] for r in data["registrations"]] == [registration.code]
    exported = data["registrations"][0]
    assert exported["phone"] == "+86 574 5555 0101"
    assert exported["organisation"] == "Haishu Social Work Centre"
    assert exported["session"]["title"] == "Kick-off"
    assert data["consents"][0]["privacy_notice_version"] == 1
    assert data["consents"][0]["privacy_notice"]["en"] == NOTICE_EN
    assert data["check_ins"][0]["registration"] == registration.code
    assert [m["kind"] for m in data["emails"]] == ["registration_confirmed"]
    assert data["emails"][0]["recipient"] == "chen@example.org"
    assert data["unsubscribed_from_reminders"] is None
    text = response.content.decode()
    assert "Elsewhere" not in text and "li@example.org" not in text


def test_the_people_page_looks_an_address_up(client, organiser, event, talk) -> None:
    registration = registration_create(session=talk, attendee=person())
    client.force_login(organiser)
    assert client.get(f"/organise/{event.slug}/people/").status_code == 200
    response = client.post(
        f"/organise/{event.slug}/people/", {"email": "chen@example.org"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert registration.code in html and "Erase their data" in html
    bad = client.post(f"/organise/{event.slug}/people/", {"email": "not an address"})
    assert bad.status_code == 400
    assert 'id="id_email_error"' in bad.content.decode()


# Erasure


def _counts(api, organiser, event, talk) -> tuple:
    talk.refresh_from_db()
    api.force_authenticate(organiser)
    listed = api.get(f"/api/v1/events/{event.slug}/registrations/").json()["count"]
    return (talk.seats_taken, event_registration_counts(event=event), listed)


def _dashboard(client, event) -> dict:
    """The dashboard's numbers, but for its clock and the mail (which changes)."""
    stats = client.get(f"/organise/{event.slug}/stats.json").json()
    return {
        k: v
        for k, v in stats.items()
        if k not in {"updated_at", "updated_label", "mail"}
    }


def test_erasure_keeps_the_counts_replaces_the_data_and_stops_the_mail(
    client, api, organiser, event, talk
) -> None:
    erased = registration_create(session=talk, attendee=person())
    kept = registration_create(session=talk, attendee=person("li@example.org"))
    registration_create(session=talk, attendee=person("wang@example.org"))
    Registration.objects.filter(pk=erased.pk).update(checked_in_at=timezone.now())
    before = _counts(api, organiser, event, talk)
    client.force_login(organiser)
    dashboard_before = _dashboard(client, event)

    confirm = client.post(
        f"/organise/{event.slug}/people/erase/", {"email": "chen@example.org"}
    )
    assert confirm.status_code == 200
    assert "What will happen" in confirm.content.decode()
    assert Registration.objects.get(pk=erased.pk).erased_at is None
    response = client.post(
        f"/organise/{event.slug}/people/erase/",
        {"email": "chen@example.org", "confirm": "erase"},
        follow=True,
    )
    assert response.status_code == 200
    assert "The personal data is erased" in response.content.decode()

    erased.refresh_from_db()
    assert erased.full_name.startswith("Erased ")
    assert erased.email.endswith("@erased.invalid")
    assert (erased.phone, erased.organisation) == ("", "")
    assert erased.status == Registration.Status.CONFIRMED
    assert erased.checked_in_at is not None and erased.consent_version == 1
    attendee = Attendee.objects.get(pk=erased.attendee_id)
    assert attendee.email.endswith("@erased.invalid") and attendee.phone == ""
    assert not Attendee.objects.filter(email="chen@example.org").exists()
    assert _counts(api, organiser, event, talk) == before
    assert _dashboard(client, event) == dashboard_before

    # The queued confirmation is cancelled and forgets whom it was for.
    mail = Notification.objects.get(about_id=str(erased.pk))
    assert mail.status == Notification.Status.CANCELLED
    assert mail.recipient == erased.email
    assert "full_name" not in mail.context and "manage_url" not in mail.context
    assert not Notification.objects.filter(recipient__iexact="chen@example.org")

    # Nothing more: no reminder is planned for them, no change notice is written.
    session_update(session=talk, data={"title": "Kick-off, renamed"})
    queued: list[list[int]] = []
    notifications_dispatch(
        now=talk.starts_at - dt.timedelta(minutes=100), queue=queued.append
    )
    reminders = Notification.objects.filter(kind="session_reminder")
    assert reminders.filter(about_id=str(kept.pk)).exists()
    assert not reminders.filter(about_id=str(erased.pk)).exists()
    assert not Notification.objects.filter(
        about_id=str(erased.pk), kind="session_changed"
    ).exists()
    queued_ids = {i for batch in queued for i in batch}
    assert not Notification.objects.filter(
        pk__in=queued_ids, about_id=str(erased.pk)
    ).exists()
    assert not Notification.objects.filter(
        about_id=str(erased.pk), status=Notification.Status.PENDING
    ).exists()

    # The audit record says who and how much, not whose.
    erasure = PersonalDataErasure.objects.get()
    assert (erasure.event, erasure.actor, erasure.registrations) == (
        event,
        organiser,
        1,
    )
    assert erasure.label == erased.full_name
    assert erasure.notifications_cancelled == 1
    assert "chen" not in json.dumps(
        list(PersonalDataErasure.objects.values()), default=str
    )
    # Erasing again erases nothing more.
    assert person_erase(event=event, email="chen@example.org", actor=organiser) is None


def test_erasure_leaves_the_persons_other_events_alone(event, talk) -> None:
    other_talk = SessionFactory(event=EventFactory(), title="Elsewhere")
    here = registration_create(session=talk, attendee=person())
    there = registration_create(session=other_talk, attendee=person())
    person_erase(event=event, email="chen@example.org", actor=None)
    here.refresh_from_db()
    there.refresh_from_db()
    assert here.email.endswith("@erased.invalid")
    assert there.email == "chen@example.org" and there.phone == "+86 574 5555 0101"
    assert there.attendee.email == "chen@example.org"
    assert here.attendee_id != there.attendee_id
    assert here.attendee.email.endswith("@erased.invalid")


# Retention


def _ended(event: Event, days_ago: int) -> None:
    ends_on = timezone.localdate() - dt.timedelta(days=days_ago)
    Event.objects.filter(pk=event.pk).update(
        starts_on=ends_on - dt.timedelta(days=1), ends_on=ends_on
    )


def test_retention_anonymises_only_what_is_past_due_and_runs_once() -> None:
    past_due, within, upcoming = (
        build_world("p"),
        build_world("w"),
        build_world("u"),
    )
    _ended(past_due.event, 181)  # kept 180 days after its last day: over
    _ended(within.event, 180)  # its last day of keeping is today
    honour_roll = list(Recipient.objects.order_by("pk").values_list("name", "email"))

    def state(world) -> tuple:
        return (
            tuple(
                Registration.objects.filter(session__event=world.event)
                .order_by("pk")
                .values_list("status", "checked_in_at", "reserved")
            ),
            event_registration_counts(event=world.event),
            Session.objects.get(pk=world.session.pk).seats_taken,
        )

    counts = state(past_due)
    assert anonymise_expired_personal_data.apply().get() == 2
    assert state(past_due) == counts
    names = set(
        Registration.objects.filter(session__event=past_due.event).values_list(
            "full_name", flat=True
        )
    )
    assert all(name.startswith("Erased ") for name in names) and len(names) == 2
    for world in (within, upcoming):
        assert not Registration.objects.filter(
            session__event=world.event, erased_at__isnull=False
        ).exists()
        assert Registration.objects.filter(email=world.registration.email).exists()
    assert list(Recipient.objects.order_by("pk").values_list("name", "email")) == (
        honour_roll
    )
    assert (
        PersonalDataErasure.objects.get().reason == PersonalDataErasure.Reason.RETENTION
    )

    # A second run finds nothing left to do.
    assert anonymise_expired_personal_data.apply().get() == 0
    assert PersonalDataErasure.objects.count() == 1
    assert state(past_due) == counts


def test_the_retention_task_is_scheduled_daily() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["anonymise-expired-personal-data"]
    assert entry["task"] == "events.tasks.anonymise_expired_personal_data"
    assert entry["schedule"] == 24 * 3600


# Scoping


def test_another_organiser_gets_404_on_every_people_url(client, event, talk) -> None:
    registration_create(session=talk, attendee=person())
    client.force_login(UserFactory(is_staff=False))
    for path in ("people/", "people/export/", "people/erase/"):
        url = f"/organise/{event.slug}/{path}"
        assert client.get(url).status_code == 404
        response = client.post(url, {"email": "chen@example.org", "confirm": "erase"})
        assert response.status_code == 404
    assert not Registration.objects.filter(erased_at__isnull=False).exists()


def test_answers_are_in_the_export_and_emptied_by_erasure(
    client, organiser, event, talk
) -> None:
    from events.models import Answer, Question

    question = Question.objects.create(
        event=event,
        kind=Question.Kind.SHORT_TEXT,
        label_en="Dietary needs",
        label_zh_hans="饮食需求",
    )
    registration = registration_create(
        session=talk, attendee=person(), answers={str(question.pk): "No peanuts"}
    )
    client.force_login(organiser)
    data = json.loads(
        client.post(
            f"/organise/{event.slug}/people/export/", {"email": "chen@example.org"}
        ).content
    )
    (answer,) = data["registrations"][0]["answers"]
    assert (answer["label_en"], answer["value"]) == ("Dietary needs", "No peanuts")
    person_erase(event=event, email="chen@example.org", actor=organiser)
    kept = Answer.objects.get(registration=registration)
    assert kept.value is None and kept.label_en == "Dietary needs"


def test_the_api_writes_the_notice_and_the_retention(api, organiser, event) -> None:
    api.force_authenticate(organiser)
    response = api.patch(
        f"/api/v1/events/{event.slug}/",
        {"privacy_notice_en": "Kept for 30 days.", "retention_days": 30},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["privacy_notice_version"], body["retention_days"]) == (2, 30)
    assert body["privacy_notice_zh_hans"] == NOTICE_ZH
    refused = api.patch(
        f"/api/v1/events/{event.slug}/",
        {"privacy_notice_version": 9, "retention_days": -1},
        format="json",
    )
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["retention_days"]
    event.refresh_from_db()
    assert event.privacy_notice_version == 2


def test_erasing_a_waiting_person_gives_up_their_place_on_the_list(event) -> None:
    """Nobody could be promoted into an erased place and come: it is given up, and
    the next person moves up; a seat someone holds stays taken."""
    from events.selectors import registration_waitlist_position
    from events.services import registration_cancel_by_organiser

    session = SessionFactory(event=event, capacity=1)
    seated = registration_create(session=session, attendee=person("seated@example.org"))
    erased = registration_create(session=session, attendee=person("li@example.org"))
    next_one = registration_create(session=session, attendee=person("wu@example.org"))
    assert registration_waitlist_position(next_one) == 2
    person_erase(event=event, email="li@example.org", actor=None)
    erased.refresh_from_db()
    assert erased.status == "cancelled" and erased.erased_at is not None
    next_one.refresh_from_db()
    assert registration_waitlist_position(next_one) == 1
    registration_cancel_by_organiser(registration=seated)
    next_one.refresh_from_db()
    assert next_one.status == "confirmed"
    session.refresh_from_db()
    assert session.seats_taken == 1
