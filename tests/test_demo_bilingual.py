"""The demo tells its story in both languages (issue 10, "Done when").

``seed_demo`` is loaded, and every page, email, calendar file and certificate of the
demo is read in Chinese and in English: none may show an English value of a
translated field where its Chinese value exists, nor the reverse. The pairs come
from the database (every registered translated field of every row where both
values are filled and differ), so a new translated field is checked without a
change here.
"""

import html
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from modeltranslation.translator import translator

from awards.models import AwardBatch, Certificate, District, Recipient
from events.models import Event, Registration, Session
from events.services import AttendeeData, registration_create
from notifications.delivery import render_message
from notifications.models import Notification

from .console_walk import console_routes
from .factories import UserFactory

pytestmark = pytest.mark.django_db

SLUG = "social-work-week-2021"
LANGUAGES = {"zh-hans": "zh-CN,zh;q=0.9", "en": "en"}
# A text shorter than this says too little to be told apart ("区", "No.").
SHORTEST = 4
# A long text is looked for by its beginning too, so that a shortened one is found.
PREFIX = {"en": 30, "zh-hans": 12}


@dataclass
class Pairs:
    """Each translated value, by the language it is written in."""

    values: dict[str, set[str]] = field(
        default_factory=lambda: {"en": set(), "zh-hans": set()}
    )
    _foreign: dict[str, list[str]] = field(default_factory=dict)

    def foreign(self, language: str) -> list[str]:
        """The texts that must not show to a reader of ``language``: the other
        language's values (and beginnings of long ones) that do not occur in any
        text of ``language`` itself (a name such as "LOGO" may be in both)."""
        if language not in self._foreign:
            self._foreign[language] = self._needles(language)
        return self._foreign[language]

    def _needles(self, language: str) -> list[str]:
        other = "en" if language == "zh-hans" else "zh-hans"
        own = "\n".join(self.values[language])
        needles = set()
        for value in self.values[other]:
            for needle in (value, value[: PREFIX[other]]):
                if len(needle) >= SHORTEST and needle not in own:
                    needles.add(needle)
        return sorted(needles, key=len, reverse=True)


def translated_pairs() -> Pairs:
    pairs = Pairs()
    for model in translator.get_registered_models():
        fields = translator.get_options_for_model(model).get_field_names()
        for row in model._default_manager.all():
            for name in fields:
                en = (getattr(row, f"{name}_en") or "").strip()
                zh = (getattr(row, f"{name}_zh_hans") or "").strip()
                if en and zh and en != zh:
                    pairs.values["en"].add(en)
                    pairs.values["zh-hans"].add(zh)
    return pairs


_FORM_VALUES = re.compile(
    r"<textarea\b.*?</textarea>|\svalue=\"[^\"]*\"|<script\b.*?</script>",
    re.S | re.I,
)
_DECLARED = re.compile(
    r"<(span|p|div|li|td|th|dd|dt|em|strong|small|a|pre|code|h\d)\b[^>]*\slang=\"([^\"]+)\"[^>]*>.*?</\1>",
    re.S | re.I,
)


def readable(content: str, language: str) -> str:
    """What a page says to its reader in ``language``. The console edits both
    languages side by side: what is in a form's fields (values, textareas), and an
    element that declares the other language (``<span lang="en">``), are left out."""
    content = _FORM_VALUES.sub(" ", content)

    def declared(match: re.Match[str]) -> str:
        said = match.group(2).lower()
        return match.group(0) if said.startswith(language[:2]) else " "

    return html.unescape(_DECLARED.sub(declared, content))


def people() -> list[str]:
    """What attendees are called and where they work, as each registered (a
    recipient's reserved ceremony seat carries its name in one language): a
    person's own words, in one language by nature, not translated content."""
    said = set()
    for name, organisation in Registration.objects.values_list(
        "full_name", "organisation"
    ):
        said.update(text for text in (name, organisation) if text)
    return sorted(said, key=len, reverse=True)


@dataclass
class Findings:
    pairs: Pairs
    found: list[str] = field(default_factory=list)
    checked: int = 0
    people: list[str] = field(default_factory=people)

    def check(self, where: str, text: str, language: str) -> None:
        self.checked += 1
        if re.search(r"/(attendees|people|check-in)/|^/organise/[\w-]+/$", where):
            # Pages about the people who registered: their own words are left out
            # there, and only there (elsewhere they would hide a real finding).
            for said in self.people:
                text = text.replace(said, " ")
        for needle in self.pairs.foreign(language):
            if needle in text:
                self.found.append(f"{language} {where}: {needle!r}")
                # Longest first: a long value found is not found again by its
                # beginning.
                text = text.replace(needle, "")

    def assert_none(self) -> None:
        assert self.checked, "nothing was read"
        assert not self.found, "\n".join(
            [f"{len(self.found)} texts in the wrong language:", *self.found]
        )


@pytest.fixture
def demo() -> Event:
    call_command("seed_demo", stdout=io.StringIO())
    return Event.objects.get(slug=SLUG)


def reader(language: str) -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=LANGUAGES[language])


def register(event: Event, language: str, n: int) -> Registration:
    """A registration made in ``language`` on the demo week (with its emails)."""
    session = event.sessions.order_by("starts_at").first()
    assert session is not None
    return registration_create(
        session=session,
        attendee=AttendeeData(
            full_name="张伟" if language == "zh-hans" else "Wei Zhang",
            email=f"bilingual-{language}-{n}@example.org",
            language=language,
        ),
        answers={},
    )


def public_paths(event: Event, registration: Registration) -> list[str]:
    certificate = (
        Certificate.objects.filter(batch__category__event=event).order_by("pk").first()
    )
    assert certificate is not None
    return [
        "/",
        f"/events/{event.slug}/",
        f"/events/{event.slug}/register/",
        f"/r/{registration.code}/?token={registration.token}",
        "/honour-roll/",
        f"/honour-roll/?district={District.objects.get(name_en='Jiangbei District').name_zh_hans}",
        "/verify/",
        f"/verify/{certificate.number}/",
    ]


def console_paths(event: Event) -> list[str]:
    """Every console page of the demo event, each batch's pages for each batch."""
    session = event.sessions.order_by("starts_at").first()
    registration = (
        Registration.objects.filter(session__event=event).order_by("pk").first()
    )
    notification = (
        Notification.objects.filter(scope=f"event:{event.pk}").order_by("pk").first()
    )
    question = event.questions.order_by("pk").first()
    paths = set()
    for batch in AwardBatch.objects.filter(category__event=event):
        nomination = batch.nominations.order_by("pk").first()
        certificate = batch.certificates.order_by("pk").first()
        judge = batch.judges.order_by("pk").first()
        values = {
            "slug": event.slug,
            "session_id": session.pk,
            "pk": session.pk,
            "id": session.pk,
            "code": registration.code,
            "batch_id": batch.pk,
            "notification_id": notification.pk if notification else 0,
            "category_id": batch.category_id,
            "nomination_id": nomination.pk,
            "number": certificate.number if certificate else "NONE",
            "user_id": judge.pk if judge else 0,
            "question_id": question.pk if question else 0,
            "district_id": District.objects.filter(event=event).order_by("pk")[0].pk,
        }
        for route in console_routes():
            if any(skip in route for skip in ("logout", "/delete/", "/remove/")):
                continue
            mail = "/mail/" in route
            values["pk"] = values["id"] = (
                values["notification_id"] if mail else session.pk
            )
            paths.add(
                "/"
                + re.sub(
                    r"<(?:(\w+):)?(\w+)>",
                    lambda m, v=values: str(v.get(m.group(2), 0)),
                    route,
                )
            )
    return sorted(paths)


def read_html(client: Client, path: str) -> tuple[int, str]:
    response = client.get(path)
    content_type = response.get("Content-Type", "")
    if response.status_code != 200 or "text/html" not in content_type:
        return response.status_code, ""
    if getattr(response, "streaming", False):
        return 200, b"".join(response.streaming_content).decode()
    return 200, response.content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_page_of_the_demo_reads_in_one_language(demo, language) -> None:
    """Public pages, the organiser's console and the judge's page of the demo show
    each translated text in the reader's language only."""
    registration = register(demo, language, 1)
    findings = Findings(translated_pairs())
    public = reader(language)
    suffix = "zh_hans" if language == "zh-hans" else "en"
    # What each page must say in the reader's language: the check is not vacuous.
    expected = {
        "/": getattr(demo, f"title_{suffix}"),
        f"/events/{demo.slug}/": getattr(demo.venue, f"name_{suffix}"),
        "/honour-roll/": "湾头社区" if language == "zh-hans" else "Wantou Community",
    }
    for path in public_paths(demo, registration):
        status, content = read_html(public, path)
        assert status == 200, f"{path} answered {status}"
        if path in expected:
            assert expected[path] in html.unescape(content), (path, expected[path])
        findings.check(path, readable(content, language), language)

    organiser = UserFactory(is_staff=False)
    demo.organisers.add(organiser)
    console = reader(language)
    console.force_login(organiser)
    read = 0
    for path in console_paths(demo):
        status, content = read_html(console, path)
        assert status < 500, f"{path} answered {status}"
        if not content:
            continue
        read += 1
        shown = language
        if mail := re.search(r"/mail/(\d+)/", path):
            # An email is shown as its recipient reads it, in their language: the
            # preview alone; the page around it is the organiser's, in theirs, and
            # holds both, so only the preview is read.
            if not path.endswith("/preview/"):
                continue
            row = Notification.objects.get(pk=mail.group(1))
            shown = "zh-hans" if row.language.startswith("zh") else "en"
        findings.check(path, readable(content, shown), shown)
    assert read >= 10, "the console walk read too few pages"

    judge = reader(language)
    judge.force_login(
        AwardBatch.objects.get(number=5).judges.get(email="judge@example.org")
    )
    fifth = AwardBatch.objects.get(number=5)
    status, content = read_html(judge, f"/judging/{fifth.pk}/")
    assert status == 200
    cicheng = (
        "慈城镇社会工作站"
        if language == "zh-hans"
        else "Cicheng Town Social Workstation"
    )
    assert cicheng in html.unescape(content), "the judge reads the reader's names"
    findings.check("judging page", readable(content, language), language)
    findings.assert_none()


def test_every_email_of_the_demo_reads_in_its_recipients_language(demo) -> None:
    """Each kind of email the demo writes, rendered as delivery renders it, is in
    the recipient's language, its calendar file included."""
    for n, language in enumerate(["zh-hans", "en", "zh-hans", "en"]):
        register(demo, language, n)
    findings = Findings(translated_pairs())
    seen: dict[tuple[str, str], int] = {}
    for row in Notification.objects.order_by("pk"):
        key = (row.kind, row.language)
        if seen.get(key, 0) >= 3:
            continue
        seen[key] = seen.get(key, 0) + 1
        message = render_message(row)
        parts = [message.subject, message.body]
        parts += [str(content) for content, _type in message.alternatives]
        for attachment in message.attachments:
            if isinstance(attachment, tuple) and str(attachment[2]).startswith("text/"):
                parts.append(str(attachment[1]))
            elif hasattr(attachment, "get_content_type") and (
                attachment.get_content_type().startswith("text/")
            ):
                parts.append(attachment.get_payload(decode=True).decode())
        language = "zh-hans" if row.language.startswith("zh") else "en"
        findings.check(
            f"email {row.kind} #{row.pk}", html.unescape("\n".join(parts)), language
        )
    for kind in ("registration_confirmed", "award_announced"):
        assert {language for k, language in seen if k == kind} == {"zh-hans", "en"}
    assert "registration_waitlisted" in {kind for kind, _language in seen}
    findings.assert_none()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_calendar_file_and_certificate_read_in_one_language(demo, language) -> None:
    """The calendar file of a registration and a certificate PDF (its text, as
    pdftotext reads it) speak the reader's language."""
    registration = register(demo, language, 9)
    findings = Findings(translated_pairs())
    client = reader(language)
    calendar = client.get(
        f"/r/{registration.code}/calendar.ics?token={registration.token}"
    )
    assert calendar.status_code == 200
    ics = calendar.content.decode()
    # Folded lines (RFC 5545) are unfolded before reading.
    findings.check(
        "calendar file", ics.replace("\r\n ", "").replace("\\,", ","), language
    )

    for certificate in Certificate.objects.filter(
        nomination__recipient__name_en__in=["Wantou Community", "Chen Jiammeng"]
    ):
        pdf = client.get(f"/api/v1/certificates/{certificate.number}/pdf/")
        assert pdf.status_code == 200
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True
        ).stdout.decode()
        flat = " ".join(text.split())
        findings.check(f"certificate {certificate.number}", flat, language)
        recipient = certificate.nomination.recipient
        suffix = "zh_hans" if language == "zh-hans" else "en"
        # The recipient, the issuing body and the signatory, in the reader's language.
        for said in (
            getattr(recipient, f"name_{suffix}"),
            getattr(demo, f"organiser_name_{suffix}"),
            getattr(demo, f"signatory_name_{suffix}"),
            getattr(demo, f"signatory_title_{suffix}"),
        ):
            assert said in flat, f"{certificate.number} ({language}) lacks {said}"
        issued = certificate.issued_on
        date = (
            f"{issued.year}年{issued.month}月{issued.day}日"
            if language == "zh-hans"
            else f"{issued.day} {issued.strftime('%B')} {issued.year}"
        )
        assert date in flat, f"{certificate.number} ({language}) lacks {date}"
        assert issued.isoformat() not in flat
        # The logo and the seal are images on the page (the QR code may be one too).
        images = subprocess.run(
            ["pdfimages", "-list", "-"], input=pdf.content, capture_output=True
        )
        if images.returncode == 0:
            listed = images.stdout.decode().splitlines()[2:]
            assert sum(" image " in row for row in listed) >= 2, "no logo or seal"
    findings.assert_none()


@pytest.mark.parametrize("query", ["江北区", "Jiangbei", "jiangbei district"])
def test_the_honour_roll_finds_wantou_by_either_name_of_its_district(
    demo, query
) -> None:
    for language in LANGUAGES:
        client = reader(language)
        for parameter in ("district", "q"):
            page = client.get("/honour-roll/", {parameter: query}).content.decode()
            wanted = "湾头社区" if language == "zh-hans" else "Wantou Community"
            assert wanted in page, (language, parameter, query)
            assert "Demo Community 01" not in page and "示范社区01" not in page, (
                "Demo Community 01 is in Yinzhou District"
            )


def test_the_demo_tells_the_story_in_both_languages(demo) -> None:
    """The story's names, each language in its own column, never glued."""
    assert demo.title_zh_hans == "2021年宁波（江北）社会工作宣传周"
    assert demo.title_en == "2021 Ningbo (Jiangbei) Social Work Publicity Week"
    assert (demo.venue.name_en, demo.venue.name_zh_hans) == (
        "Ningbo Talents House",
        "宁波人才之家",
    )
    assert demo.organiser_name_zh_hans and demo.organiser_name_en
    assert demo.signatory_name_zh_hans and demo.signatory_title_en
    for model in translator.get_registered_models():
        fields = translator.get_options_for_model(model).get_field_names()
        for row in model._default_manager.all():
            for name in fields:
                for suffix in ("en", "zh_hans"):
                    value = getattr(row, f"{name}_{suffix}") or ""
                    assert " · " not in value, f"{model.__name__}.{name}: {value}"
                    if suffix == "en":
                        assert not re.search(r"[\u4e00-\u9fff]", value), value
    names = {(r.name_en, r.name_zh_hans) for r in Recipient.objects.all()}
    assert {
        ("Wantou Community", "湾头社区"),
        ("Chen Jiammeng", "陈佳萌"),
        ("Cicheng Town Social Workstation", "慈城镇社会工作站"),
        ("Demo Community 07", "示范社区07"),
    } <= names
    assert set(District.objects.values_list("name_en", "name_zh_hans")) >= {
        ("Haishu District", "海曙区"),
        ("Yinzhou District", "鄞州区"),
        ("Jiangbei District", "江北区"),
    }
    titles = set(Session.objects.values_list("title_zh_hans", flat=True))
    assert len(titles) == 5 and all(titles)
    year = demo.starts_on.year
    numbers = set(Certificate.objects.values_list("number", flat=True))
    assert f"NBSW-{year}-04-001" in numbers and f"NBSL-{year}-01-001" in numbers


def test_the_demo_event_carries_its_logo_seal_and_colour(demo) -> None:
    """The logo and seal are PNGs kept through Django's storage; a second run
    keeps the same files."""
    from PIL import Image

    for image in (demo.logo, demo.seal):
        assert image.name.startswith("branding/") and image.storage.exists(image.name)
        with image.storage.open(image.name, "rb") as file, Image.open(file) as drawn:
            assert drawn.format == "PNG" and drawn.mode == "RGBA"
            assert drawn.getpixel((0, 0))[3] == 0, "a transparent background"
    assert re.fullmatch(r"#[0-9A-F]{6}", demo.accent_colour)
    before = (demo.logo.name, demo.seal.name)
    call_command("seed_demo", stdout=io.StringIO())
    demo.refresh_from_db()
    assert (demo.logo.name, demo.seal.name) == before


def test_a_second_run_brings_the_texts_back(demo) -> None:
    """Texts of an earlier demo (glued, or missing a language) are put right by
    the next run, found by their stable names; nothing is added."""
    session = demo.sessions.get(title_en="Kick-off and logo release")
    Session.objects.filter(pk=session.pk).update(
        title_zh_hans="Kick-off and logo release · 启动仪式", description_zh_hans=""
    )
    wantou = Recipient.objects.get(name_en="Wantou Community")
    Recipient.objects.filter(pk=wantou.pk).update(name_zh_hans=None)
    counts = (
        Session.objects.count(),
        Recipient.objects.count(),
        District.objects.count(),
    )
    call_command("seed_demo", stdout=io.StringIO())
    session.refresh_from_db()
    wantou.refresh_from_db()
    assert session.title_zh_hans == "启动仪式暨宁波社工LOGO发布"
    assert session.description_zh_hans
    assert wantou.name_zh_hans == "湾头社区", (
        "an announced batch gains the missing language"
    )
    assert (
        Session.objects.count(),
        Recipient.objects.count(),
        District.objects.count(),
    ) == counts


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_calendar_file_names_the_organiser(demo, language) -> None:
    """Calendar files carry the event's organiser, in the reader's language."""
    registration = register(demo, language, 11)
    calendar = reader(language).get(
        f"/r/{registration.code}/calendar.ics?token={registration.token}"
    )
    ics = calendar.content.decode().replace("\r\n ", "").replace("\\,", ",")
    suffix = "zh_hans" if language == "zh-hans" else "en"
    assert getattr(demo, f"organiser_name_{suffix}") in ics


def test_make_demo_loads_the_week_on_sqlite(tmp_path) -> None:
    """``make demo``'s steps on a fresh clone: SQLite, images kept in the media
    folder, and a second run that loads the same week again."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
        "CELERY_BROKER_URL": "memory://",
    }
    root = Path(__file__).resolve().parents[1]
    for command in (["migrate", "--no-input", "-v", "0"], ["seed_demo"], ["seed_demo"]):
        result = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "5 sessions" in result.stdout and "0 new demo registrations" in result.stdout
    stored = sorted((tmp_path / "media" / "branding").glob("*.png"))
    assert len(stored) == 2, "the logo and the seal, each stored once"


def test_the_demo_emails_carry_the_organiser(demo) -> None:
    """Each kind of email names the event's organiser in the recipient's language."""
    for n, language in enumerate(["zh-hans", "en"]):
        register(demo, language, 20 + n)
    seen = set()
    missing = []
    for row in Notification.objects.order_by("-pk"):
        language = "zh-hans" if row.language.startswith("zh") else "en"
        if (row.kind, language) in seen:
            continue
        seen.add((row.kind, language))
        message = render_message(row)
        text = html.unescape(
            "\n".join([message.body, *(str(c) for c, _t in message.alternatives)])
        )
        suffix = "zh_hans" if language == "zh-hans" else "en"
        if getattr(demo, f"organiser_name_{suffix}") not in text:
            missing.append(f"{row.kind} ({language})")
    assert not missing, f"no organiser name in: {', '.join(sorted(missing))}"
