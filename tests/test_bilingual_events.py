"""Events, sessions and venues in both languages: the API reads the request's
language with a fallback, and reads and writes each language as ``<field>_zh_hans``
and ``<field>_en`` (docs/API.md, "Languages")."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from django.utils.translation import override
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from events import services
from events.models import Event, Session, Venue

from .factories import EventFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}


@pytest.fixture
def organiser():
    from django.contrib.auth.models import Group

    user = UserFactory(is_staff=False)
    user.groups.add(Group.objects.get_or_create(name="Organisers")[0])
    return user


@pytest.fixture
def staff_api(organiser) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=organiser).key}"
    )
    return client


def new_event(**extra):
    day = timezone.localdate() + dt.timedelta(days=20)
    return {
        "slug": "week-2021",
        "starts_on": day.isoformat(),
        "ends_on": (day + dt.timedelta(days=2)).isoformat(),
        **extra,
    }


def bilingual_event(organiser=None) -> Event:
    with override("en"):
        event = EventFactory(
            organisers=[organiser] if organiser else [],
            title_en="Social Work Publicity Week",
            title_zh_hans="社会工作宣传周",
            description_en="A week of social work.",
            description_zh_hans="社会工作的一周。",
            organiser_name_en="Ningbo Civil Affairs Bureau",
            organiser_name_zh_hans="宁波市民政局",
        )
        venue = event.venue
        venue.name_en, venue.name_zh_hans = "Ningbo Talents House", "宁波人才之家"
        venue.address_en, venue.address_zh_hans = "Jiangbei District", "江北区"
        venue.save()
        SessionFactory(
            event=event,
            title_en="Kick-off and logo release",
            title_zh_hans="启动仪式暨宁波社工标识发布",
            description_en="",
            description_zh_hans="标识发布。",
        )
    return event


def test_plain_fields_answer_in_the_request_language(api) -> None:
    """title, description, the organiser and the venue read in Accept-Language."""
    event = bilingual_event()
    zh = api.get(f"/api/v1/events/{event.slug}/", **ZH).json()
    en = api.get(f"/api/v1/events/{event.slug}/", **EN).json()
    assert zh["title"] == "社会工作宣传周"
    assert en["title"] == "Social Work Publicity Week"
    assert zh["organiser_name"] == "宁波市民政局"
    assert en["organiser_name"] == "Ningbo Civil Affairs Bureau"
    assert zh["venue"]["name"] == "宁波人才之家"
    assert en["venue"]["address"] == "Jiangbei District"
    assert zh["sessions"][0]["title"] == "启动仪式暨宁波社工标识发布"
    assert en["sessions"][0]["title"] == "Kick-off and logo release"
    # Both languages, whatever the request's.
    for body in (zh, en):
        assert body["title_zh_hans"] == "社会工作宣传周"
        assert body["title_en"] == "Social Work Publicity Week"
        assert body["venue"]["name_en"] == "Ningbo Talents House"
        assert body["venue"]["name_zh_hans"] == "宁波人才之家"
        assert body["sessions"][0]["description_en"] is None
        assert body["sessions"][0]["description_zh_hans"] == "标识发布。"


def test_a_missing_language_falls_back_to_the_other_both_ways(api) -> None:
    with override("en"):
        only_chinese = EventFactory(title_en=None, title_zh_hans="只有中文")
        only_english = EventFactory(title_en="English only", title_zh_hans=None)
    assert api.get(f"/api/v1/events/{only_chinese.slug}/", **EN).json()["title"] == (
        "只有中文"
    )
    assert api.get(f"/api/v1/events/{only_english.slug}/", **ZH).json()["title"] == (
        "English only"
    )
    listed = api.get("/api/v1/events/", **EN).json()["results"]
    assert {e["title"] for e in listed} == {"只有中文", "English only"}
    session = bilingual_event().sessions.get()
    body = api.get(f"/api/v1/events/{session.event.slug}/", **EN).json()
    # No English description: the Chinese one stands in.
    assert body["sessions"][0]["description"] == "标识发布。"


def test_plain_title_writes_the_request_language_and_explicit_ones_win(
    staff_api, organiser
) -> None:
    created = staff_api.post(
        "/api/v1/events/",
        new_event(title="宣传周", description="一周", title_en="Publicity Week"),
        format="json",
        **ZH,
    )
    assert created.status_code == 201, created.content
    event = Event.objects.get(slug="week-2021")
    assert (event.title_zh_hans, event.title_en) == ("宣传周", "Publicity Week")
    assert event.description_zh_hans == "一周"
    assert not event.description_en
    assert created.json()["title"] == "宣传周"

    # Plain title in English writes the English column only...
    staff_api.patch(
        "/api/v1/events/week-2021/", {"title": "The Week"}, format="json", **EN
    )
    event.refresh_from_db()
    assert (event.title_zh_hans, event.title_en) == ("宣传周", "The Week")
    # ...and an explicit column wins over the plain name.
    answer = staff_api.patch(
        "/api/v1/events/week-2021/",
        {
            "title": "ignored",
            "title_en": "Explicit",
            "organiser_name_zh_hans": "民政局",
        },
        format="json",
        **EN,
    )
    assert answer.status_code == 200, answer.content
    event.refresh_from_db()
    assert (event.title_zh_hans, event.title_en) == ("宣传周", "Explicit")
    assert answer.json()["organiser_name"] == "民政局"  # fallback to Chinese
    assert answer.json()["organiser_name_en"] is None


def test_a_new_event_needs_a_title_in_some_language(staff_api) -> None:
    answer = staff_api.post("/api/v1/events/", new_event(), format="json", **EN)
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "invalid"
    assert "title" in body["errors"]
    answer = staff_api.post(
        "/api/v1/events/", new_event(title_en="", title_zh_hans=" "), format="json"
    )
    assert answer.status_code == 400
    assert "title" in answer.json()["errors"]
    assert not Event.objects.filter(slug="week-2021").exists()
    only_chinese = staff_api.post(
        "/api/v1/events/", new_event(title_zh_hans="宣传周"), format="json", **EN
    )
    assert only_chinese.status_code == 201, only_chinese.content
    assert only_chinese.json()["title"] == "宣传周"


def test_emptying_both_titles_is_refused(staff_api, organiser) -> None:
    event = bilingual_event(organiser)
    answer = staff_api.patch(
        f"/api/v1/events/{event.slug}/",
        {"title_en": "", "title_zh_hans": None},
        format="json",
    )
    assert answer.status_code == 400
    assert "title" in answer.json()["errors"]
    event.refresh_from_db()
    assert event.title_en == "Social Work Publicity Week"


def test_sessions_and_venues_written_per_language(staff_api, organiser) -> None:
    event = bilingual_event(organiser)
    start = dt.datetime.combine(event.starts_on, dt.time(9), event.tzinfo)
    answer = staff_api.post(
        f"/api/v1/events/{event.slug}/sessions/",
        {
            "title_zh_hans": "颁奖典礼",
            "title_en": "Award ceremony",
            "description": "In English, as asked.",
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            "venue": {
                "name_zh_hans": "宁波人才之家",
                "name_en": "Ningbo Talents House",
            },
        },
        format="json",
        **EN,
    )
    assert answer.status_code == 201, answer.content
    session = Session.objects.get(pk=answer.json()["id"])
    assert (session.title_zh_hans, session.title_en) == ("颁奖典礼", "Award ceremony")
    assert session.description_en == "In English, as asked."
    assert not session.description_zh_hans
    # The venue is found by its names (either language), not duplicated...
    assert session.venue_id is not None
    # ... its Chinese address given as empty here: a place of its own.
    assert session.venue.name_zh_hans == "宁波人才之家"
    zh = staff_api.patch(
        f"/api/v1/sessions/{session.pk}/",
        {"title": "颁奖仪式", "venue": {"name": "宁波人才之家", "address": "江北区"}},
        format="json",
        **ZH,
    )
    assert zh.status_code == 200, zh.content
    session.refresh_from_db()
    assert (session.title_zh_hans, session.title_en) == ("颁奖仪式", "Award ceremony")
    # A place given in Chinese alone is not the bilingual venue of the same name:
    # every column counts, a language not given as empty.
    assert session.venue_id != event.venue_id
    assert session.venue.name_zh_hans == "宁波人才之家"
    assert not session.venue.name_en
    assert zh.json()["venue"]["name_en"] is None
    # Given again exactly, it is found, not added.
    again = staff_api.patch(
        f"/api/v1/sessions/{session.pk}/",
        {"venue": {"name": "宁波人才之家", "address": "江北区"}},
        format="json",
        **ZH,
    )
    assert again.status_code == 200, again.content
    assert Venue.objects.filter(name_zh_hans="宁波人才之家").count() == 3
    missing = staff_api.patch(
        f"/api/v1/sessions/{session.pk}/",
        {"venue": {"address_en": "Somewhere"}},
        format="json",
    )
    assert missing.status_code == 400
    assert "venue.name" in missing.json()["errors"]


def test_a_venue_named_in_one_language_never_borrows_another_organisers_texts(
    staff_api,
) -> None:
    """Venues are shared rows: a hall given by its English name alone must not pick
    up the Chinese name and address another organiser gave a hall of that name."""
    theirs = Venue.objects.create(
        name_en="Main Hall", name_zh_hans="甲方会场", address_zh_hans="甲方地址 3 楼"
    )
    answer = staff_api.post(
        "/api/v1/events/",
        {
            "slug": "b-week",
            "title": "B week",
            "starts_on": "2030-05-01",
            "ends_on": "2030-05-02",
            "venue": {"name": "Main Hall"},
        },
        format="json",
        **EN,
    )
    assert answer.status_code == 201, answer.content
    event = Event.objects.get(slug="b-week")
    assert event.venue_id != theirs.pk
    shown = staff_api.get("/api/v1/events/b-week/", **ZH).json()["venue"]
    assert shown["name"] == "Main Hall" and shown["address"] == ""


def test_a_new_title_in_either_language_tells_registrants(organiser) -> None:
    """The change notice follows a title change in Chinese as in English, and a
    save that sends back an empty language unchanged tells nobody."""
    event = bilingual_event(organiser)
    session = event.sessions.get()
    before = session.sequence
    services.session_update(session=session, data={"description_en": ""})
    session.refresh_from_db()
    assert session.sequence == before
    services.session_update(session=session, data={"title_zh_hans": "新标题"})
    session.refresh_from_db()
    assert session.sequence == before + 1
    assert session.title_en == "Kick-off and logo release"


def test_a_title_translated_for_the_first_time_tells_nobody(organiser) -> None:
    """Organisers will add Chinese to English-only sessions: a translation is not
    a change registrants must hear about (no mail, same calendar sequence)."""
    from notifications.models import Notification

    event = bilingual_event(organiser)
    session = event.sessions.get()
    Session.objects.filter(pk=session.pk).update(title_zh_hans=None)
    services.registration_create(
        session=session,
        attendee=services.AttendeeData(full_name="张伟", email="zw@example.org"),
    )
    session.refresh_from_db()
    before, mail = session.sequence, Notification.objects.count()
    services.session_update(session=session, data={"title_zh_hans": "启动仪式"})
    session.refresh_from_db()
    assert session.title_zh_hans == "启动仪式"
    assert session.sequence == before
    assert Notification.objects.count() == mail
    services.session_update(session=session, data={"title_zh_hans": "启动仪式（改）"})
    session.refresh_from_db()
    assert session.sequence == before + 1
    assert Notification.objects.filter(kind="session_changed").count() == 1


def test_schema_describes_the_language_and_branding_fields(api) -> None:
    schema = api.get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    event = components["EventDetailOutput"]["properties"]
    for field in (
        "title",
        "description",
        "organiser_name",
        "signatory_name",
        "signatory_title",
    ):
        for name in (field, f"{field}_zh_hans", f"{field}_en"):
            assert name in event, name
    assert event["title_en"]["nullable"] is True
    for name in ("accent_colour", "logo_url", "seal_url"):
        assert name in event
    assert event["logo_url"]["readOnly"] is True
    assert event["logo_url"]["nullable"] is True
    event_input = components["EventInputRequest"]["properties"]
    for name in ("title", "title_zh_hans", "title_en", "accent_colour"):
        assert name in event_input
    assert "logo_url" not in event_input
    session = components["SessionOutput"]["properties"]
    assert {"title_zh_hans", "title_en", "description_zh_hans", "description_en"} <= (
        set(session)
    )
    session_input = components["SessionInputRequest"]["properties"]
    assert {"title_zh_hans", "title_en"} <= set(session_input)
    venue = components["Venue"]["properties"]
    assert {"name_zh_hans", "name_en", "address_zh_hans", "address_en"} <= set(venue)
    venue_input = components["VenueInputRequest"]["properties"]
    assert {"name", "name_zh_hans", "name_en", "address_en"} <= set(venue_input)


def test_branding_fields_through_the_api(staff_api, organiser) -> None:
    event = bilingual_event(organiser)
    url = f"/api/v1/events/{event.slug}/"
    bad = staff_api.patch(url, {"accent_colour": "orange"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"
    assert "accent_colour" in bad.json()["errors"]
    good = staff_api.patch(
        url,
        {
            "accent_colour": "#e8590c",
            "signatory_name_zh_hans": "张伟",
            "signatory_title": "Director",
        },
        format="json",
        **EN,
    )
    assert good.status_code == 200, good.content
    body = good.json()
    assert body["accent_colour"] == "#E8590C"
    assert body["signatory_name"] == "张伟"  # falls back to Chinese
    assert (body["signatory_title_en"], body["signatory_title_zh_hans"]) == (
        "Director",
        None,
    )
    # The image addresses are read-only.
    staff_api.patch(url, {"logo_url": "http://evil.example/x.png"}, format="json")
    assert staff_api.get(url).json()["logo_url"] is None


def test_the_cancel_page_shows_the_time_in_the_events_zone_and_names_it(
    client, organiser
) -> None:
    """A London event's session at 10:00 London time, read in Chinese and in
    English: its own zone's clock and its name, not the server's (the page is
    the answer to a POST without confirmation)."""
    event = bilingual_event(organiser)
    Event.objects.filter(pk=event.pk).update(timezone="Europe/London")
    event.refresh_from_db()
    session = event.sessions.get()
    start = dt.datetime.combine(event.starts_on, dt.time(10), event.tzinfo)
    Session.objects.filter(pk=session.pk).update(
        starts_at=start, ends_at=start + dt.timedelta(hours=1)
    )
    registration = services.registration_create(
        session=Session.objects.get(pk=session.pk),
        attendee=services.AttendeeData(full_name="Ann", email="ann@example.org"),
    )
    url = f"/r/{registration.code}/cancel/?token={registration.token}"
    answer = client.post(url, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert answer.status_code == 200, (answer.status_code, answer.get("Location"))
    zh = answer.content.decode()
    assert "10:00" in zh
    assert "（格林尼治标准时间）" in zh or "（英国夏令时间）" in zh
    en = client.post(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "10:00" in en and (
        "(Greenwich Mean Time)" in en or "(British Summer Time)" in en
    )


def test_a_ticket_and_its_cancel_page_close_up_the_chinese_zone_name(
    client, organiser
) -> None:
    """Chinese sets the zone's full-width brackets right after the time, as the
    emails do: "2021年12月14日 09:30–11:30（北京时间）", no space before "（"."""
    event = bilingual_event(organiser)
    registration = services.registration_create(
        session=event.sessions.get(),
        attendee=services.AttendeeData(full_name="王芳", email="wf@example.org"),
    )
    query = f"?token={registration.token}"
    # The ticket, and the page that asks before cancelling (a POST without "confirm").
    for path, read in (
        (f"/r/{registration.code}/", client.get),
        (f"/r/{registration.code}/cancel/", client.post),
    ):
        zh = read(path + query, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
        assert re.search(r"\d（北京时间）", zh), path
        assert " （" not in zh, path
        en = read(path + query, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert re.search(r"\d \(China Standard Time\)", en), path
    registration.refresh_from_db()
    assert registration.status == "confirmed"  # asked, not cancelled


def test_the_manage_page_tells_a_waiting_person_what_cancelling_does(client) -> None:
    """A place on the list is not a seat: cancelling leaves the list and those
    behind move up; only a seat is given to someone on the list."""
    session = SessionFactory(capacity=1, waitlist_enabled=True)
    seated, waiting = (
        services.registration_create(
            session=Session.objects.select_related("event").get(pk=session.pk),
            attendee=services.AttendeeData(full_name=name, email=f"{n}@example.org"),
        )
        for n, name in enumerate(("王芳", "张伟"))
    )
    assert (seated.status, waiting.status) == ("confirmed", "waitlisted")

    def page(registration, language: str) -> str:
        return client.get(
            f"/r/{registration.code}/?token={registration.token}",
            HTTP_ACCEPT_LANGUAGE=language,
        ).content.decode()

    assert "退出候补名单" in page(waiting, "zh-CN")
    assert "把名额留给候补的人" not in page(waiting, "zh-CN")
    assert "leave the waiting list" in page(waiting, "en")
    assert "gets your seat" not in page(waiting, "en")
    assert "把名额留给候补的人" in page(seated, "zh-CN")
    assert "gets your seat" in page(seated, "en")
