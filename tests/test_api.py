"""Every events endpoint of API.md: its answers, status codes and error codes."""

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from events import services
from events.models import Event, Registration, Session

from .factories import EventFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"] and body["detail"]
    return body


@pytest.fixture
def organiser():
    """An organiser as ``add_organiser`` makes one: in the organisers' group."""
    from django.contrib.auth.models import Group

    user = UserFactory(is_staff=False)
    user.groups.add(Group.objects.get_or_create(name="Organisers")[0])
    return user


@pytest.fixture
def event(organiser):
    return EventFactory(organisers=[organiser], title="社会工作宣传周")


@pytest.fixture
def session(event):
    return SessionFactory(event=event, capacity=2)


@pytest.fixture
def staff_api(organiser) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=organiser).key}"
    )
    return client


@pytest.fixture
def stranger_api() -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=UserFactory()).key}"
    )
    return client


def register(
    api: APIClient,
    event: Event,
    session: Session,
    email: str = "chen@example.org",
    **extra,
):
    body = {"session": session.pk, "full_name": "陈佳萌", "email": email, **extra}
    return api.post(f"/api/v1/events/{event.slug}/registrations/", body, format="json")


# Public: events


def test_event_list_shows_published_events_only(api, event) -> None:
    EventFactory(status="draft")
    EventFactory(status="cancelled")
    response = api.get("/api/v1/events/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [e["slug"] for e in body["results"]] == [event.slug]
    assert body["results"][0]["reminder_offsets"] == [1440, 120]
    assert {k: body["results"][0]["venue"][k] for k in ("name", "address")} == {
        "name": "Ningbo Talents House",
        "address": "Jiangbei District, Ningbo",
    }
    assert "sessions" not in body["results"][0]


def test_event_list_query_count_does_not_grow(api, django_assert_num_queries) -> None:
    EventFactory.create_batch(5)
    with django_assert_num_queries(2):
        response = api.get("/api/v1/events/?page_size=200")
    assert response.json()["count"] == 5


def test_event_list_paginates(api) -> None:
    EventFactory.create_batch(3)
    body = api.get("/api/v1/events/?page_size=2").json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert api.get("/api/v1/events/?page=9").status_code == 404


def test_event_detail_has_sessions_with_seats_left(api, event, session) -> None:
    SessionFactory(
        event=event, capacity=None, starts_at=session.starts_at + dt.timedelta(hours=3)
    )
    register(api, event, session)
    body = api.get(f"/api/v1/events/{event.slug}/").json()
    assert body["title"] == "社会工作宣传周"
    first, unlimited = body["sessions"]
    assert first["id"] == session.pk
    assert first["capacity"] == 2 and first["seats_left"] == 1
    assert first["status"] == "scheduled" and first["waitlist_enabled"] is True
    assert unlimited["capacity"] is None and unlimited["seats_left"] is None
    assert first["starts_at"].endswith("+08:00")


def test_event_detail_of_a_draft_is_not_found(api) -> None:
    draft = EventFactory(status="draft")
    assert_problem(api.get(f"/api/v1/events/{draft.slug}/"), 404, "not_found")
    assert_problem(api.get("/api/v1/events/no-such-event/"), 404, "not_found")


def test_event_detail_of_a_draft_is_visible_to_its_organiser(
    staff_api, organiser
) -> None:
    draft = EventFactory(status="draft", organisers=[organiser])
    assert staff_api.get(f"/api/v1/events/{draft.slug}/").status_code == 200


# Public: registrations


def test_register_confirms_and_returns_the_manage_token(api, event, session) -> None:
    response = register(
        api,
        event,
        session,
        phone="+86 574 1234",
        organisation="Wantou Community",
        language="zh-hans",
    )
    assert response.status_code == 201
    body = response.json()
    registration = Registration.objects.get(code=body["code"])
    assert body["status"] == "confirmed"
    assert body["waitlist_position"] is None
    assert body["session"] == session.pk
    assert body["full_name"] == "陈佳萌"
    assert body["token"] == registration.token
    assert registration.language == "zh-hans"
    assert registration.organisation == "Wantou Community"


def test_register_when_full_joins_the_waiting_list(api, event, session) -> None:
    register(api, event, session, "a@example.org")
    register(api, event, session, "b@example.org")
    body = register(api, event, session, "c@example.org").json()
    assert body["status"] == "waitlisted"
    assert body["waitlist_position"] == 1


def test_register_when_full_without_waiting_list(api, event) -> None:
    session = SessionFactory(event=event, capacity=0, waitlist_enabled=False)
    assert_problem(register(api, event, session), 409, "session_full")
    assert not Registration.objects.exists()


def test_register_twice_is_already_registered(api, event, session) -> None:
    register(api, event, session, "Chen@Example.org")
    assert_problem(
        register(api, event, session, "chen@example.ORG"), 409, "already_registered"
    )
    assert Registration.objects.count() == 1


def test_register_when_closed(api) -> None:
    event = EventFactory(
        registration_closes_at=timezone.now() - dt.timedelta(hours=1),
        registration_opens_at=None,
    )
    session = SessionFactory(event=event)
    assert_problem(register(api, event, session), 409, "registration_closed")


def test_register_for_a_session_of_another_event_is_not_found(api, event) -> None:
    other = SessionFactory()
    assert_problem(register(api, event, other), 404, "not_found")
    assert_problem(register(api, EventFactory(status="draft"), other), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"session", "full_name", "email"}),
        ({"session": "x", "full_name": "A", "email": "a@example.org"}, {"session"}),
        (
            {"session": 1, "full_name": "", "email": "not-an-email"},
            {"full_name", "email"},
        ),
        (
            {
                "session": 1,
                "full_name": "A\r\nBcc: x@example.org",
                "email": "a@example.org",
            },
            {"full_name"},
        ),
        (
            {
                "session": 1,
                "full_name": "A",
                "email": "a@example.org",
                "language": "fr",
            },
            {"language"},
        ),
        (
            {"session": 1, "full_name": "A" * 201, "email": "a@example.org"},
            {"full_name"},
        ),
    ],
)
def test_register_with_bad_input_is_invalid(api, event, body, fields) -> None:
    response = api.post(
        f"/api/v1/events/{event.slug}/registrations/", body, format="json"
    )
    problem = assert_problem(response, 400, "invalid")
    assert set(problem["errors"]) == fields
    assert not Registration.objects.exists()


def test_register_with_malformed_json_is_invalid(api, event) -> None:
    response = api.post(
        f"/api/v1/events/{event.slug}/registrations/",
        "{bad",
        content_type="application/json",
    )
    assert_problem(response, 400, "invalid")


def test_register_is_throttled_per_client(api, event, session, settings) -> None:
    settings.REGISTRATION_RATE_LIMIT = "2/min"
    register(api, event, session, "a@example.org")
    register(api, event, session, "b@example.org")
    response = register(api, event, session, "c@example.org")
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert Registration.objects.count() == 2
    other_client = api.post(
        f"/api/v1/events/{event.slug}/registrations/",
        {"session": session.pk, "full_name": "D", "email": "d@example.org"},
        format="json",
        REMOTE_ADDR="10.9.8.7",
    )
    assert other_client.status_code == 201


def test_get_registration_by_code_and_token(api, event, session) -> None:
    created = register(api, event, session).json()
    response = api.get(
        f"/api/v1/registrations/{created['code']}/?token={created['token']}"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == created["code"] and body["status"] == "confirmed"
    assert "token" not in body
    assert_problem(
        api.get(f"/api/v1/registrations/{created['code']}/?token=nope"),
        404,
        "not_found",
    )
    assert_problem(
        api.get(f"/api/v1/registrations/{created['code']}/"), 404, "not_found"
    )
    assert_problem(
        api.get(f"/api/v1/registrations/NOPE234567/?token={created['token']}"),
        404,
        "not_found",
    )


def test_cancel_registration_is_repeatable_and_promotes(api, event, session) -> None:
    first = register(api, event, session, "a@example.org").json()
    register(api, event, session, "b@example.org")
    waiting = register(api, event, session, "c@example.org").json()
    url = f"/api/v1/registrations/{first['code']}/cancel/?token={first['token']}"
    response = api.post(url)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert "token" not in response.json()
    again = api.post(url)
    assert again.status_code == 200 and again.json() == response.json()
    assert Registration.objects.get(code=waiting["code"]).status == "confirmed"
    assert_problem(
        api.post(f"/api/v1/registrations/{first['code']}/cancel/?token=bad"),
        404,
        "not_found",
    )


# Organiser: events and sessions

EVENT_BODY = {
    "slug": "week-2022",
    "title": "宁波社会工作宣传周 2022",
    "starts_on": "2027-03-01",
    "ends_on": "2027-03-03",
    "timezone": "Asia/Shanghai",
    "venue": {"name": "Ningbo Talents House", "address": "Jiangbei"},
}


def test_create_event_makes_the_creator_its_organiser(staff_api, organiser) -> None:
    response = staff_api.post("/api/v1/events/", EVENT_BODY, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["reminder_offsets"] == [1440, 120]
    assert body["sessions"] == []
    assert (
        Event.objects.get(slug="week-2022").organisers.filter(pk=organiser.pk).exists()
    )


def test_create_event_validation(staff_api) -> None:
    bad = {**EVENT_BODY, "ends_on": "2027-02-01", "timezone": "Mars/Olympus"}
    problem = assert_problem(
        staff_api.post("/api/v1/events/", bad, format="json"), 400, "invalid"
    )
    assert {"timezone"} <= set(problem["errors"])
    staff_api.post("/api/v1/events/", EVENT_BODY, format="json")
    duplicate = staff_api.post("/api/v1/events/", EVENT_BODY, format="json")
    assert_problem(duplicate, 400, "invalid")


def test_create_event_needs_a_token(api) -> None:
    assert_problem(
        api.post("/api/v1/events/", EVENT_BODY, format="json"), 401, "not_authenticated"
    )


def test_patch_event(staff_api, event) -> None:
    response = staff_api.patch(
        f"/api/v1/events/{event.slug}/",
        {"reminder_offsets": [2880, 60], "status": "published"},
        format="json",
    )
    assert response.status_code == 200, response.content
    event.refresh_from_db()
    assert event.reminder_offsets == [2880, 60]
    bad = staff_api.patch(
        f"/api/v1/events/{event.slug}/", {"reminder_offsets": [0]}, format="json"
    )
    assert_problem(bad, 400, "invalid")


def test_organiser_of_another_event_gets_not_found(
    stranger_api, event, session
) -> None:
    assert_problem(
        stranger_api.patch(
            f"/api/v1/events/{event.slug}/", {"title": "x"}, format="json"
        ),
        404,
        "not_found",
    )
    assert_problem(
        stranger_api.post(f"/api/v1/events/{event.slug}/sessions/", {}, format="json"),
        404,
        "not_found",
    )
    assert_problem(
        stranger_api.patch(
            f"/api/v1/sessions/{session.pk}/", {"capacity": 9}, format="json"
        ),
        404,
        "not_found",
    )
    assert_problem(
        stranger_api.post(f"/api/v1/sessions/{session.pk}/cancel/"), 404, "not_found"
    )
    assert_problem(
        stranger_api.get(f"/api/v1/events/{event.slug}/registrations/"),
        404,
        "not_found",
    )
    assert_problem(
        stranger_api.post(
            f"/api/v1/events/{event.slug}/checkins/", {"code": "X"}, format="json"
        ),
        404,
        "not_found",
    )
    event.refresh_from_db()
    session.refresh_from_db()
    assert (
        event.title == "社会工作宣传周"
        and session.capacity == 2
        and session.status == "scheduled"
    )


def test_superuser_organises_every_event(event) -> None:
    admin = UserFactory(is_superuser=True)
    client = APIClient()
    client.force_authenticate(admin)
    assert client.get(f"/api/v1/events/{event.slug}/registrations/").status_code == 200


def test_create_session(staff_api, event) -> None:
    body = {
        "title": "Award ceremony · 授牌仪式",
        "kind": "ceremony",
        "starts_at": "2027-03-01T14:00:00+08:00",
        "ends_at": "2027-03-01T16:00:00+08:00",
        "capacity": 200,
    }
    response = staff_api.post(
        f"/api/v1/events/{event.slug}/sessions/", body, format="json"
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["seats_left"] == 200 and created["status"] == "scheduled"
    assert Session.objects.get(pk=created["id"]).starts_at == dt.datetime(
        2027, 3, 1, 6, tzinfo=dt.UTC
    )
    url = f"/api/v1/events/{event.slug}/sessions/"
    bad_kind = staff_api.post(url, {**body, "kind": "party"}, format="json")
    assert set(assert_problem(bad_kind, 400, "invalid")["errors"]) == {"kind"}
    backwards = staff_api.post(
        url, {**body, "ends_at": body["starts_at"]}, format="json"
    )
    assert set(assert_problem(backwards, 400, "invalid")["errors"]) == {"ends_at"}
    assert Session.objects.filter(event=event).count() == 1


def test_patch_session_capacity(staff_api, api, event, session) -> None:
    register(api, event, session, "a@example.org")
    register(api, event, session, "b@example.org")
    waiting = register(api, event, session, "c@example.org").json()
    below = staff_api.patch(
        f"/api/v1/sessions/{session.pk}/", {"capacity": 1}, format="json"
    )
    assert_problem(below, 409, "capacity_below_confirmed")
    response = staff_api.patch(
        f"/api/v1/sessions/{session.pk}/", {"capacity": 3}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["seats_left"] == 0
    assert Registration.objects.get(code=waiting["code"]).status == "confirmed"


def test_patch_session_time(staff_api, session) -> None:
    later = session.starts_at + dt.timedelta(days=1)
    response = staff_api.patch(
        f"/api/v1/sessions/{session.pk}/",
        {
            "starts_at": later.isoformat(),
            "ends_at": (later + dt.timedelta(hours=1)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 200
    session.refresh_from_db()
    assert session.starts_at == later and session.sequence == 1
    bad = staff_api.patch(
        f"/api/v1/sessions/{session.pk}/",
        {"ends_at": session.starts_at.isoformat()},
        format="json",
    )
    assert_problem(bad, 400, "invalid")
    assert_problem(
        staff_api.patch("/api/v1/sessions/999999999/", {}, format="json"),
        404,
        "not_found",
    )


def test_cancel_session(staff_api, api, event, session) -> None:
    created = register(api, event, session).json()
    response = staff_api.post(f"/api/v1/sessions/{session.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert Registration.objects.get(code=created["code"]).status == "cancelled"
    assert staff_api.post(f"/api/v1/sessions/{session.pk}/cancel/").status_code == 200
    assert_problem(
        register(api, event, session, "late@example.org"), 409, "registration_closed"
    )


# Organiser: registrations list, CSV, check-in


def test_registration_list_filters_and_searches(staff_api, api, event, session) -> None:
    register(api, event, session, "a@example.org", full_name="Wang Fang")
    register(api, event, session, "b@example.org")
    register(api, event, session, "c@example.org")
    other = SessionFactory(event=event)
    register(api, event, other, "d@example.org")
    url = f"/api/v1/events/{event.slug}/registrations/"
    assert staff_api.get(url).json()["count"] == 4
    assert staff_api.get(url, {"session": session.pk}).json()["count"] == 3
    waiting = staff_api.get(url, {"status": "waitlisted"}).json()
    assert waiting["count"] == 1 and waiting["results"][0]["waitlist_position"] == 1
    found = staff_api.get(url, {"search": "wang"}).json()["results"]
    assert [r["email"] for r in found] == ["a@example.org"]
    assert_problem(staff_api.get(url, {"status": "lost"}), 400, "invalid")
    assert_problem(api.get(url), 401, "not_authenticated")


def test_registration_list_query_count_does_not_grow(
    staff_api, api, event, session, django_assert_num_queries
) -> None:
    session.capacity = None
    session.save()
    for n in range(8):
        register(api, event, session, f"p{n}@example.org")
    url = f"/api/v1/events/{event.slug}/registrations/?page_size=200"
    # token, event, count, page
    with django_assert_num_queries(4):
        response = staff_api.get(url)
    assert response.json()["count"] == 8


def test_registration_csv_export(staff_api, api, event, session) -> None:
    register(api, event, session, "a@example.org", full_name="陈佳萌")
    register(
        api, event, session, "b@example.org", full_name='=HYPERLINK("http://evil")'
    )
    response = staff_api.get(f"/api/v1/events/{event.slug}/registrations/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["full_name"] for r in rows] == ["陈佳萌", '\'=HYPERLINK("http://evil")']
    assert rows[0]["status"] == "confirmed" and rows[0]["session"] == session.title


def test_check_in_is_idempotent(staff_api, api, event, session) -> None:
    created = register(api, event, session).json()
    url = f"/api/v1/events/{event.slug}/checkins/"
    first = staff_api.post(url, {"code": created["code"].lower()}, format="json")
    assert first.status_code == 200
    body = first.json()
    assert body["already_checked_in"] is False
    assert body["registration"]["code"] == created["code"]
    assert body["checked_in_at"]
    second = staff_api.post(url, {"code": created["code"]}, format="json").json()
    assert (
        second["already_checked_in"] is True
        and second["checked_in_at"] == body["checked_in_at"]
    )


def test_check_in_refusals(staff_api, api, event, session) -> None:
    url = f"/api/v1/events/{event.slug}/checkins/"
    assert_problem(
        staff_api.post(url, {"code": "NOPE234567"}, format="json"), 404, "not_found"
    )
    assert_problem(
        staff_api.post(url, {"code": "\u0000"}, format="json"), 400, "invalid"
    )
    register(api, event, session, "a@example.org")
    register(api, event, session, "b@example.org")
    waiting = register(api, event, session, "c@example.org").json()
    assert_problem(
        staff_api.post(url, {"code": waiting["code"]}, format="json"), 409, "not_active"
    )
    services.registration_cancel(code=waiting["code"], token=waiting["token"])
    assert_problem(
        staff_api.post(url, {"code": waiting["code"]}, format="json"), 409, "not_active"
    )


def test_unknown_api_path_is_problem_json(api) -> None:
    assert_problem(api.get("/api/v1/nothing-here/"), 404, "not_found")


def test_method_not_allowed_is_problem_json(api, event) -> None:
    assert_problem(
        api.delete(f"/api/v1/events/{event.slug}/"), 405, "method_not_allowed"
    )


def test_dates_outside_the_planning_range_are_invalid(staff_api) -> None:
    body = {
        **EVENT_BODY,
        "starts_on": "0136-09-20",
        "registration_opens_at": "0581-07-12T05:52:43+08:00",
    }
    problem = assert_problem(
        staff_api.post("/api/v1/events/", body, format="json"), 400, "invalid"
    )
    assert set(problem["errors"]) == {"starts_on", "registration_opens_at"}
    assert not Event.objects.filter(slug=EVENT_BODY["slug"]).exists()


def test_an_organiser_made_by_add_organiser_uses_the_api_without_being_staff(
    event,
) -> None:
    """Organisers are not staff (the admin is for operators), yet the organiser API
    is theirs: the token that ``add_organiser`` prints works on their event."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("add_organiser", "new.organiser@example.org", event.slug, stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get(f"/api/v1/events/{event.slug}/registrations/")
    assert response.status_code == 200
    created = client.post(
        "/api/v1/events/", {**EVENT_BODY, "slug": "their-own"}, format="json"
    )
    assert created.status_code == 201, created.json()
    # A signed-in user who organises nothing is no organiser.
    nobody = APIClient()
    nobody.force_authenticate(UserFactory(is_staff=False))
    assert nobody.post("/api/v1/events/", EVENT_BODY, format="json").status_code == 403


def test_the_demo_week_takes_a_registration_as_the_contract_writes_it(api) -> None:
    """make demo's event asks nothing beyond API.md: a client of the contract registers."""
    from django.core.management import call_command

    from events.models import Session

    call_command("seed_demo", verbosity=0)
    session = Session.objects.filter(event__slug="social-work-week-2021").first()
    response = api.post(
        "/api/v1/events/social-work-week-2021/registrations/",
        {"session": session.pk, "full_name": "张伟", "email": "zhang@example.org"},
        format="json",
    )
    assert response.status_code == 201, response.json()
