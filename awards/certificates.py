"""Certificate PDFs: Chinese names in an embedded CJK font, the number, a QR to verify."""

import io
from pathlib import Path

import segno
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from fpdf import FPDF

from config.problems import DomainError

from .models import Certificate

INK, MUTED, ACCENT, ALERT = (29, 35, 43), (91, 102, 115), (217, 99, 30), (179, 38, 30)
# (path, index in a font collection); Noto CJK collections keep Simplified Chinese third.
FONT_CANDIDATES = [
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
]


class CertificateFontMissing(DomainError):
    """No font that can write Chinese is installed (Debian: fonts-noto-cjk)."""

    status = 503
    code = "unavailable"
    title = _("Certificates cannot be drawn on this server yet (no Chinese font).")


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


def _verify_url(certificate: Certificate) -> str:
    path = reverse("awards:verify", kwargs={"number": certificate.number})
    return f"{settings.SITE_URL}{path}"


def render_certificate(certificate: Certificate) -> bytes:
    """The certificate as an A4 landscape PDF, its font subset embedded."""
    font, index = certificate_font()
    batch = certificate.batch
    recipient = certificate.nomination.recipient
    event = batch.category.event

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(f"{certificate.number} {recipient.name}")
    pdf.set_author("Podium")
    pdf.set_auto_page_break(auto=False)
    pdf.add_font("cjk", fname=font, collection_font_number=index)
    pdf.add_page()
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(1.5)
    pdf.rect(10, 10, 277, 190)
    pdf.set_line_width(0.4)
    pdf.rect(14, 14, 269, 182)

    def line(
        text: str, size: float, gap: float, colour: tuple[int, int, int] = INK
    ) -> None:
        """A centred paragraph below the previous one; long text wraps."""
        pdf.set_font("cjk", size=size)
        pdf.set_text_color(*colour)
        pdf.set_x(24)
        pdf.multi_cell(249, size * 0.45, text, align="C")
        pdf.ln(gap)

    pdf.set_y(26)
    line("荣誉证书 · Certificate of Honour", 30, 5, ACCENT)
    line(event.title, 12, 10, MUTED)
    line(recipient.name, 32, 4)
    details = ", ".join(
        part
        for part in (recipient.title, recipient.affiliation, recipient.district)
        if part
    )
    if details:
        line(details, 12, 6, MUTED)
    line(batch.title, 16, 2)
    line(batch.category.name, 12, 6, MUTED)
    if certificate.status == Certificate.Status.REVOKED:
        line("已撤销 REVOKED", 26, 2, ALERT)
        line(f"撤销原因 Reason: {certificate.revoked_reason}", 11, 2, ALERT)

    pdf.set_font("cjk", size=11)
    pdf.set_text_color(*INK)
    pdf.set_xy(24, 170)
    pdf.cell(120, 6, f"证书编号 No. {certificate.number}")
    pdf.set_xy(24, 177)
    pdf.cell(120, 6, f"颁发日期 Issued {certificate.issued_on.isoformat()}")
    pdf.set_xy(24, 184)
    pdf.set_font("cjk", size=8)
    pdf.cell(180, 5, _verify_url(certificate))

    qr = io.BytesIO()
    segno.make_qr(_verify_url(certificate), error="m").save(
        qr, kind="png", scale=6, border=1
    )
    qr.seek(0)
    pdf.image(qr, x=242, y=155, w=34, h=34)
    return bytes(pdf.output())


def certificate_pdf(certificate: Certificate) -> bytes:
    """The stored PDF, rendered on first use; never rendered twice at once."""
    if certificate.pdf:
        return bytes(certificate.pdf)
    with transaction.atomic():
        locked = (
            Certificate.objects.select_for_update()
            .select_related("nomination__recipient", "batch__category__event")
            .get(pk=certificate.pk)
        )
        if not locked.pdf:
            locked.pdf = render_certificate(locked)
            locked.pdf_rendered_at = timezone.now()
            locked.save(update_fields=["pdf", "pdf_rendered_at"])
        return bytes(locked.pdf)
