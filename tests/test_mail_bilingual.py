"""Every email in its reader's language, with the event's branding, names in its
headers, local times said the local way, and calendar files that say who
organises. Emails are made by the services and delivered by the worker's path."""

import base64
import datetime as dt
import email
import email.policy
import html
import os
import re

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.db.models.signals import pre_save
from django.utils import timezone
from icalendar import Calendar

from events import services
from events.branding import WHITE, contrast, hex_of, parse_colour, readable_on_white
from events.models import Event, Registration
from events.notices import reminders_plan
from notifications.delivery import BatchRenderer, render_message
from notifications.models import Notification
from notifications.services import notifications_deliver

from .mail_kinds import PEOPLE, TEXTS, branded_event, every_mail, logo_png, text

pytestmark = pytest.mark.django_db

ACCOUNT_KINDS = {"password_reset", "sign_in_locked"}
# Emails that show a session's or a ceremony's time.
TIMED_KINDS = {
    "registration_confirmed",
    "registration_waitlisted",
    "registration_promoted",
    "registration_cancelled",
    "manage_link",
    "session_reminder",
    "session_changed",
    "session_cancelled",
    "event_cancelled",
    "award_announced",
}
TICKET_KINDS = {"registration_confirmed", "registration_promoted", "manage_link"}
ZONE = {"en": "China Standard Time", "zh-hans": "北京时间"}
DATETIME = {
    "en": re.compile(r"\b\d{1,2} [A-Z][a-z]+ \d{4}, \d{2}:\d{2}\b"),
    "zh-hans": re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}"),
}
SENDER = "no-reply@podium.local"


@pytest.fixture(autouse=True)
def _mail(settings, tmp_path) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.DEFAULT_FROM_EMAIL = f"Podium <{SENDER}>"


def parsed(message) -> email.message.EmailMessage:
    """The email as its recipient's mail program reads the bytes SMTP carries."""
    return email.message_from_bytes(
        message.message().as_bytes(), policy=email.policy.default
    )


def header_line(message, name: str) -> bytes:
    raw = message.message().as_bytes()
    return re.search(rb"^" + name.encode() + rb": .*$", raw, re.MULTILINE)[0]


def readable(mime: email.message.EmailMessage) -> str:
    """Subject, text, HTML (as text) and calendar files of an email, in one string."""
    parts = [str(mime["Subject"])]
    for part in mime.walk():
        if part.get_content_type() in ("text/plain", "text/calendar"):
            parts.append(part.get_content())
        elif part.get_content_type() == "text/html":
            parts.append(html.unescape(part.get_content()))
    # Calendar files fold long lines and escape commas: unfold and unescape.
    return re.sub(r"\r?\n ", "", "\n".join(parts)).replace("\\,", ",")


def calendars(mime: email.message.EmailMessage) -> list:
    return [
        Calendar.from_ical(part.get_content()).walk("VEVENT")[0]
        for part in mime.walk()
        if part.get_content_type() == "text/calendar"
    ]


def untimed(words: str) -> str:
    """Unsubscribe tokens sign the second they were made: two renderings differ."""
    return re.sub(r"/unsubscribe/[^/\s]+/", "/unsubscribe/T/", words)


def row_of(message) -> Notification:
    return Notification.objects.get(message_id=message.extra_headers["Message-ID"])


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_email_speaks_the_readers_language(language) -> None:
    """Content in the reader's language and none in the other one; the organiser
    signs the From header; the zone is said the local way, never as its id."""
    other = "en" if language == "zh-hans" else "zh-hans"
    delivered = every_mail(language)
    for kind, message in delivered.items():
        mime = parsed(message)
        words = readable(mime)
        for name in TEXTS:
            assert text(name, other) not in words, (kind, name)
        assert "Asia/Shanghai" not in words, kind
        sender = mime["From"].addresses[0]
        assert sender.addr_spec == SENDER, kind
        if kind in ACCOUNT_KINDS:
            assert sender.display_name == "Podium", kind
            continue
        assert sender.display_name == text("organiser_name", language), kind
        assert text("event_title", language) in words, kind
        assert (
            text("organiser_name", language) in mime.get_body(("plain",)).get_content()
        )
        if kind in TIMED_KINDS:
            assert ZONE[language] in words, kind
            assert DATETIME[language].search(words), kind
    confirmation = readable(parsed(delivered["registration_confirmed"]))
    for name in ("session_title", "venue_name", "venue_address"):
        assert text(name, language) in confirmation
    award = readable(parsed(delivered["award_announced"]))
    for name in ("batch_title", "category_name", "recipient_name", "ceremony_title"):
        assert text(name, language) in award
    judge = readable(parsed(delivered["judge_invited"]))
    assert text("batch_title", language) in judge
    assert text("category_name", language) in judge


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_to_carries_the_recipients_name(language) -> None:
    """ "张伟 <zhang@…>": the name in the To header, RFC 2047 encoded when it is not
    ASCII; an address without a name is still written in angle brackets."""
    delivered = every_mail(language)
    for kind in ("registration_confirmed", "session_reminder", "event_cancelled"):
        message = delivered[kind]
        to = parsed(message)["To"].addresses
        assert [a.display_name for a in to] == [PEOPLE[language]], kind
        assert message.to == [to[0].addr_spec], "the envelope names the address"
        line = header_line(message, "To")
        if language == "zh-hans":
            assert line.startswith(b"To: =?utf-8?b?"), line
        else:
            assert line == f"To: Ann Lee <{to[0].addr_spec}>".encode()
    award = parsed(delivered["award_announced"])["To"].addresses[0]
    assert award.display_name == text("recipient_name", language)
    for kind in ("judge_invited", "password_reset"):
        line = header_line(delivered[kind], "To")
        assert re.fullmatch(rb"To: <[^<>\s]+@example\.org>", line), line


def test_names_that_need_quoting_parse_back() -> None:
    """Quotes, commas, angle brackets and line breaks in a name stay in the name."""
    event = branded_event(slug="quoting", logo=False)
    from .mail_kinds import _session

    session = _session(event, "session_title", timezone.now() + dt.timedelta(days=9))
    names = ['王"小明"', "Lee, Ann", "O'Brien & <Söhne>", "张伟\n宁波"]
    for n, name in enumerate(names):
        services.registration_create(
            session=session,
            attendee=services.AttendeeData(
                full_name=name, email=f"q{n}@example.org", language="en"
            ),
        )
    notifications_deliver(ids=list(Notification.objects.values_list("pk", flat=True)))
    got = {m.to[0]: parsed(m)["To"].addresses[0].display_name for m in mail.outbox}
    assert got == {
        f"q{n}@example.org": " ".join(name.split()) for n, name in enumerate(names)
    }


def test_calendar_files_name_the_organiser_in_the_readers_language() -> None:
    """ORGANIZER is the organiser (CN) at the address mail comes from; SUMMARY,
    LOCATION and DESCRIPTION in the reader's language; times are the session's."""
    for language in ("en", "zh-hans"):
        delivered = every_mail(language)
        for kind in (
            "registration_confirmed",
            "registration_promoted",
            "session_changed",
            "session_cancelled",
            "registration_cancelled",
            "event_cancelled",
            "award_announced",
        ):
            message = delivered[kind]
            row = row_of(message)
            events = calendars(parsed(message))
            assert events, kind
            for vevent in events:
                organizer = vevent["ORGANIZER"]
                assert str(organizer) == f"mailto:{SENDER}", kind
                assert organizer.params["CN"] == text("organiser_name", language)
                assert text("event_title", language) in str(vevent["SUMMARY"])
                assert text("venue_name", language) in str(vevent["LOCATION"])
                assert vevent["SUMMARY"].params["LANGUAGE"] == (
                    "zh-Hans" if language == "zh-hans" else "en"
                )
                assert vevent.decoded("DTSTART").utcoffset() == dt.timedelta(0)
            if "starts_at" in row.context:
                start = dt.datetime.fromisoformat(row.context["starts_at"])
                assert events[0].decoded("DTSTART") == start, kind
            if kind == "registration_confirmed":
                code = row.context["code"]
                description = str(events[0]["DESCRIPTION"])
                assert code in description and row.context["manage_url"] in description


def test_the_ticket_is_in_words_beside_its_qr_image() -> None:
    """The QR image comes with what it is, the ticket code as text and the manage
    link; the text part carries all of it."""
    for language in ("en", "zh-hans"):
        delivered = every_mail(language)
        for kind in TICKET_KINDS:
            message = delivered[kind]
            row = row_of(message)
            code, link = row.context["code"], row.context["manage_url"]
            mime = parsed(message)
            plain = mime.get_body(("plain",)).get_content()
            assert code in plain and link in plain, kind
            assert f"ticket-{code}.png" in plain, "the text names the QR image"
            page = mime.get_body(("html",)).get_content()
            assert 'src="cid:ticket-qr"' in page
            assert re.search(rf'alt="[^"]*{code}[^"]*"', page), (
                "the image says its code"
            )
            assert page.count(code) >= 2 and html.escape(link) in page
            images = {p["Content-ID"]: p for p in mime.walk() if p["Content-ID"]}
            assert images["<ticket-qr>"].get_content_type() == "image/png"


def test_the_logo_is_inline_beside_the_html_and_read_from_storage() -> None:
    delivered = every_mail("zh-hans")
    for kind, message in delivered.items():
        mime = parsed(message)
        page = mime.get_body(("html",)).get_content()
        logos = [p for p in mime.walk() if p["Content-ID"] == "<event-logo>"]
        if kind in ACCOUNT_KINDS:
            assert not logos and "cid:event-logo" not in page
            continue
        assert len(logos) == 1, kind
        assert logos[0].get_content() == logo_png()
        assert logos[0].get_content_type() == "image/png"
        assert 'src="cid:event-logo"' in page
        assert 'alt="' + text("organiser_name", "zh-hans") in html.unescape(page) or (
            text("organiser_name", "zh-hans") in html.unescape(page)
        )
        # The images go with the HTML in multipart/related (RFC 2387).
        related = next(
            p for p in mime.walk() if p.get_content_type() == "multipart/related"
        )
        assert next(related.iter_parts()).get_content_type() == "text/html"
        assert any(p["Content-ID"] == "<event-logo>" for p in related.iter_parts())


def test_a_logo_gone_from_storage_is_left_out_and_the_email_still_goes() -> None:
    event = branded_event(slug="gone")
    from .mail_kinds import _session

    session = _session(event, "session_title", timezone.now() + dt.timedelta(days=9))
    registration = services.registration_create(
        session=session,
        attendee=services.AttendeeData(
            full_name="张伟", email="z@example.org", language="zh-hans"
        ),
    )
    default_storage.delete(event.logo.name)
    notifications_deliver(ids=list(Notification.objects.values_list("pk", flat=True)))
    (message,) = mail.outbox
    mime = parsed(message)
    page = mime.get_body(("html",)).get_content()
    assert "cid:event-logo" not in page
    assert not [p for p in mime.walk() if p["Content-ID"] == "<event-logo>"]
    assert registration.code in mime.get_body(("plain",)).get_content()
    assert Notification.objects.get().status == "sent"


def test_an_event_without_a_logo_sends_none_and_falls_back_to_the_other_language() -> (
    None
):
    """No logo: no image and no <img> for it. A title written in English only
    reaches a Chinese reader in English (the fallback), not as an empty string."""
    event = branded_event(slug="plain", logo=False)
    event.title_zh_hans = None
    event.organiser_name_zh_hans = None
    event.save()
    from .mail_kinds import _session

    session = _session(event, "session_title", timezone.now() + dt.timedelta(days=9))
    services.registration_create(
        session=session,
        attendee=services.AttendeeData(
            full_name="张伟", email="z@example.org", language="zh-hans"
        ),
    )
    message = render_message(Notification.objects.get())
    mime = parsed(message)
    page = mime.get_body(("html",)).get_content()
    assert "cid:event-logo" not in page and "<img" in page  # the QR only
    words = readable(mime)
    assert text("event_title", "en") in words
    assert text("session_title", "zh-hans") in words
    assert mime["From"].addresses[0].display_name == text("organiser_name", "en")


def test_reminders_rendered_once_per_language_carry_each_name_and_the_logo() -> None:
    """The fan-out renders each language once; each email still names its own
    recipient in To and in the greeting, and carries the event's logo."""
    event = branded_event(slug="fanout", reminder_offsets=[120])
    from .mail_kinds import _session

    session = _session(
        event, "session_title", timezone.now() + dt.timedelta(minutes=90)
    )
    people = [
        ("陈佳萌", "zh-hans"),
        ("O'Brien & <Söhne>", "en"),
        ('王"小明"', "zh-hans"),
        ("Ann Lee", "en"),
    ]
    for n, (name, language) in enumerate(people):
        services.registration_create(
            session=session,
            attendee=services.AttendeeData(
                full_name=name, email=f"p{n}@example.org", language=language
            ),
        )
    Registration.objects.update(created_at=timezone.now() - dt.timedelta(days=1))
    reminders_plan()
    rows = list(
        Notification.objects.filter(kind="session_reminder", status="pending").order_by(
            "recipient"
        )
    )
    assert len(rows) == len(people)
    renderer = BatchRenderer(rows)
    for row in rows:
        batched = parsed(render_message(row, renderer=renderer))
        alone = parsed(render_message(row))
        name = people[int(row.recipient[1])][0]
        assert batched["To"].addresses[0].display_name == name
        assert str(batched["To"]) == str(alone["To"])
        assert untimed(batched.get_body(("plain",)).get_content()) == untimed(
            alone.get_body(("plain",)).get_content()
        )
        assert name in batched.get_body(("plain",)).get_content()
        assert [p for p in batched.walk() if p["Content-ID"] == "<event-logo>"]
        assert batched["List-Unsubscribe"] and batched["Auto-Submitted"]
    groups = list(renderer._groups.values())
    assert len(groups) == 2 and all(parts is not None for parts in groups)
    assert len(renderer.stored_images) == 1, "the logo is read once per batch"


@pytest.mark.parametrize(("accept", "language"), [("zh-CN", "zh-hans"), ("en", "en")])
def test_the_manage_pages_calendar_file_is_the_mails_in_the_pages_language(
    client, accept, language
) -> None:
    event = branded_event(slug=f"page-{language}", logo=False)
    from .mail_kinds import _session

    session = _session(event, "session_title", timezone.now() + dt.timedelta(days=9))
    registration = services.registration_create(
        session=session,
        attendee=services.AttendeeData(
            full_name="张伟", email="z@example.org", language="en"
        ),
    )
    response = client.get(
        f"/r/{registration.code}/calendar.ics?token={registration.token}",
        HTTP_ACCEPT_LANGUAGE=accept,
    )
    assert response.status_code == 200
    vevent = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert vevent["ORGANIZER"].params["CN"] == text("organiser_name", language)
    assert str(vevent["ORGANIZER"]) == f"mailto:{SENDER}"
    assert text("session_title", language) in str(vevent["SUMMARY"])
    assert text("venue_name", language) in str(vevent["LOCATION"])
    assert vevent.decoded("DTSTART") == session.starts_at.replace(microsecond=0)


def test_only_a_small_png_jpeg_gif_or_webp_goes_inline() -> None:
    """A stored image is told by its bytes, not its name: anything else (an SVG
    under a .png name, a huge file, a missing one) is left out, with its <img>."""
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    from notifications import delivery
    from notifications.delivery import attachments_drawn

    jpeg = io.BytesIO()
    Image.new("RGB", (40, 20), "orange").save(jpeg, format="JPEG")
    # A logo the console accepts (under 2 MB) but too heavy for every email: noise
    # does not compress, 600 x 600 of it is about a megabyte of PNG.
    heavy = io.BytesIO()
    Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3)).save(
        heavy, format="PNG"
    )
    assert len(heavy.getvalue()) > delivery.STORED_IMAGE_MAX_BYTES
    names = {
        "jpeg": default_storage.save("branding/a.bin", ContentFile(jpeg.getvalue())),
        "svg": default_storage.save("branding/b.png", ContentFile(b"<svg></svg>")),
        "heavy": default_storage.save("branding/c.png", ContentFile(heavy.getvalue())),
        "huge": default_storage.save(
            "branding/d.png",
            ContentFile(logo_png() + b"\0" * delivery.STORED_IMAGE_READ_LIMIT),
        ),
        "gone": "branding/never-saved.png",
    }
    recipes = [
        {
            "filename": "logo",
            "mimetype": "image/png",
            "draw": "stored_image",
            "stored_image": name,
            "content_id": f"logo-{kind}",
            "context_key": f"{kind}_cid",
        }
        for kind, name in names.items()
    ]
    cache: dict = {}
    drawn = attachments_drawn(recipes, images=cache)
    assert [(a["content_id"], a["mimetype"]) for a in drawn] == [
        ("logo-jpeg", "image/jpeg"),
        ("logo-heavy", "image/png"),
    ]
    assert drawn[0]["filename"] == "logo.jpg"
    # The heavy logo goes as a smaller copy, not left out (nor a megabyte a mail).
    copy = base64.b64decode(drawn[1]["content_base64"])
    assert len(copy) <= delivery.STORED_IMAGE_MAX_BYTES
    with Image.open(io.BytesIO(copy)) as image:
        assert max(image.size) == delivery.MAIL_IMAGE_MAX_SIDE
    assert delivery.inline_images(drawn) == {
        "jpeg_cid": "logo-jpeg",
        "heavy_cid": "logo-heavy",
    }
    assert set(cache) == set(names.values())


def test_one_batch_of_confirmations_for_different_sessions_is_all_sent() -> None:
    """Rows of one template and language whose times differ cannot be rendered
    with placeholders (a date filter needs the real value): they are rendered one
    by one, and every email goes, none failed for good."""
    event = branded_event(slug="batch", logo=False)
    from .mail_kinds import _session

    now = timezone.now()
    for n in range(3):
        session = _session(event, "session_title", now + dt.timedelta(days=5 + n))
        services.registration_create(
            session=session,
            attendee=services.AttendeeData(
                full_name=f"Person {n}", email=f"b{n}@example.org", language="en"
            ),
        )
    notifications_deliver(ids=list(Notification.objects.values_list("pk", flat=True)))
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert sorted(m.to[0] for m in mail.outbox) == [
        f"b{n}@example.org" for n in range(3)
    ]


PALE = "#FFE94D"


def test_a_pale_accent_is_darkened_for_text_and_kept_for_borders() -> None:
    """A yellow accent as text on white is unreadable: the organiser's name and
    the links are drawn in the accent darkened to 4.5:1 on white (as on the web
    pages); the borders keep the colour as entered."""

    def pale(sender, instance, **kwargs) -> None:
        instance.accent_colour = PALE

    pre_save.connect(pale, sender=Event)
    try:
        delivered = every_mail("en")
    finally:
        pre_save.disconnect(pale, sender=Event)
    shade = readable_on_white(parse_colour(PALE))
    assert contrast(shade, WHITE) >= 4.5 and hex_of(shade) != PALE
    for kind, message in delivered.items():
        if kind in ACCOUNT_KINDS:
            continue
        page = parsed(message).get_body(("html",)).get_content()
        assert not re.search(rf"color:\s*{PALE}", page, re.IGNORECASE), kind
        assert f"color:{hex_of(shade)}" in page, kind
        assert f"solid {PALE}" in page, kind
    confirmation = parsed(delivered["registration_confirmed"])
    page = confirmation.get_body(("html",)).get_content()
    link = re.search(r'<a href="[^"]*/r/[^"]*" style="color:(#\w{6})', page)
    assert link and link[1] == hex_of(shade)
    assert f'color:{hex_of(shade)}">{text("organiser_name", "en")}' in page


def _html_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_no_space_follows_chinese_full_width_punctuation() -> None:
    """Chinese puts no space after "：" or "。": "时间：2026年…", "票码：ABC";
    English keeps its space after a label and between sentences."""
    after_full_width = re.compile(r"[：。，；？！] ")
    for language in ("zh-hans", "en"):
        for kind, message in every_mail(language).items():
            mime = parsed(message)
            plain = mime.get_body(("plain",)).get_content()
            words = _html_text(mime.get_body(("html",)).get_content())
            for part in (plain, words):
                assert not after_full_width.search(part), (kind, language, part)
            if kind != "registration_confirmed":
                continue
            code = row_of(message).context["code"]
            if language == "zh-hans":
                assert f"票码：{code}" in plain and f"票码：{code}" in words
                assert re.search(r"时间：\d{4}年", plain)
                assert "二维码。入场时" in plain
            else:
                assert f"Ticket code: {code}" in plain
                assert f"Ticket code: {code}" in words
                assert re.search(r"When: \d", plain)
                assert "ticket code. At the door" in plain


def _with_images(message) -> str:
    """The HTML with its cid: images as data: URLs, as a mail program shows it."""
    mime = parsed(message)
    page = mime.get_body(("html",)).get_content()
    for part in mime.walk():
        if part["Content-ID"]:
            cid = part["Content-ID"].strip("<>")
            data = base64.b64encode(part.get_content()).decode()
            url = f"data:{part.get_content_type()};base64,{data}"
            page = page.replace(f"cid:{cid}", url)
    return page


@pytest.mark.browser
def test_every_email_fits_a_phone_without_scrolling_sideways(chromium_path) -> None:
    """On a 390 px wide phone no email is wider than the screen, in either
    language: the sheet is fluid and the ticket's QR code stacks above its code."""
    from playwright.sync_api import sync_playwright

    pages = [
        (language, kind, _with_images(message))
        for language in ("en", "zh-hans")
        for kind, message in every_mail(language).items()
    ]
    # Playwright's sync API runs an event loop: the mails are made before it starts.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            tab = browser.new_page(viewport={"width": 390, "height": 800})
            for language, kind, page in pages:
                tab.set_content(page)
                width = tab.evaluate("document.documentElement.scrollWidth")
                assert width <= 390, (language, kind, width)
        finally:
            browser.close()


def test_a_chinese_venue_and_its_address_are_joined_with_a_chinese_comma() -> None:
    """ "宁波人才之家, 宁波市江北区" read as English punctuation in Chinese mail and
    calendar files; English keeps its ", "."""
    from events.models import Venue
    from events.notices import registration_calendar

    event = branded_event(slug="venue-comma", logo=False)
    venue = Venue.objects.create(
        name_zh_hans="宁波人才之家",
        name_en="Ningbo Talents House",
        address_zh_hans="宁波市江北区",
        address_en="Jiangbei District, Ningbo",
    )
    from .mail_kinds import _session

    session = _session(
        event, "session_title", timezone.now() + dt.timedelta(days=11), venue=venue
    )
    registration = services.registration_create(
        session=session,
        attendee=services.AttendeeData(
            full_name="张伟", email="venue-zh@example.org", language="zh-hans"
        ),
    )

    def location(language: str) -> str:
        ics = registration_calendar(registration, language=language)
        (event,) = Calendar.from_ical(ics).walk("VEVENT")
        return str(event["location"])

    assert location("zh-hans") == "宁波人才之家，宁波市江北区"
    assert location("en") == "Ningbo Talents House, Jiangbei District, Ningbo"
