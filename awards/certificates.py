"""Certificate PDFs in the reader's language: the issuing body, its seal stamped
over the date, the signatory, the recipient, the award and a QR code to verify.

Chinese is drawn in an embedded CJK font (its subset); the seal and logo are read
through Django's storage API, so any storage backend serves them. Each language's
PDF is kept in the database (CertificatePdf) and drawn again only when what it
shows changes (a revocation, a renamed recipient, a new seal).
"""

import hashlib
import io
import logging
from pathlib import Path
from typing import Any

import segno
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from fpdf import FPDF

from config.problems import DomainError
from events.branding import parse_colour, readable_on_white

from .models import Certificate, CertificatePdf

logger = logging.getLogger(__name__)

INK, MUTED, ACCENT, ALERT = (29, 35, 43), (91, 102, 115), (217, 99, 30), (179, 38, 30)
# (path, index in a font collection); Noto CJK collections keep Simplified Chinese third.
FONT_CANDIDATES = [
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
]
LANGUAGES = [code for code, _name in settings.LANGUAGES]
# Bump when the drawing changes: stored PDFs of the old drawing are drawn again.
LAYOUT_VERSION = "3"
PAGE_W, PAGE_H = 297, 210
# The issuing body's block, bottom right: its column, the date's top, the seal.
BLOCK_X, BLOCK_W, DATE_Y, SEAL_SIZE = 178, 96, 170.0, 30


class CertificateFontMissing(DomainError):
    """No font that can write Chinese is installed (Debian: fonts-noto-cjk)."""

    status = 503
    code = "unavailable"
    title = gettext_lazy(
        "Certificates cannot be drawn on this server yet (no Chinese font)."
    )


def certificate_font() -> tuple[str, int]:
    configured = getattr(settings, "CERTIFICATE_FONT", "")
    if configured:
        return configured, int(getattr(settings, "CERTIFICATE_FONT_INDEX", 0))
    for path, index in FONT_CANDIDATES:
        if Path(path).exists():
            return path, index
    raise CertificateFontMissing(
        "No CJK font found: install fonts-noto-cjk or set CERTIFICATE_FONT."
    )


def certificate_language(requested: str | None) -> str:
    """One of the site's languages for a requested code (zh, zh-CN, zh-hans, en…)."""
    code = (requested or "").strip().lower().replace("_", "-")
    if code.startswith("zh"):
        return "zh-hans"
    if code.startswith("en"):
        return "en"
    return (
        translation.get_language() if translation.get_language() in LANGUAGES else "en"
    )


def _verify_url(certificate: Certificate) -> str:
    path = reverse("awards:verify", kwargs={"number": certificate.number})
    return f"{settings.SITE_URL}{path}"


def _image(field: Any) -> io.BytesIO | None:
    """An uploaded image's bytes, read through the storage; None when absent or
    unreadable (a certificate is still drawn without its seal)."""
    if not field:
        return None
    try:
        with field.open("rb") as handle:
            return io.BytesIO(handle.read())
    except Exception:  # any storage backend's failure: draw without the image
        logger.warning("certificate image %s cannot be read", field.name)
        return None


def _accent(event: Any) -> tuple[int, int, int]:
    """The event's accent colour in the form its pages give text: darkened as
    little as needed to read at 4.5:1 on the white page (a pale yellow such as
    #FFE94D becomes a dark olive), used for the heading and the frame."""
    rgb = parse_colour(getattr(event, "accent_colour", "") or "") or ACCENT
    return readable_on_white(rgb)


def _details(recipient: Any, district: str) -> list[str]:
    """Title and affiliation, then where: 江北区 · 甬江街道 · 湾头社区 in Chinese
    (largest first), "Wantou Community · Yongjiang Street · Jiangbei District" in
    English; the recipient's own name is not repeated."""
    place = [recipient.community, recipient.street, district]
    if (translation.get_language() or "").startswith("zh"):
        place.reverse()
    return [
        recipient.title,
        recipient.affiliation,
        *(part for part in place if part != recipient.name),
    ]


def _texts(certificate: Certificate) -> dict[str, str]:
    """Everything the certificate says, in the active language."""
    batch = certificate.batch
    recipient = certificate.nomination.recipient
    event = batch.category.event
    district = str(recipient.district) if recipient.district_id else ""
    return {
        "heading": _("Certificate of Honour"),
        "event": event.title or "",
        "name": recipient.name or "",
        "details": " · ".join(part for part in _details(recipient, district) if part),
        "batch": batch.title or "",
        "award": batch.category.name or "",
        "organiser": event.organiser_name or "",
        "signatory_title": event.signatory_title or "",
        "signatory_name": event.signatory_name or "",
        "date": formats.date_format(certificate.issued_on, "DATE_FORMAT"),
        "number": _("Certificate No. %(number)s") % {"number": certificate.number},
        "verify": _("Verify it at %(url)s") % {"url": _verify_url(certificate)},
        "revoked": _("REVOKED")
        if certificate.status == Certificate.Status.REVOKED
        else "",
        "reason": (
            _("Reason: %(reason)s") % {"reason": certificate.revoked_reason}
            if certificate.status == Certificate.Status.REVOKED
            else ""
        ),
    }


def _fingerprint(certificate: Certificate, language: str) -> str:
    """What the PDF in this language is drawn from, summed up."""
    event = certificate.batch.category.event
    with translation.override(language):
        texts = _texts(certificate)
    parts = [
        LAYOUT_VERSION,
        language,
        *(f"{key}={value}" for key, value in sorted(texts.items())),
        f"seal={event.seal.name if event.seal else ''}",
        f"logo={event.logo.name if event.logo else ''}",
        f"accent={_accent(event)}",
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def render_certificate(certificate: Certificate, language: str = "zh-hans") -> bytes:
    """The certificate as an A4 landscape PDF in the language, its font subset
    embedded."""
    with translation.override(language):
        return _render(certificate)


def _render(certificate: Certificate) -> bytes:
    font, index = certificate_font()
    event = certificate.batch.category.event
    texts = _texts(certificate)
    accent = _accent(event)

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(f"{certificate.number} {texts['name']}")
    pdf.set_author(texts["organiser"] or "Podium")
    pdf.set_lang(translation.get_language() or "en")
    pdf.set_auto_page_break(auto=False)
    pdf.add_font("cjk", fname=font, collection_font_number=index)
    pdf.add_page()
    pdf.set_draw_color(*accent)
    pdf.set_line_width(1.5)
    pdf.rect(10, 10, PAGE_W - 20, PAGE_H - 20)
    pdf.set_line_width(0.4)
    pdf.rect(14, 14, PAGE_W - 28, PAGE_H - 28)

    def line(
        text: str, size: float, gap: float, colour: tuple[int, int, int] = INK
    ) -> None:
        """A centred paragraph below the previous one; long text wraps."""
        if not text:
            return
        pdf.set_font("cjk", size=size)
        pdf.set_text_color(*colour)
        pdf.set_x(34)
        pdf.multi_cell(PAGE_W - 68, size * 0.45, text, align="C")
        pdf.ln(gap)

    top = 24
    logo = _image(event.logo)
    if logo is not None:
        try:
            pdf.image(logo, x=PAGE_W / 2 - 8, y=18, h=16, keep_aspect_ratio=True)
            top = 38
        except Exception:
            logger.warning("certificate logo of event %s cannot be drawn", event.pk)
    pdf.set_y(top)
    line(texts["heading"], 30, 4, accent)
    line(texts["event"], 12, 8, MUTED)
    line(texts["name"], 30, 4)
    line(texts["details"], 12, 6, MUTED)
    line(texts["batch"], 16, 2)
    line(texts["award"], 12, 4, MUTED)
    if texts["revoked"]:
        line(texts["revoked"], 24, 1, ALERT)
        line(texts["reason"], 11, 1, ALERT)

    # Bottom left: the number, where to verify it, and its QR code.
    qr = io.BytesIO()
    segno.make_qr(_verify_url(certificate), error="m").save(
        qr, kind="png", scale=6, border=1
    )
    qr.seek(0)
    pdf.image(qr, x=24, y=156, w=30, h=30)
    pdf.set_text_color(*INK)
    pdf.set_font("cjk", size=10)
    pdf.set_xy(58, 170)
    pdf.cell(110, 6, texts["number"])
    pdf.set_font("cjk", size=7)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(58, 177)
    pdf.cell(110, 5, texts["verify"])

    _signature_block(pdf, event, texts)
    return bytes(pdf.output())


def _line_count(pdf: FPDF, width: float, text: str) -> int:
    """How many lines the text wraps to in the current font."""
    lines = pdf.multi_cell(width, 5, text, dry_run=True, output="LINES")
    return len(lines) if isinstance(lines, list) else 1


def _signature_block(pdf: FPDF, event: Any, texts: dict[str, str]) -> None:
    """Bottom right, laid out upwards from the date: the seal stamped over the
    date as on paper (half over it, transparent enough to read it through);
    above the seal the signatory's name on a line of its own, never split, their
    title and the issuing body. Nothing but the date lies under the seal."""
    block_x, block_w = BLOCK_X, BLOCK_W
    centre = block_x + block_w / 2
    date_y, date_h = DATE_Y, 7.0
    # The seal's centre a little below and left of the date's end: the date
    # crosses its upper ring, not the emblem in its middle.
    seal_top = date_y + date_h / 2 + 6 - SEAL_SIZE / 2
    pdf.set_text_color(*INK)

    pdf.set_font("cjk", size=12)
    pdf.set_xy(block_x, date_y)
    pdf.cell(block_w, date_h, texts["date"], align="C")
    date_w = pdf.get_string_width(texts["date"])

    y = seal_top - 1.5
    if texts["signatory_name"]:
        size = 13.0
        pdf.set_font("cjk", size=size)
        while size > 7 and pdf.get_string_width(texts["signatory_name"]) > block_w:
            size -= 0.5
            pdf.set_font("cjk", size=size)
        y -= 6.5
        pdf.set_xy(block_x, y)
        pdf.cell(block_w, 6.5, texts["signatory_name"], align="C")
    if texts["signatory_title"]:
        pdf.set_font("cjk", size=11)
        y -= 5.5 * _line_count(pdf, block_w, texts["signatory_title"]) + 0.5
        pdf.set_xy(block_x, y)
        pdf.multi_cell(block_w, 5.5, texts["signatory_title"], align="C")
    if texts["organiser"]:
        pdf.set_font("cjk", size=14)
        y -= 6.5 * _line_count(pdf, block_w, texts["organiser"]) + 2
        pdf.set_xy(block_x, y)
        pdf.multi_cell(block_w, 6.5, texts["organiser"], align="C")

    seal = _image(event.seal)
    if seal is None:
        return
    seal_x = min(centre + date_w / 2 - 5 - SEAL_SIZE / 2, block_x + block_w - SEAL_SIZE)
    try:
        with pdf.local_context(fill_opacity=0.78, stroke_opacity=0.78):
            pdf.image(
                seal,
                x=seal_x,
                y=seal_top,
                w=SEAL_SIZE,
                h=SEAL_SIZE,
                keep_aspect_ratio=True,
            )
    except Exception:
        logger.warning("certificate seal of event %s cannot be drawn", event.pk)


def certificate_pdf(certificate: Certificate, language: str = "zh-hans") -> bytes:
    """The stored PDF in the language, drawn on first use and whenever what it
    shows has changed; never drawn twice at once."""
    language = language if language in LANGUAGES else "zh-hans"
    fingerprint = _fingerprint(certificate, language)
    stored = CertificatePdf.objects.filter(
        certificate=certificate, language=language, fingerprint=fingerprint
    ).first()
    if stored is not None:
        return bytes(stored.pdf)
    with transaction.atomic():
        locked = (
            Certificate.objects.select_for_update(of=("self",))
            .select_related("nomination__recipient__district", "batch__category__event")
            .get(pk=certificate.pk)
        )
        fingerprint = _fingerprint(locked, language)
        stored = CertificatePdf.objects.filter(
            certificate=locked, language=language
        ).first()
        if stored is not None and stored.fingerprint == fingerprint:
            return bytes(stored.pdf)
        now = timezone.now()
        content = render_certificate(locked, language)
        CertificatePdf.objects.update_or_create(
            certificate=locked,
            language=language,
            defaults={"fingerprint": fingerprint, "pdf": content, "rendered_at": now},
        )
        locked.pdf_rendered_at = now
        locked.save(update_fields=["pdf_rendered_at"])
        return content
