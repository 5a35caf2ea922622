"""Logos and seals that organisers upload: checked, named and kept through storage.

An image is accepted for what its bytes are, never for its name or its declared
type: Pillow must open it as PNG, JPEG or WebP and verify it. SVG (a document that
can carry script) and every other format are refused. The stored name comes from
``events.models.branding_upload_to`` with the extension of the format found, and
the files are served by ``events.views.event_brand_image`` with ``nosniff`` and a
sandboxing Content-Security-Policy, so nothing uploaded is ever run.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

MAX_BYTES = 2 * 1024 * 1024
MIN_SIDE, MAX_SIDE = 16, 4000
# Pillow's format name -> (file extension, Content-Type).
FORMATS = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "WEBP": ("webp", "image/webp"),
}
CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
}


@dataclass(frozen=True)
class BrandImage:
    """An uploaded image that passed the checks, with what they found."""

    content: bytes
    format: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return FORMATS[self.format][0]

    @property
    def content_type(self) -> str:
        return FORMATS[self.format][1]


def brand_image_check(upload: Any) -> BrandImage:
    """The upload as a ``BrandImage``, or a ``ValidationError`` that says why not
    (in the active language): not PNG, JPEG or WebP, over 2 MB, or a side outside
    16 to 4000 pixels."""
    if isinstance(upload, BrandImage):
        return upload
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise _too_large()
    if hasattr(upload, "seek"):
        upload.seek(0)
    content = upload.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise _too_large()
    not_an_image = ValidationError(
        _("Upload a PNG, JPEG or WebP image (SVG and other formats are not accepted)."),
        code="invalid_image",
    )
    try:
        with warnings.catch_warnings():
            # A decompression bomb is refused, not merely warned about.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=list(FORMATS)) as image:
                found, (width, height) = image.format, image.size
                if not (
                    MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE
                ):
                    raise ValidationError(
                        _(
                            "The image is %(width)d × %(height)d pixels; each side "
                            "must be %(min)d to %(max)d pixels."
                        ),
                        code="image_dimensions",
                        params={
                            "width": width,
                            "height": height,
                            "min": MIN_SIDE,
                            "max": MAX_SIDE,
                        },
                    )
                image.verify()
            # verify() checks the structure; decoding every pixel finds the rest.
            with Image.open(io.BytesIO(content), formats=list(FORMATS)) as image:
                image.load()
    except ValidationError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
        TypeError,
        EOFError,
    ):
        raise not_an_image from None
    if found not in FORMATS:
        raise not_an_image
    return BrandImage(content=content, format=found, width=width, height=height)


def _too_large() -> ValidationError:
    return ValidationError(
        _("The image is larger than %(size)s MB."),
        code="image_too_large",
        params={"size": MAX_BYTES // (1024 * 1024)},
    )


def brand_image_store(instance: Model, field_name: str, image: BrandImage) -> str:
    """Saves the image through the field's storage under a fresh name (the field's
    ``upload_to``) and returns that name; the caller sets it on the row."""
    field = instance._meta.get_field(field_name)
    name = field.generate_filename(instance, f"{field_name}.{image.extension}")  # type: ignore[union-attr]
    return str(field.storage.save(name, ContentFile(image.content)))  # type: ignore[union-attr]


def brand_image_delete_after_commit(
    instance: Model, field_name: str, name: str
) -> None:
    """Deletes a replaced or removed file once the change is committed (a rolled
    back change keeps pointing at it)."""
    if not name:
        return
    storage = instance._meta.get_field(field_name).storage  # type: ignore[union-attr]
    transaction.on_commit(lambda: storage.delete(name))


def brand_image_version(name: str) -> str:
    """A short token of a stored name for the image's address (``?v=``): a new
    upload has a new name, so a cached old image is never shown for it."""
    return hashlib.sha256(name.encode()).hexdigest()[:12]


def content_type_of(name: str) -> str | None:
    """The image Content-Type of a stored name, by the extension Podium gave it."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return CONTENT_TYPES.get(extension)
