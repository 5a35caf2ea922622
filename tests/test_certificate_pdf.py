"""The certificate PDF in the reader's language (issue 10): the issuing body, the
signatory, the date said the local way, the seal image and translated content;
kept per language in the database and drawn again when what it shows changes."""

import re
import subprocess
import zlib
from html import unescape

import pytest
from django.core.files.base import ContentFile
from rest_framework.test import APIClient

from awards import services
from awards.certificates import CertificateFontMissing, certificate_font
from awards.models import CertificatePdf
from events.branding import WHITE, contrast, readable_on_white

from .awards_bilingual import (
    SEAL_SIZE,
    announced_batch,
    branded_event,
    pdf_images,
    pdf_text,
    poppler,
    seal_png,
    wantou_certificate,
)
from .conftest import require

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cjk_font() -> None:
    try:
        certificate_font()
    except CertificateFontMissing:
        require(False, "a CJK font (Debian: fonts-noto-cjk)")


@pytest.fixture
def certificate():
    return wantou_certificate(announced_batch(branded_event()))


def pdf(number: str, **kwargs) -> bytes:
    query = kwargs.pop("query", {})
    response = APIClient().get(f"/api/v1/certificates/{number}/pdf/", query, **kwargs)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    return response.content


def squeeze(text: str) -> str:
    """pdftotext's layout spaces out CJK lines: compare without the spaces."""
    return "".join(text.split())


def test_the_chinese_certificate(certificate, tmp_path) -> None:
    text = pdf_text(pdf(certificate.number, HTTP_ACCEPT_LANGUAGE="zh-CN"), tmp_path)
    flat = squeeze(text)
    for chinese in (
        "宁波市民政局",  # the issuing body
        "局长",  # the signatory's title
        "张伟",  # and name
        "2021年12月14日",  # the date, the Chinese way
        "湾头社区",
        "江北区",
        "第五批市级社会工作示范基地",
        "宁波市社会工作示范基地",
        "2021年宁波市社会工作宣传周",
    ):
        assert chinese in flat, chinese
    for english in (
        "Ningbo Civil Affairs Bureau",
        "Zhang Wei",
        "December",
        "Wantou",
        "Jiangbei",
        "2021-12-14",
    ):
        assert english not in text, english
    assert certificate.number in text


def test_the_english_certificate(certificate, tmp_path) -> None:
    text = pdf_text(pdf(certificate.number, HTTP_ACCEPT_LANGUAGE="en"), tmp_path)
    for english in (
        "Ningbo Civil Affairs Bureau",
        "Director",
        "Zhang Wei",
        "14 December 2021",
        "Wantou Community",
        "Jiangbei District",
        "Fifth batch of municipal social work demonstration bases",
        "Municipal social work demonstration base",
    ):
        assert english in text, english
    for chinese in ("宁波市民政局", "张伟", "2021年12月14日", "湾头社区", "江北区"):
        assert chinese not in squeeze(text), chinese


def test_lang_in_the_query_wins_over_accept_language(certificate, tmp_path) -> None:
    text = pdf_text(
        pdf(certificate.number, query={"lang": "en"}, HTTP_ACCEPT_LANGUAGE="zh-CN"),
        tmp_path,
    )
    assert "14 December 2021" in text
    text = pdf_text(pdf(certificate.number, query={"lang": "zh-hans"}), tmp_path)
    assert "2021年12月14日" in squeeze(text)


def test_the_seal_and_logo_are_in_the_pdf(certificate, tmp_path) -> None:
    for language in ("zh-hans", "en"):
        images = pdf_images(pdf(certificate.number, query={"lang": language}), tmp_path)
        sizes = {
            (int(i["width"]), int(i["height"])) for i in images if i["type"] == "image"
        }
        assert SEAL_SIZE in sizes, (language, images)
        # Its transparent ground is kept (a soft mask), so the date shows through.
        assert any(
            i["type"] == "smask" and (int(i["width"]), int(i["height"])) == SEAL_SIZE
            for i in images
        )
        # The QR code and the logo besides.
        assert len([i for i in images if i["type"] == "image"]) == 3


def test_without_branding_the_certificate_still_draws(tmp_path) -> None:
    event = branded_event(slug="plain")
    event.seal = event.logo = ""
    event.organiser_name_zh_hans = event.organiser_name_en = ""
    event.save()
    certificate = wantou_certificate(announced_batch(event, prefix="PLAIN"))
    content = pdf(certificate.number, HTTP_ACCEPT_LANGUAGE="en")
    assert "Wantou Community" in pdf_text(content, tmp_path)
    assert len([i for i in pdf_images(content, tmp_path) if i["type"] == "image"]) == 1


def test_a_missing_seal_file_does_not_stop_the_certificate(
    certificate, tmp_path
) -> None:
    event = certificate.batch.category.event
    event.seal.storage.delete(event.seal.name)
    text = pdf_text(pdf(certificate.number, query={"lang": "en"}), tmp_path)
    assert "Ningbo Civil Affairs Bureau" in text


def test_each_language_is_stored_once_and_drawn_again_on_change(
    certificate, tmp_path
) -> None:
    first_zh = pdf(certificate.number, query={"lang": "zh-hans"})
    first_en = pdf(certificate.number, query={"lang": "en"})
    stored = {
        p.language: p for p in CertificatePdf.objects.filter(certificate=certificate)
    }
    assert set(stored) == {"zh-hans", "en"}
    assert bytes(stored["zh-hans"].pdf) == first_zh and first_zh != first_en
    rendered_at = stored["en"].rendered_at
    assert pdf(certificate.number, query={"lang": "en"}) == first_en
    assert (
        CertificatePdf.objects.get(certificate=certificate, language="en").rendered_at
        == rendered_at
    )
    # A new seal changes what the certificate shows: it is drawn again.
    event = certificate.batch.category.event
    event.seal.save("new-seal.png", ContentFile(seal_png()), save=True)
    pdf(certificate.number, query={"lang": "en"})
    assert (
        CertificatePdf.objects.get(certificate=certificate, language="en").rendered_at
        > rendered_at
    )
    # Revoked: both languages say so, with the reason.
    services.certificate_revoke(certificate=certificate, reason="重复授予", actor=None)
    assert not CertificatePdf.objects.filter(certificate=certificate).exists()
    zh = squeeze(pdf_text(pdf(certificate.number, query={"lang": "zh-hans"}), tmp_path))
    en = pdf_text(pdf(certificate.number, query={"lang": "en"}), tmp_path)
    assert "重复授予" in zh and "REVOKED" in en and "重复授予" in en


def test_the_verify_page_links_both_languages(client, certificate) -> None:
    page = client.get(f"/verify/{certificate.number}/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    body = page.content.decode()
    url = f"/api/v1/certificates/{certificate.number}/pdf/"
    assert f"{url}?lang=zh-hans" in body and f"{url}?lang=en" in body
    assert "湾头社区" in body and "Wantou" not in body
    assert "2021年12月14日" in body


def test_the_verify_page_names_the_issuing_body_with_the_events_brand(
    client, certificate
) -> None:
    """Who issued it, said on the page the QR code opens, with the event's logo
    and colour as on its other public pages."""
    event = certificate.batch.category.event
    zh = client.get(f"/verify/{certificate.number}/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    body = zh.content.decode()
    assert f"颁发单位：{event.organiser_name_zh_hans}" in body
    assert 'data-testid="event-brand"' in body
    assert f"/events/{event.slug}/brand.css" in body
    en = client.get(f"/verify/{certificate.number}/", HTTP_ACCEPT_LANGUAGE="en")
    assert f"Issued by {event.organiser_name_en}" in en.content.decode()


# What the page draws, read back from the PDF: the colours of its content
# stream, the seal's place and the words' boxes (in points, from the top left).
PAGE_H_PT = 595.28
Box = tuple[float, float, float, float]


def content_streams(content: bytes) -> str:
    """The page's drawing operators (fpdf2 deflates them)."""
    found = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S):
        try:
            text = zlib.decompress(match.group(1)).decode("latin-1")
        except (zlib.error, UnicodeDecodeError):
            continue
        if " BT " in text or " re S" in text:
            found.append(text)
    return "\n".join(found)


def colours(content: bytes, operator: str) -> set[tuple[int, int, int]]:
    """The RGB colours set with ``rg`` (text, fills) or ``RG`` (lines)."""
    number = r"(\d*\.?\d+)"
    pattern = rf"{number} {number} {number} {operator}\b"
    return {
        tuple(round(float(v) * 255) for v in match)  # type: ignore[misc]
        for match in re.findall(pattern, content_streams(content))
    }


def seal_box(content: bytes) -> Box:
    """Where the seal is drawn: the last image of the page, over the rest."""
    placed = re.findall(
        r"q ([\d.]+) 0 0 ([\d.]+) ([\d.]+) ([\d.]+) cm /I\d+ Do Q",
        content_streams(content),
    )
    assert len(placed) == 3, placed  # the logo, the QR code, the seal
    w, h, x, y = (float(v) for v in placed[-1])
    return (x, PAGE_H_PT - y - h, x + w, PAGE_H_PT - y)


def words(content: bytes, tmp_path) -> list[tuple[str, Box]]:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(content)
    html = subprocess.run(
        [poppler("pdftotext"), "-bbox", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pattern = (
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
        r'yMax="([\d.]+)">(.*?)</word>'
    )
    return [
        (unescape(text), (float(x0), float(y0), float(x1), float(y1)))
        for x0, y0, x1, y1, text in re.findall(pattern, html)
    ]


def box_of(found: list[tuple[str, Box]], text: str) -> Box:
    """The box around the words that make up the text (in reading order)."""
    target = squeeze(text)
    for start in range(len(found)):
        joined = ""
        for end in range(start, len(found)):
            joined += squeeze(found[end][0])
            if joined == target:
                boxes = [box for _word, box in found[start : end + 1]]
                return (
                    min(b[0] for b in boxes),
                    min(b[1] for b in boxes),
                    max(b[2] for b in boxes),
                    max(b[3] for b in boxes),
                )
            if not target.startswith(joined):
                break
    raise AssertionError(f"{text!r} not in {[w for w, _b in found]}")


def overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_a_pale_accent_is_darkened_for_the_heading_and_frame(certificate) -> None:
    """#FFE94D as entered is unreadable on white: the heading and the frame take
    the darkened form the event's pages give their text (4.5:1 on white)."""
    event = certificate.batch.category.event
    event.accent_colour = "#FFE94D"
    event.save()
    pale = (0xFF, 0xE9, 0x4D)
    readable = readable_on_white(pale)
    assert readable != pale and contrast(readable, WHITE) >= 4.5
    for language in ("zh-hans", "en"):
        content = pdf(certificate.number, query={"lang": language})
        fills, lines = colours(content, "rg"), colours(content, "RG")
        assert readable in fills and readable in lines, (language, fills, lines)
        assert pale not in fills | lines, language


def test_the_seal_sits_over_the_date_and_the_name_keeps_one_line(
    certificate, tmp_path
) -> None:
    """The demo's signatory: the title has a line of its own above the name,
    the name is never split, and the seal is stamped over the date (which stays
    in the text), clear of the name, the title and the issuing body."""
    event = certificate.batch.category.event
    event.signatory_title_en = "Director of the Organising Committee"
    event.signatory_name_en = "Wang Lihua"
    event.signatory_title_zh_hans = "组委会主任"
    event.signatory_name_zh_hans = "王丽华"
    event.save()
    for language, title, name, date, organiser in (
        (
            "en",
            "Director of the Organising Committee",
            "Wang Lihua",
            "14 December 2021",
            "Ningbo Civil Affairs Bureau",
        ),
        ("zh-hans", "组委会主任", "王丽华", "2021年12月14日", "宁波市民政局"),
    ):
        content = pdf(certificate.number, query={"lang": language})
        lines = pdf_text(content, tmp_path).splitlines()
        assert any(name in line for line in lines), (language, lines)
        assert not any(title in line and name in line for line in lines), (
            "title and name share a line"
        )
        found = words(content, tmp_path)
        seal = seal_box(content)
        assert overlap(seal, box_of(found, date)), (language, seal)
        for text in (name, title, organiser):
            assert not overlap(seal, box_of(found, text)), (language, text, seal)
        assert not overlap(box_of(found, name), box_of(found, date))


def test_long_titles_and_names_stay_clear_of_the_seal(certificate, tmp_path) -> None:
    event = certificate.batch.category.event
    event.organiser_name_en = (
        "Organising Committee of the Ningbo (Jiangbei) Social Work Publicity Week"
    )
    event.signatory_title_en = (
        "Deputy Director-General of the Municipal Civil Affairs Bureau and Chair "
        "of the Organising Committee"
    )
    event.signatory_name_en = "Alexandra Catherine Montgomery-Fitzwilliam Ouyang"
    event.save()
    content = pdf(certificate.number, query={"lang": "en"})
    lines = pdf_text(content, tmp_path).splitlines()
    assert any(event.signatory_name_en in line for line in lines), lines
    found = words(content, tmp_path)
    seal = seal_box(content)
    name = box_of(found, event.signatory_name_en)
    title = box_of(found, event.signatory_title_en)
    date = box_of(found, "14 December 2021")
    assert name[3] <= seal[1] and title[3] <= name[1] + 1
    assert overlap(seal, date) and not overlap(name, date)
    assert not overlap(seal, box_of(found, event.organiser_name_en))
