"""Generated debris photos for the demo data: textured metal with stamped text, and real EXIF.

Pure functions (Pillow and numpy, no Django), deterministic for a given seed: the same
specification always gives the same JPEG bytes with the same Pillow, so a photo added again
is recognised as the same original. The images are drawn upright; a photo with an EXIF
orientation stores its pixels turned the way a camera held sideways would, and the boxes
of its texts are given in those stored pixel coordinates, as markings record them.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, TiffImagePlugin

from evidence.lib.imaging import display_to_original

FONT_DIR = Path(__file__).resolve().parent.parent / "export" / "fonts"
FONTS = {
    "sans": "DejaVuSans.ttf",
    "bold": "DejaVuSans-Bold.ttf",
    "mono": "DejaVuSansMono.ttf",
    "hangul": "NanumGothic.ttf",
    "hangul-bold": "NanumGothicBold.ttf",
}
CAMERA_MAKE = "Attest demo camera"
CAMERA_MODEL = "generated image [demo]"
DESCRIPTION = "[demo] Generated image for the Attest demo data; not a photograph of real debris."
# What the stored pixels are, per EXIF orientation, relative to the upright image.
_STORE_TRANSPOSE = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}
# Base colours (R, G, B) of the surfaces.
SURFACES = {
    "steel": (128, 131, 136),
    "dark-steel": (92, 94, 98),
    "painted": (96, 104, 84),
    "aluminium": (160, 162, 164),
    "board": (58, 74, 62),
}
Box = tuple[int, int, int, int]  # x, y, width, height


@dataclass(frozen=True)
class Text:
    """Text on the surface. `at` is the centre as fractions of the upright width and height."""

    label: str
    text: str
    font: str = "bold"
    size: int = 90
    at: tuple[float, float] = (0.5, 0.5)
    angle: float = 0.0
    style: str = "stamp"  # stamp (punched into metal), etch (light, laser-etched), stencil (paint)
    plate: bool = False  # a riveted data plate behind the text
    chip: bool = False  # a black integrated-circuit package behind the text


@dataclass(frozen=True)
class PhotoSpec:
    name: str
    size: tuple[int, int]  # upright width, height
    surface: str
    texts: tuple[Text, ...] = ()
    orientation: int = 1
    seed: int = 0


@dataclass(frozen=True)
class Exif:
    taken_at: dt.datetime  # aware
    latitude: float
    longitude: float
    altitude_m: float


@dataclass
class Rendered:
    jpeg: bytes
    stored_size: tuple[int, int]
    boxes: dict[str, Box] = field(default_factory=dict)  # text label -> box in stored pixels


@cache
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / FONTS[name]), size)


def _surface(spec: PhotoSpec, rng: np.random.Generator) -> Image.Image:
    """Brushed, scratched, stained metal with uneven light."""
    width, height = spec.size
    y, x = (grid.astype(np.float32) for grid in np.ogrid[0:height, 0:width])  # broadcast, not full-size
    slope_x, slope_y = (0.18 * float(rng.choice([-1, 1])), 0.12 * float(rng.choice([-1, 1])))
    centre = (rng.uniform(0.3, 0.7) * width, rng.uniform(0.3, 0.7) * height)
    light = 1.0 + slope_x * (x / width - 0.5) + slope_y * (y / height - 0.5)  # float32 (h, w)
    light -= 0.22 * (((x - centre[0]) / width) ** 2 + ((y - centre[1]) / height) ** 2)
    # Brushing: noise stretched along one direction, then fine grain across everything.
    streaks = rng.standard_normal(size=(height, max(8, width // 48)), dtype=np.float32)
    streaks = np.asarray(
        Image.fromarray(((streaks + 4) * 32).clip(0, 255).astype(np.uint8)).resize((width, height), Image.BILINEAR),
        dtype=np.float32,
    )
    texture = (streaks - 128) * (9 / 128) + rng.standard_normal(size=(height, width), dtype=np.float32) * 5
    del streaks
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    for channel, value in enumerate(SURFACES[spec.surface]):  # one channel at a time keeps memory low
        pixels[..., channel] = np.clip(light * value + texture, 0, 255)
    image = Image.fromarray(pixels, "RGB")

    stains = Image.new("L", spec.size, 0)
    draw = ImageDraw.Draw(stains)
    for _ in range(int(rng.integers(3, 7))):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        rx, ry = rng.uniform(0.04, 0.16) * width, rng.uniform(0.04, 0.12) * height
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=int(rng.integers(40, 110)))
    stains = stains.filter(ImageFilter.GaussianBlur(radius=width / 40))
    rust = Image.new("RGB", spec.size, (112, 72, 44) if spec.surface != "board" else (40, 40, 36))
    image = Image.composite(rust, image, stains)

    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(14, 30))):  # scratches: light gouges with a dark edge
        x0, y0 = rng.uniform(0, width), rng.uniform(0, height)
        length, angle = rng.uniform(0.05, 0.45) * width, rng.uniform(0, math.pi)
        x1, y1 = x0 + length * math.cos(angle), y0 + length * math.sin(angle)
        shade = int(rng.integers(140, 200))
        draw.line((x0 + 1, y0 + 1, x1 + 1, y1 + 1), fill=(50, 50, 52), width=1)
        draw.line((x0, y0, x1, y1), fill=(shade, shade, shade + 4), width=int(rng.integers(1, 3)))
    for _ in range(int(rng.integers(40, 90))):  # pits
        px, py, radius = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(1, 5)
        draw.ellipse((px - radius, py - radius, px + radius, py + radius), fill=(46, 44, 42))
    return image


def _backing(image: Image.Image, box: tuple[int, int, int, int], *, chip: bool, rng: np.random.Generator) -> None:
    left, top, right, bottom = box
    draw = ImageDraw.Draw(image)
    if chip:
        pin = max(6, (bottom - top) // 9)
        for x in range(left + pin, right - pin, pin * 2):
            draw.rectangle((x, top - pin * 2, x + pin, top), fill=(188, 190, 184))
            draw.rectangle((x, bottom, x + pin, bottom + pin * 2), fill=(188, 190, 184))
        draw.rectangle(box, fill=(26, 27, 29), outline=(14, 14, 15), width=3)
        draw.ellipse((left + pin, top + pin, left + pin * 3, top + pin * 3), fill=(40, 41, 44))
        return
    shade = int(rng.integers(168, 196))
    draw.rounded_rectangle((left + 6, top + 6, right + 6, bottom + 6), radius=14, fill=(44, 44, 46))
    draw.rounded_rectangle(box, radius=14, fill=(shade, shade, shade + 3), outline=(88, 88, 90), width=4)
    rivet = max(8, (bottom - top) // 12)
    for rx, ry in ((left + rivet * 2, top + rivet * 2), (right - rivet * 2, top + rivet * 2),
                   (left + rivet * 2, bottom - rivet * 2), (right - rivet * 2, bottom - rivet * 2)):  # fmt: skip
        draw.ellipse((rx - rivet, ry - rivet, rx + rivet, ry + rivet), fill=(110, 110, 112), outline=(60, 60, 62))


def _draw_text(image: Image.Image, text: Text, rng: np.random.Generator) -> Box:
    """Draw one text, returning the box it covers on the upright image."""
    face = font(text.font, text.size)
    left, top, right, bottom = ImageDraw.Draw(image).textbbox((0, 0), text.text, font=face)
    pad = text.size // 3
    layer_size = (right - left + pad * 2, bottom - top + pad * 2)
    mask = Image.new("L", layer_size, 0)
    ImageDraw.Draw(mask).text((pad - left, pad - top), text.text, font=face, fill=255)
    if text.angle:
        mask = mask.rotate(text.angle, resample=Image.BICUBIC, expand=True)
    width, height = image.size
    x = round(text.at[0] * width - mask.width / 2)
    y = round(text.at[1] * height - mask.height / 2)
    if text.plate or text.chip:
        margin = text.size // 2
        _backing(
            image,
            (x + pad - margin, y + pad - margin, x + mask.width - pad + margin, y + mask.height - pad + margin),
            chip=text.chip,
            rng=rng,
        )
    soft = mask.filter(ImageFilter.GaussianBlur(radius=max(1.0, text.size / 60)))
    if text.style == "etch":
        image.paste((205, 206, 200), (x, y), soft.point(lambda v: v * 0.85))
    elif text.style == "stencil":
        image.paste((226, 224, 210), (x, y), soft.point(lambda v: v * 0.9))
    else:  # punched: a lit lower edge and a dark cut
        offset = max(2, text.size // 30)
        image.paste((214, 214, 216), (x + offset, y + offset), soft.point(lambda v: v * 0.7))
        image.paste((34, 34, 36), (x, y), soft.point(lambda v: v * 0.85))
    inked = mask.getbbox() or (0, 0, mask.width, mask.height)
    margin = max(8, text.size // 6)
    box_left, box_top = max(0, x + inked[0] - margin), max(0, y + inked[1] - margin)
    box_right, box_bottom = min(width, x + inked[2] + margin), min(height, y + inked[3] + margin)
    return box_left, box_top, box_right - box_left, box_bottom - box_top


def _rational(value: float, limit: int = 10000) -> TiffImagePlugin.IFDRational:
    fraction = Fraction(value).limit_denominator(limit)
    return TiffImagePlugin.IFDRational(fraction.numerator, fraction.denominator)


def _dms(value: float) -> tuple[TiffImagePlugin.IFDRational, ...]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = (value - degrees - minutes / 60) * 3600
    return _rational(degrees, 1), _rational(minutes, 1), _rational(round(seconds, 3), 1000)


def exif_bytes(exif: Exif, *, orientation: int) -> bytes:
    """EXIF as a camera writes it: make, model, orientation, local time with its offset, GPS."""
    tags = Image.Exif()
    local = exif.taken_at
    stamp = local.strftime("%Y:%m:%d %H:%M:%S")
    offset = local.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    offset_text = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    tags[0x010F] = CAMERA_MAKE
    tags[0x0110] = CAMERA_MODEL
    tags[0x010E] = DESCRIPTION
    tags[0x0131] = "Attest load_demo"
    tags[0x0112] = orientation
    tags[0x0132] = stamp
    exif_ifd = tags.get_ifd(0x8769)
    exif_ifd[0x9003] = stamp  # DateTimeOriginal
    exif_ifd[0x9004] = stamp  # DateTimeDigitized
    exif_ifd[0x9011] = offset_text  # OffsetTimeOriginal
    exif_ifd[0x9012] = offset_text
    exif_ifd[0x9010] = offset_text
    gps = tags.get_ifd(0x8825)
    gps[0x0000] = b"\x02\x03\x00\x00"
    gps[0x0001] = "N" if exif.latitude >= 0 else "S"
    gps[0x0002] = _dms(exif.latitude)
    gps[0x0003] = "E" if exif.longitude >= 0 else "W"
    gps[0x0004] = _dms(exif.longitude)
    gps[0x0005] = b"\x00" if exif.altitude_m >= 0 else b"\x01"
    gps[0x0006] = _rational(abs(exif.altitude_m), 100)
    return tags.tobytes()


def render(spec: PhotoSpec, exif: Exif) -> Rendered:
    """The JPEG of a photo specification, and where each of its texts lies in the stored pixels."""
    rng = np.random.default_rng(spec.seed)
    upright = _surface(spec, rng)
    upright_boxes = {text.label: _draw_text(upright, text, rng) for text in spec.texts}
    upright = upright.filter(ImageFilter.GaussianBlur(radius=0.6))  # a lens is never perfectly sharp
    stored = upright.transpose(_STORE_TRANSPOSE[spec.orientation]) if spec.orientation in _STORE_TRANSPOSE else upright
    boxes = {
        label: display_to_original(box, orientation=spec.orientation, original_size=stored.size)
        for label, box in upright_boxes.items()
    }
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", quality=88, exif=exif_bytes(exif, orientation=spec.orientation))
    return Rendered(jpeg=buffer.getvalue(), stored_size=stored.size, boxes=boxes)
