"""The certificate PDF in the reader's language (issue 10): the issuing body, the
signatory, the date said the local way, the seal image and translated content;
kept per language in the database and drawn again when what it shows changes."""

import pytest
from django.core.files.base import ContentFile
from rest_framework.test import APIClient

from awards import services
from awards.certificates import CertificateFontMissing, certificate_font
from awards.models import CertificatePdf

from .awards_bilingual import (
    SEAL_SIZE,
    announced_batch,
    branded_event,
    pdf_images,
    pdf_text,
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
        "局长张伟",  # the signatory's title and name
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
        "Director Zhang Wei",
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
