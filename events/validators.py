"""Validators shared by the API serialisers and the page forms."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def no_control_characters(value: str) -> None:
    """Rejects line breaks and other control characters (they end up in mail headers)."""
    if CONTROL_CHARACTERS.search(value):
        raise ValidationError(_("Line breaks and control characters are not allowed."))
