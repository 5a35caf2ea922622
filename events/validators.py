"""Validators shared by the API serialisers and the page forms.

Names and short texts go into mail headers, PDFs and the honour roll, so they refuse
line breaks and every control character; free text (descriptions, citations,
comments) may break lines. Both refuse C1 controls, the bidirectional controls that
make text read differently from how it is stored (the "Trojan Source" trick), and
values made only of characters that show nothing.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# C0 controls, DEL and the C1 controls (U+0080 to U+009F).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The same, except tab and line breaks, which free text may hold.
FREE_TEXT_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Unicode's Bidi_Control characters: marks, embeddings, overrides and isolates.
BIDI_CONTROLS = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Characters that render as nothing, though Unicode does not call them spaces.
BLANK_LOOKALIKES = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\u034f")


def _shows_something(value: str) -> bool:
    return any(
        not (
            char.isspace()
            or char in BLANK_LOOKALIKES
            or unicodedata.category(char) in {"Cf", "Cc", "Zs", "Zl", "Zp", "Mn"}
        )
        for char in value
    )


def _common_checks(value: str) -> None:
    if BIDI_CONTROLS.search(value):
        raise ValidationError(
            _("Text direction control characters are not allowed."),
            code="bidi_control",
        )
    if any(0xD800 <= ord(char) <= 0xDFFF for char in value):
        raise ValidationError(
            _("The text is not valid Unicode."), code="invalid_unicode"
        )
    if value and not _shows_something(value):
        raise ValidationError(
            _("Enter visible characters, not only invisible ones."),
            code="invisible",
        )


def no_control_characters(value: str) -> None:
    """Refuses line breaks, control characters, bidi controls and invisible-only text.

    For names and one-line texts (they end up in mail headers).
    """
    if CONTROL_CHARACTERS.search(value):
        raise ValidationError(
            _("Line breaks and control characters are not allowed."),
            code="control_characters",
        )
    _common_checks(value)


def clean_free_text(value: str) -> None:
    """Like ``no_control_characters``, but lets tabs and line breaks through."""
    if FREE_TEXT_CONTROL_CHARACTERS.search(value):
        raise ValidationError(
            _("Control characters are not allowed."), code="control_characters"
        )
    _common_checks(value)
