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
LAYOUT_VERSION = "2"
PAGE_W, PAGE_H = 297, 210


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
    colour = (getattr(event, "accent_colour", "") or "").lstrip("#")
    if len(colour) == 6:
        try:
            return (int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16))
        except ValueError:
            pass
    return ACCENT


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
        "signatory": " ".join(
            part for part in (event.signatory_title, event.signatory_name) if part
        ),
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

    # Bottom right: the issuing body, the signatory and the date, the seal
    # stamped over the date as on paper (transparent enough to read it through).
    block_x, block_w = 178, 96
    centre = block_x + block_w / 2
    pdf.set_text_color(*INK)
    y = 150.0
    if texts["organiser"]:
        pdf.set_font("cjk", size=14)
        pdf.set_xy(block_x, y)
        pdf.multi_cell(block_w, 6.5, texts["organiser"], align="C")
        y = pdf.get_y() + 2
    if texts["signatory"]:
        pdf.set_font("cjk", size=11)
        pdf.set_xy(block_x, y)
        pdf.multi_cell(block_w, 5.5, texts["signatory"], align="C")
        y = pdf.get_y() + 2
    date_y = max(y, 168)
    pdf.set_font("cjk", size=12)
    pdf.set_xy(block_x, date_y)
    pdf.cell(block_w, 7, texts["date"], align="C")
    seal = _image(event.seal)
    if seal is not None:
        size = 34
        try:
            with pdf.local_context(fill_opacity=0.78, stroke_opacity=0.78):
                pdf.image(
                    seal,
                    x=centre + 4,
                    y=date_y + 3.5 - size / 2,
                    w=size,
                    h=size,
                    keep_aspect_ratio=True,
                )
        except Exception:
            logger.warning("certificate seal of event %s cannot be drawn", event.pk)
    return bytes(pdf.output())


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
