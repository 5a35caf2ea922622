"""An event's accent colour as a stylesheet that keeps its text readable.

Pico CSS draws links and text in ``--pico-primary`` and buttons on
``--pico-primary-background`` with ``--pico-primary-inverse`` as their text. An
organiser's colour may be too light for text on white (a yellow) or for white
text on it: the text colour is darkened until it reaches WCAG AA contrast (4.5:1)
on white, and a button's text is black or white, whichever reads better on it.
"""

import hashlib

from .models import validate_colour

WHITE, BLACK = (255, 255, 255), (0, 0, 0)
AA_CONTRAST = 4.5

RGB = tuple[int, int, int]


def parse_colour(colour: str) -> RGB | None:
    """``#RRGGBB`` as numbers; None for no colour or a malformed one."""
    try:
        validate_colour(colour)
    except Exception:
        return None
    if not colour:
        return None
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def hex_of(rgb: RGB) -> str:
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def luminance(rgb: RGB) -> float:
    """Relative luminance (WCAG 2)."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def darker(rgb: RGB, factor: float) -> RGB:
    r, g, b = (round(v * factor) for v in rgb)
    return (r, g, b)


def lighter(rgb: RGB, amount: float) -> RGB:
    r, g, b = (round(v + (255 - v) * amount) for v in rgb)
    return (r, g, b)


def readable_on_white(rgb: RGB) -> RGB:
    """The colour, darkened as little as needed for 4.5:1 on white."""
    shade = rgb
    factor = 1.0
    while contrast(shade, WHITE) < AA_CONTRAST and factor > 0:
        factor -= 0.02
        shade = darker(rgb, max(factor, 0))
    return shade


def text_on(rgb: RGB) -> RGB:
    """Black or white, whichever reads better on the colour."""
    return WHITE if contrast(rgb, WHITE) >= contrast(rgb, BLACK) else BLACK


def brand_css_version(colour: str) -> str:
    return hashlib.sha256(f"v1:{colour}".encode()).hexdigest()[:12]


def brand_stylesheet(colour: str) -> str:
    """The stylesheet of an event's colour; a comment only when it has none."""
    rgb = parse_colour(colour)
    if rgb is None:
        return "/* This event keeps Podium's own colours. */\n"
    text = readable_on_white(rgb)
    hover_text = readable_on_white(darker(text, 0.85))
    inverse = text_on(rgb)
    # Hovering moves the background away from its text colour, never towards it.
    hover_background = darker(rgb, 0.88) if inverse == WHITE else lighter(rgb, 0.2)
    r, g, b = rgb
    tr, tg, tb = text
    # Pico sets its colours on :root:not([data-theme=dark]); the same selector,
    # loaded after Pico, wins.
    return (
        f"/* The event's accent colour {hex_of(rgb)}. */\n"
        ":root:not([data-theme=dark]) {\n"
        f"  --podium-accent: {hex_of(rgb)};\n"
        f"  --pico-primary: {hex_of(text)};\n"
        f"  --pico-primary-underline: rgba({tr}, {tg}, {tb}, 0.5);\n"
        f"  --pico-primary-hover: {hex_of(hover_text)};\n"
        f"  --pico-primary-hover-underline: {hex_of(hover_text)};\n"
        f"  --pico-primary-background: {hex_of(rgb)};\n"
        f"  --pico-primary-border: {hex_of(rgb)};\n"
        f"  --pico-primary-hover-background: {hex_of(hover_background)};\n"
        f"  --pico-primary-hover-border: {hex_of(hover_background)};\n"
        f"  --pico-primary-focus: rgba({r}, {g}, {b}, 0.4);\n"
        f"  --pico-primary-inverse: {hex_of(inverse)};\n"
        "}\n"
        "header.site { border-top: 4px solid var(--podium-accent); }\n"
    )
