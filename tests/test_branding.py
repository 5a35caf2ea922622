"""An event's branding: logo and seal uploads checked by their bytes and kept
through Django's storage, served safely, its colour as a stylesheet with readable
text, and its name, logo and local time on its pages."""

import io
import os
import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.translation import override
from PIL import Image

from events import services
from events.branding import AA_CONTRAST, WHITE, contrast, parse_colour
from events.models import Event

from .factories import EventFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def organiser():
    return UserFactory(is_staff=False)


@pytest.fixture
def event(organiser):
    with override("en"):
        return EventFactory(
            organisers=[organiser],
            title_en="Social Work Publicity Week",
            title_zh_hans="社会工作宣传周",
            organiser_name_en="Ningbo Civil Affairs Bureau",
            organiser_name_zh_hans="宁波市民政局",
        )


@pytest.fixture
def signed_in(client, organiser):
    client.force_login(organiser)
    return client


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (232, 89, 12)).save(buffer, fmt)
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def settings_post(event: Event, **extra) -> dict:
    """The event's settings page as a browser posts it, both languages."""
    venue = event.venue
    return {
        "title_zh_hans": event.title_zh_hans or "",
        "title_en": event.title_en or "",
        "description_zh_hans": "",
        "description_en": "",
        "organiser_name_zh_hans": event.organiser_name_zh_hans or "",
        "organiser_name_en": event.organiser_name_en or "",
        "signatory_name_zh_hans": "",
        "signatory_name_en": "",
        "signatory_title_zh_hans": "",
        "signatory_title_en": "",
        "timezone": event.timezone,
        "starts_on": event.starts_on.isoformat(),
        "ends_on": event.ends_on.isoformat(),
        "venue_name_zh_hans": venue.name_zh_hans or "",
        "venue_name_en": venue.name_en or "",
        "venue_address_zh_hans": venue.address_zh_hans or "",
        "venue_address_en": venue.address_en or "",
        "registration_opens_at": "",
        "registration_closes_at": "",
        "reminder_offsets": "1440, 120",
        "accent_colour": "#0172AD",
        "accent_colour_none": "on",
        **extra,
    }


def edit(client, event: Event, **extra):
    return client.post(
        reverse("console:event_edit", args=[event.slug]), settings_post(event, **extra)
    )


def test_the_console_saves_both_languages_side_by_side(signed_in, event) -> None:
    page = signed_in.get(reverse("console:event_edit", args=[event.slug]))
    html = page.content.decode()
    # Chinese beside English, each labelled with its language.
    assert html.count('class="bilingual-row"') >= 7
    assert 'name="title_zh_hans"' in html and 'lang="zh-Hans"' in html
    assert "Title in Chinese" in html and "Title in English" in html
    assert 'enctype="multipart/form-data"' in html
    assert 'type="color"' in html
    response = edit(
        signed_in,
        event,
        title_zh_hans="宁波社工宣传周",
        title_en="Ningbo Social Work Week",
        description_zh_hans="一周的活动。",
        description_en="A week of events.",
        venue_name_zh_hans="宁波人才之家",
        venue_name_en="Ningbo Talents House",
        venue_address_zh_hans="江北区",
        venue_address_en="Jiangbei District",
        signatory_name_zh_hans="张伟",
        signatory_name_en="Zhang Wei",
        signatory_title_zh_hans="局长",
        signatory_title_en="Director",
        accent_colour="#e8590c",
        accent_colour_none="",
    )
    assert response.status_code == 302, response.context["form"].errors
    event.refresh_from_db()
    assert (event.title_zh_hans, event.title_en) == (
        "宁波社工宣传周",
        "Ningbo Social Work Week",
    )
    assert event.description_zh_hans == "一周的活动。"
    assert (event.signatory_name_zh_hans, event.signatory_title_en) == (
        "张伟",
        "Director",
    )
    assert event.venue.name_zh_hans == "宁波人才之家"
    assert event.venue.address_en == "Jiangbei District"
    assert event.accent_colour == "#E8590C"
    with override("zh-hans"):
        assert event.title == "宁波社工宣传周"
    # "No accent colour" wins over the colour input, which always sends one.
    edit(signed_in, event, accent_colour="#123456", accent_colour_none="on")
    event.refresh_from_db()
    assert event.accent_colour == ""


def test_a_session_form_saves_both_languages(signed_in, event) -> None:
    session = SessionFactory(event=event, title_en="Kick-off", title_zh_hans=None)
    url = reverse("console:session_edit", args=[event.slug, session.pk])
    html = signed_in.get(url).content.decode()
    assert 'name="title_zh_hans"' in html and 'name="description_en"' in html
    zone = event.tzinfo
    response = signed_in.post(
        url,
        {
            "title_zh_hans": "启动仪式",
            "title_en": "Kick-off",
            "description_zh_hans": "",
            "description_en": "",
            "kind": session.kind,
            "starts_at": session.starts_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": session.ends_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
            "venue_name_zh_hans": "",
            "venue_name_en": "",
            "venue_address_zh_hans": "",
            "venue_address_en": "",
            "capacity": str(session.capacity),
            "waitlist_enabled": "on",
        },
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.title_zh_hans, session.title_en) == ("启动仪式", "Kick-off")
    # A title in a language it had none in is a translation, not news to anyone.
    assert session.sequence == 0


def test_a_logo_is_stored_served_and_replaced(
    signed_in, event, client, media, django_capture_on_commit_callbacks
):
    png = image_bytes("PNG")
    response = edit(signed_in, event, logo=upload("my logo.svg", png, "image/svg+xml"))
    assert response.status_code == 302, response.context["form"].errors
    event.refresh_from_db()
    first = event.logo.name
    # Named by Podium, with the extension of what the bytes are.
    assert re.fullmatch(r"branding/[0-9a-f]{24}\.png", first)
    assert default_storage.exists(first)
    # Never executable.
    assert os.stat(default_storage.path(first)).st_mode & 0o111 == 0

    served = client.get(f"/events/{event.slug}/brand/logo")
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert "max-age" in served["Cache-Control"]
    assert b"".join(served.streaming_content) == png

    page = client.get(event.get_absolute_url()).content.decode()
    assert f"/events/{event.slug}/brand/logo?v=" in page
    assert "Ningbo Civil Affairs Bureau" in page
    edit_page = signed_in.get(reverse("console:event_edit", args=[event.slug]))
    assert 'data-testid="logo-preview"' in edit_page.content.decode()

    jpeg = image_bytes("JPEG")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        edit(signed_in, event, logo=upload("new.png", jpeg, "image/png"))
    assert callbacks, "the old file is deleted after the commit, not before"
    event.refresh_from_db()
    assert event.logo.name.endswith(".jpg") and event.logo.name != first
    # The old file is deleted once the change is committed.
    assert not default_storage.exists(first)
    assert client.get(f"/events/{event.slug}/brand/logo")["Content-Type"] == (
        "image/jpeg"
    )

    second = event.logo.name
    with django_capture_on_commit_callbacks(execute=True):
        edit(signed_in, event, logo_remove="on")
    event.refresh_from_db()
    assert not event.logo
    assert not default_storage.exists(second)
    assert client.get(f"/events/{event.slug}/brand/logo").status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "content_type", "message"),
    [
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "image/svg+xml",
            "PNG, JPEG or WebP",
        ),
        (
            "photo.jpg",
            b"This is text, not a picture.\n" * 20,
            "image/jpeg",
            "PNG, JPEG or WebP",
        ),
        (
            "huge.png",
            b"\x89PNG\r\n\x1a\n" + b"0" * (2 * 1024 * 1024),
            "image/png",
            "2 MB",
        ),
        ("tiny.png", image_bytes("PNG", (8, 8)), "image/png", "16 to 4000"),
        ("wide.png", image_bytes("PNG", (4001, 20)), "image/png", "16 to 4000"),
        ("anim.gif", image_bytes("GIF"), "image/png", "PNG, JPEG or WebP"),
    ],
)
def test_a_bad_image_is_a_form_error_and_nothing_is_stored(
    signed_in, event, media, name, content, content_type, message
) -> None:
    response = edit(signed_in, event, seal=upload(name, content, content_type))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors["seal"]), errors
    event.refresh_from_db()
    assert not event.seal
    assert not (media / "branding").exists() or not any((media / "branding").iterdir())


def test_a_bad_image_is_refused_in_chinese(signed_in, event) -> None:
    response = signed_in.post(
        reverse("console:event_edit", args=[event.slug]),
        settings_post(event, logo=upload("x.svg", b"<svg/>", "image/svg+xml")),
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    assert response.status_code == 200
    assert "logo" in response.context["form"].errors


def test_the_service_checks_images_whatever_the_door(event) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.event_update(
            event=event, data={"logo": upload("a.png", b"<svg/>", "image/png")}
        )
    assert "logo" in refused.value.message_dict


def test_images_are_seen_by_the_public_only_when_published(
    signed_in, organiser, client, event
) -> None:
    other = UserFactory(is_staff=False)
    draft = EventFactory(organisers=[organiser], status=Event.Status.DRAFT)
    services.event_update(
        event=draft,
        data={
            "seal": upload("seal.webp", image_bytes("WEBP"), "image/webp"),
            "accent_colour": "#E8590C",
        },
    )
    url = f"/events/{draft.slug}/brand/seal"
    own = signed_in.get(url)
    assert own.status_code == 200
    assert own["Content-Type"] == "image/webp"
    assert own["Cache-Control"].startswith("private")
    client.logout()
    assert client.get(url).status_code == 404
    assert client.get(f"/events/{draft.slug}/brand.css").status_code == 404
    client.force_login(other)
    assert client.get(url).status_code == 404
    assert client.get(f"/events/{draft.slug}/brand/logo").status_code == 404
    assert client.get(f"/events/{event.slug}/brand/script").status_code == 404
    assert client.get("/events/no-such-week/brand/seal").status_code == 404


def test_the_api_gives_absolute_image_addresses(api, event) -> None:
    body = api.get(f"/api/v1/events/{event.slug}/").json()
    assert body["logo_url"] is None and body["seal_url"] is None
    services.event_update(
        event=event, data={"logo": upload("l.png", image_bytes(), "image/png")}
    )
    body = api.get(f"/api/v1/events/{event.slug}/").json()
    assert body["logo_url"].startswith(
        f"http://testserver/events/{event.slug}/brand/logo?v="
    )
    assert api.get(body["logo_url"]).status_code == 200


@pytest.mark.parametrize("colour", ["#E8590C", "#FFFF00", "#00FF7F", "#1A1A1A"])
def test_the_colour_stylesheet_keeps_text_readable(client, event, colour) -> None:
    services.event_update(event=event, data={"accent_colour": colour})
    page = client.get(event.get_absolute_url()).content.decode()
    href = re.search(r'href="(/events/[^"]+/brand\.css\?v=[0-9a-f]+)"', page)
    assert href, "the event's page links its colour stylesheet"
    css = client.get(href.group(1))
    assert css.status_code == 200
    assert css["Content-Type"].startswith("text/css")
    body = css.content.decode()
    values = dict(re.findall(r"(--pico-primary[a-z-]*): (#[0-9A-F]{6});", body))
    assert values["--pico-primary-background"] == colour
    text = parse_colour(values["--pico-primary"])
    assert contrast(text, WHITE) >= AA_CONTRAST
    inverse = parse_colour(values["--pico-primary-inverse"])
    assert contrast(inverse, parse_colour(colour)) >= 4.5


def test_no_colour_no_stylesheet(client, event) -> None:
    page = client.get(event.get_absolute_url()).content.decode()
    assert "brand.css" not in page


@pytest.mark.parametrize(
    ("language", "zone", "title", "organiser_name"),
    [
        ("zh-CN", "北京时间", "社会工作宣传周", "宁波市民政局"),
        ("en", "China Standard Time", "Social Work Publicity Week", "Ningbo Civil"),
    ],
)
def test_event_pages_say_the_zone_and_content_in_the_readers_language(
    client, event, language, zone, title, organiser_name
) -> None:
    session = SessionFactory(event=event, title_en="Kick-off", title_zh_hans="启动仪式")
    for url in (
        event.get_absolute_url(),
        reverse("events:registration_create", args=[event.slug]),
    ):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert "Asia/Shanghai" not in page
        assert title in page
        assert organiser_name in page
    page = client.get(event.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language)
    html = page.content.decode()
    assert zone in html
    assert (session.title_zh_hans if language == "zh-CN" else "Kick-off") in html
    if language == "zh-CN":
        assert f"{event.starts_on.year}年{event.starts_on.month}月" in html


def test_every_public_page_of_the_event_carries_its_brand(client, event) -> None:
    """The list, the event's page, the form, the confirmation and the manage page
    show the organiser and logo, and link the colour."""
    services.event_update(
        event=event,
        data={
            "logo": upload("l.png", image_bytes(), "image/png"),
            "accent_colour": "#E8590C",
        },
    )
    session = SessionFactory(event=event)
    registration = services.registration_create(
        session=session,
        attendee=services.AttendeeData(full_name="陈佳萌", email="chen@example.org"),
    )
    token = f"?token={registration.token}"
    pages = [
        "/",
        event.get_absolute_url(),
        reverse("events:registration_create", args=[event.slug]),
        reverse("events:registration_confirmed", args=[registration.code]) + token,
        reverse("events:registration_manage", args=[registration.code]) + token,
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert f"/events/{event.slug}/brand/logo?v=" in html, url
        assert "Ningbo Civil Affairs Bureau" in html, url
        if url != "/":
            assert f"/events/{event.slug}/brand.css?v=" in html, url
    logo = re.search(r"/events/[^\"]+/brand/logo\?v=[0-9a-f]+", html).group(0)
    assert "immutable" in client.get(logo)["Cache-Control"]


def test_the_admin_edits_each_language_and_checks_images_through_the_service(
    client, event, django_capture_on_commit_callbacks
) -> None:
    from .test_admin_invariants import change_form

    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    url = f"/admin/events/event/{event.pk}/change/"
    data = change_form(client, url)
    assert "title_zh_hans" in data and "organiser_name_en" in data
    data["title_zh_hans"] = ["宁波社工宣传周"]
    data["_save"] = ["Save"]
    refused = client.post(
        url, {**data, "logo": upload("evil.gif", image_bytes("GIF"), "image/gif")}
    )
    assert refused.status_code == 200
    assert "PNG, JPEG or WebP" in refused.content.decode()
    event.refresh_from_db()
    assert not event.logo and event.title_zh_hans == "社会工作宣传周"
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(
            url, {**data, "logo": upload("ok.png", image_bytes(), "image/png")}
        )
    assert saved.status_code == 302
    event.refresh_from_db()
    assert event.title_zh_hans == "宁波社工宣传周"
    assert event.title_en == "Social Work Publicity Week"
    assert re.fullmatch(r"branding/[0-9a-f]{24}\.png", event.logo.name)
    assert default_storage.exists(event.logo.name)


def test_a_new_event_is_created_in_both_languages_with_its_logo(
    signed_in, event
) -> None:
    page = signed_in.get(reverse("console:event_new")).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert "Asia/Shanghai (China Standard Time)" in page  # readable zone labels
    response = signed_in.post(
        reverse("console:event_new"),
        {
            "title_zh_hans": "志愿者日",
            "title_en": "Volunteer Day",
            "slug": "volunteer-day",
            "timezone": "Asia/Shanghai",
            "starts_on": "2030-09-01",
            "ends_on": "2030-09-01",
            "venue_name_zh_hans": "宁波人才之家",
            "venue_name_en": "",
            "venue_address_zh_hans": "",
            "venue_address_en": "",
            "reminder_offsets": "",
            "accent_colour": "#e8590c",
            "logo": upload("logo.webp", image_bytes("WEBP"), "image/webp"),
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    created = Event.objects.get(slug="volunteer-day")
    assert (created.title_zh_hans, created.title_en) == ("志愿者日", "Volunteer Day")
    assert created.venue.name_zh_hans == "宁波人才之家"
    assert created.accent_colour == "#E8590C"
    assert created.logo.name.endswith(".webp")
    assert created.status == Event.Status.DRAFT
