"""Bilingual award data for the tests of issue 10: a branded event, a district
named in both languages and an announced batch whose texts exist in both."""

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path

from django.core.files.base import ContentFile
from PIL import Image, ImageDraw

from awards import services
from awards.models import AwardBatch, Certificate, Nomination

from .conftest import require
from .factories import EventFactory, UserFactory

SEAL_SIZE = (240, 240)
LOGO_SIZE = (160, 120)


def seal_png() -> bytes:
    """A red round seal with a star, on a transparent ground."""
    image = Image.new("RGBA", SEAL_SIZE, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    red = (200, 20, 30, 255)
    draw.ellipse((8, 8, 232, 232), outline=red, width=12)
    draw.ellipse((30, 30, 210, 210), outline=red, width=3)
    star = [
        (120, 60),
        (134, 104),
        (180, 104),
        (143, 130),
        (157, 175),
        (120, 148),
        (83, 175),
        (97, 130),
        (60, 104),
        (106, 104),
    ]
    draw.polygon(star, fill=red)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def logo_png() -> bytes:
    image = Image.new("RGB", LOGO_SIZE, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.ellipse((30, 10, 130, 110), fill=(240, 120, 20))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def branded_event(**kwargs):
    organiser = kwargs.pop("organiser", None) or UserFactory()
    event = EventFactory(
        organisers=[organiser],
        title_zh_hans="2021年宁波市社会工作宣传周",
        title_en="Ningbo Social Work Publicity Week 2021",
        organiser_name_zh_hans="宁波市民政局",
        organiser_name_en="Ningbo Civil Affairs Bureau",
        signatory_name_zh_hans="张伟",
        signatory_name_en="Zhang Wei",
        signatory_title_zh_hans="局长",
        signatory_title_en="Director",
        accent_colour="#D9631E",
        **kwargs,
    )
    event.seal.save("seal.png", ContentFile(seal_png()), save=False)
    event.logo.save("logo.png", ContentFile(logo_png()), save=False)
    event.save()
    event.organiser = organiser
    return event


def announced_batch(
    event, *, issued_on=dt.date(2021, 12, 14), prefix: str = "NBSW"
) -> AwardBatch:
    """The fifth batch, announced, with Wantou Community of Jiangbei District."""
    category = services.category_create(
        event=event,
        data={
            "name_zh_hans": "宁波市社会工作示范基地",
            "name_en": "Municipal social work demonstration base",
            "recipient_kind": "organisation",
            "certificate_prefix": prefix,
        },
        actor=None,
    )
    batch = services.batch_create(
        category=category,
        data={
            "number": 5,
            "title_zh_hans": "第五批市级社会工作示范基地",
            "title_en": "Fifth batch of municipal social work demonstration bases",
        },
        actor=None,
    )
    services.district_create(
        event=event, name_en="Jiangbei District", name_zh_hans="江北区", actor=None
    )
    for zh, en, district in (
        ("湾头社区", "Wantou Community", "江北区"),
        ("示范社区07", "Demo Community 07", ""),
    ):
        nomination = services.nomination_create(
            batch=batch,
            recipient=services.RecipientData(
                kind="organisation",
                district=district,
                texts={
                    "name_zh_hans": zh,
                    "name_en": en,
                    "street_zh_hans": "甬江街道",
                    "street_en": "Yongjiang Street",
                },
            ),
            citation={
                "citation_zh_hans": "服务居民。",
                "citation_en": "Serves residents.",
            },
            actor=None,
        )
        services.nomination_update(
            nomination=nomination, data={"status": "awarded"}, actor=None
        )
    services.batch_approve(batch=batch, actor=None)
    services.batch_announce(batch=batch, actor=None)
    Certificate.objects.filter(batch=batch).update(issued_on=issued_on)
    return batch


def wantou_certificate(batch: AwardBatch) -> Certificate:
    return Certificate.objects.get(
        batch=batch,
        nomination__in=Nomination.objects.filter(recipient__name_en="Wantou Community"),
    )


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    require(path is not None, f"{tool} (poppler-utils)")
    return str(path)


def pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(content)
    return subprocess.run(
        [poppler("pdftotext"), "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def pdf_images(content: bytes, tmp_path: Path) -> list[dict[str, str]]:
    """``pdfimages -list``: one row per image (and per soft mask)."""
    path = tmp_path / "certificate.pdf"
    path.write_bytes(content)
    lines = subprocess.run(
        [poppler("pdfimages"), "-list", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    header = lines[0].split()
    return [dict(zip(header, line.split(), strict=False)) for line in lines[2:]]
