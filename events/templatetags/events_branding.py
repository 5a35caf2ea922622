"""An event's branding in templates: its logo's, seal's and stylesheet's addresses.

Each address carries a version (``?v=``) that changes with the upload or the
colour, so that the files can be cached for long and a change shows at once.
"""

from typing import Any

from django import template
from django.urls import reverse

from ..branding import brand_css_version, parse_colour
from ..images import brand_image_version, content_type_of

register = template.Library()


@register.simple_tag
def brand_image_url(event: Any, kind: str) -> str:
    """``{% brand_image_url event "logo" as url %}``: empty without one."""
    image = getattr(event, kind, None) if event is not None else None
    slug = getattr(event, "slug", "")
    if not image or not slug or content_type_of(image.name) is None:
        return ""
    path = reverse("events:event_brand_image", kwargs={"slug": slug, "kind": kind})
    return f"{path}?v={brand_image_version(image.name)}"


@register.simple_tag
def brand_css_url(event: Any) -> str:
    """The event's colour stylesheet, or empty when it keeps Podium's colours."""
    colour = getattr(event, "accent_colour", "") if event is not None else ""
    slug = getattr(event, "slug", "")
    if not slug or parse_colour(colour or "") is None:
        return ""
    path = reverse("events:event_brand_css", kwargs={"slug": slug})
    return f"{path}?v={brand_css_version(colour)}"
