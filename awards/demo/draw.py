"""Draws the demo week's images: ``python awards/demo/draw.py`` writes logo.png and
seal.png beside this file, which ``manage.py seed_demo`` stores on the demo event.

The logo follows the story's description of the Ningbo Social Work LOGO, in our own
drawing: two orange figures (social workers) with a heart between them and a
heart-shaped wave below. The seal is a round red seal in the manner of a Chinese
official seal: the organiser's name around the rim, a star in the centre, and
"演示专用" (for demonstration only) below it, so that nobody takes it for a real one.

The PNGs are committed, so a fresh clone needs neither this script nor its font;
drawing the seal again needs a Chinese font (Debian: fonts-noto-cjk).
"""

import math
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
ORANGE = (242, 113, 28, 255)  # the demo's accent colour, #F2711C
DEEP_ORANGE = (217, 72, 15, 255)  # the heart and the wave
SEAL_RED = (214, 32, 38, 235)
SEAL_TEXT = "宁波江北社会工作宣传周组委会"
SEAL_FOOT = "演示专用"
FONTS = [
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
]
SCALE = 4  # drawn four times larger, then reduced: smooth edges


def heart(cx: float, cy: float, size: float) -> list[tuple[float, float]]:
    """A heart's outline around (cx, cy), ``size`` wide."""
    points = []
    for step in range(200):
        t = 2 * math.pi * step / 200
        x = 16 * math.sin(t) ** 3
        y = (
            13 * math.cos(t)
            - 5 * math.cos(2 * t)
            - 2 * math.cos(3 * t)
            - math.cos(4 * t)
        )
        points.append((cx + x * size / 34, cy - y * size / 34))
    return points


def figure(draw: ImageDraw.ImageDraw, cx: float, side: int, s: float) -> None:
    """A social worker: a round head and a body that leans towards the heart, one
    arm reaching over it. ``side`` is -1 for the left figure, 1 for the right."""
    draw.ellipse((cx - 62 * s, 150 * s, cx + 62 * s, 274 * s), fill=ORANGE)
    # The body: shoulders wider than the feet, leaning inwards, rounded below.
    inward = -side
    body = [
        (cx - 95 * s, 345 * s),
        (cx + 95 * s, 345 * s),
        (cx + (55 + 45 * inward) * s, 660 * s),
        (cx + (-55 + 45 * inward) * s, 660 * s),
    ]
    draw.polygon(body, fill=ORANGE)
    draw.ellipse((cx - 95 * s, 295 * s, cx + 95 * s, 400 * s), fill=ORANGE)
    foot = cx + 45 * inward * s
    draw.ellipse((foot - 55 * s, 605 * s, foot + 55 * s, 715 * s), fill=ORANGE)
    # The arm towards the heart, a thick curved stroke ending in a round hand.
    arm = []
    for step in range(40):
        t = step / 39
        x = cx + inward * (60 + 130 * t) * s
        y = (380 + 140 * t - 120 * t * t) * s
        arm.append((x, y))
    draw.line(arm, fill=ORANGE, width=int(58 * s), joint="curve")
    hx, hy = arm[-1]
    draw.ellipse((hx - 29 * s, hy - 29 * s, hx + 29 * s, hy + 29 * s), fill=ORANGE)


def draw_logo(size: int = 512) -> Image.Image:
    s = size * SCALE / 1000
    image = Image.new("RGBA", (size * SCALE, size * SCALE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    centre = 500 * s
    figure(draw, centre - 250 * s, -1, s)
    figure(draw, centre + 250 * s, 1, s)
    draw.polygon(heart(centre, 470 * s, 230 * s), fill=DEEP_ORANGE)
    # The heart-shaped wave below: two swells that meet in a point, like the
    # bottom of a heart, under both figures.
    wave = []
    for step in range(121):
        t = step / 120
        x = (90 + 820 * t) * s
        y = (790 - 70 * math.sin(math.pi * ((2 * t) % 1))) * s
        wave.append((x, y))
    draw.line(wave, fill=DEEP_ORANGE, width=int(56 * s), joint="curve")
    for x, y in (wave[0], wave[-1]):
        draw.ellipse((x - 28 * s, y - 28 * s, x + 28 * s, y + 28 * s), fill=DEEP_ORANGE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def star(cx: float, cy: float, outer: float) -> list[tuple[float, float]]:
    inner = outer * 0.382
    points = []
    for k in range(10):
        radius = outer if k % 2 == 0 else inner
        angle = -math.pi / 2 + k * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def chinese_font(size: int) -> ImageFont.FreeTypeFont:
    for path, index in FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size, index=index)
    sys.exit("No Chinese font: install fonts-noto-cjk to draw the seal.")


def draw_seal(
    size: int = 512, text: str = SEAL_TEXT, foot: str = SEAL_FOOT
) -> Image.Image:
    big = size * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    c = big / 2
    rim = big * 0.47
    draw.ellipse(
        (c - rim, c - rim, c + rim, c + rim), outline=SEAL_RED, width=int(big * 0.035)
    )
    draw.polygon(star(c, c, big * 0.15), fill=SEAL_RED)
    # The name around the upper rim, each character upright towards the centre,
    # spread over 240 degrees as on an official seal.
    font = chinese_font(int(big * 0.095))
    spread = math.radians(250)
    radius = big * 0.36
    for index, character in enumerate(text):
        angle = -math.pi / 2 - spread / 2 + spread * (index + 0.5) / len(text)
        tile = Image.new("RGBA", (int(big * 0.16), int(big * 0.16)), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text(
            (tile.width / 2, tile.height / 2),
            character,
            font=font,
            fill=SEAL_RED,
            anchor="mm",
        )
        tile = tile.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        x = c + radius * math.cos(angle) - tile.width / 2
        y = c + radius * math.sin(angle) - tile.height / 2
        image.alpha_composite(tile, (int(x), int(y)))
    foot_font = chinese_font(int(big * 0.075))
    draw.text((c, c + big * 0.25), foot, font=foot_font, fill=SEAL_RED, anchor="mm")
    return image.resize((size, size), Image.Resampling.LANCZOS)


if __name__ == "__main__":
    draw_logo().save(HERE / "logo.png", optimize=True)
    draw_seal().save(HERE / "seal.png", optimize=True)
    print(f"Wrote {HERE / 'logo.png'} and {HERE / 'seal.png'}")
