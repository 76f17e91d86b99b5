"""Camera-like JPEGs for the photo benchmarks: textured pixels and the EXIF a camera writes.

Pure Pillow and numpy, no Django. A photo here is a smooth gradient background (sky, walls),
a few hundred hard-edged shapes and lines (debris, fences, shadows), stamped text (markings on
a missile part) and sensor noise, saved at quality 92 with 4:2:0 chroma as most cameras do.
The result compresses like a real photo: about 3.6 MB at 12 MP and 6.8 MB at 24 MP, where a
flat or pure-noise image would be far smaller or far larger. The EXIF holds make, model, lens,
DateTimeOriginal with its offset, exposure, ISO, a MakerNote blob, GPS position and altitude,
and the orientation, which is 1 unless asked otherwise.

Every image is determined by its seed, and different seeds give different bytes (hence
different SHA-256s, so the evidence store keeps each one as a separate original).
"""

from __future__ import annotations

import io
import itertools
import random
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageChops, ImageDraw, ImageFont, TiffImagePlugin

QUALITY = 92
SIZES = {"12 MP": (4000, 3000), "24 MP": (6000, 4000)}
NOISE_SIGMA = 6.0  # sensor noise, in 8-bit levels
SHAPES = 300
LABELS = 40
CAMERAS = [
    ("Canon", "Canon EOS 90D", "Canon", "EF-S18-135mm f/3.5-5.6 IS USM"),
    ("NIKON CORPORATION", "NIKON D7500", "Nikon", "AF-S DX NIKKOR 18-140mm f/3.5-5.6G ED VR"),
    ("SONY", "ILCE-6400", "Sony", "E 18-135mm F3.5-5.6 OSS"),
    ("Apple", "iPhone 13 Pro", "Apple", "iPhone 13 Pro back triple camera 5.7mm f/1.5"),
]
# Kharkiv, Kupiansk, Izium, Zaporizhzhia, Dnipro: where debris is photographed.
PLACES = [(49.9935, 36.2304), (49.7106, 37.6156), (49.2103, 37.2483), (47.8388, 35.1396), (48.4647, 35.0462)]

_NOISE_TILE = (1009, 997)  # prime sides: the tiled noise lines up with no 8x8 or 16x16 block grid


def _rational(value: float, denominator: int = 10_000) -> TiffImagePlugin.IFDRational:
    return TiffImagePlugin.IFDRational(round(value * denominator), denominator)


def _dms(value: float) -> tuple[TiffImagePlugin.IFDRational, ...]:
    degrees = int(value)
    minutes_float = (value - degrees) * 60
    minutes = int(minutes_float)
    seconds = (minutes_float - minutes) * 60
    return (
        TiffImagePlugin.IFDRational(degrees, 1),
        TiffImagePlugin.IFDRational(minutes, 1),
        _rational(seconds, 100),
    )


def camera_exif(seed: int, *, orientation: int = 1) -> bytes:
    """The EXIF block of a camera photo: make, model, lens, times, exposure, GPS, orientation."""
    rng = random.Random(seed)
    make, model, lens_make, lens_model = rng.choice(CAMERAS)
    latitude, longitude = rng.choice(PLACES)
    latitude += rng.uniform(-0.02, 0.02)
    longitude += rng.uniform(-0.02, 0.02)
    month, day, hour, minute, second = (rng.randint(*span) for span in ((1, 12), (1, 28), (5, 20), (0, 59), (0, 59)))
    stamp = f"2024:{month:02d}:{day:02d} {hour:02d}:{minute:02d}:{second:02d}"

    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = model
    exif[0x0112] = orientation
    exif[0x011A] = TiffImagePlugin.IFDRational(300, 1)  # XResolution
    exif[0x011B] = TiffImagePlugin.IFDRational(300, 1)  # YResolution
    exif[0x0128] = 2  # ResolutionUnit: inch
    exif[0x0131] = "Firmware Version 1.1.1"
    exif[0x0132] = stamp  # DateTime
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[0x829A] = TiffImagePlugin.IFDRational(1, rng.choice([125, 250, 500, 1000]))  # ExposureTime
    details[0x829D] = _rational(rng.choice([4.0, 5.6, 8.0]), 10)  # FNumber
    details[0x8827] = rng.choice([100, 200, 400, 800])  # ISO
    details[0x9000] = b"0232"  # ExifVersion
    details[0x9003] = stamp  # DateTimeOriginal
    details[0x9004] = stamp  # DateTimeDigitized
    details[0x9010] = details[0x9011] = details[0x9012] = "+02:00"  # OffsetTime*
    details[0x920A] = _rational(rng.uniform(18, 135), 10)  # FocalLength
    details[0x927C] = rng.randbytes(rng.randint(2_000, 12_000))  # MakerNote: opaque, vendor-specific
    details[0xA001] = 1  # ColorSpace: sRGB
    details[0xA433] = lens_make
    details[0xA434] = lens_model
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[0x0000] = b"\x02\x03\x00\x00"  # GPSVersionID
    gps[0x0001] = "N"
    gps[0x0002] = _dms(latitude)
    gps[0x0003] = "E"
    gps[0x0004] = _dms(longitude)
    gps[0x0005] = b"\x00"  # above sea level
    gps[0x0006] = _rational(rng.uniform(90, 200), 100)
    gps[0x001D] = stamp.split(" ")[0]  # GPSDateStamp
    return exif.tobytes()


def camera_image(width: int, height: int, seed: int) -> Image.Image:
    """Textured RGB pixels: gradients, shapes, text and sensor noise."""
    rng = random.Random(seed)
    # Low-frequency background, computed at 1/16 scale and enlarged (smooth, as out-of-focus areas are).
    small_h, small_w = max(2, height // 16), max(2, width // 16)
    yy, xx = np.mgrid[0:small_h, 0:small_w].astype(np.float32)
    channels = []
    for _ in range(3):
        level, slope_x, slope_y = rng.uniform(60, 180), rng.uniform(-60, 60), rng.uniform(-60, 60)
        fx, fy, phase = rng.uniform(0.02, 0.12), rng.uniform(0.02, 0.12), rng.uniform(0, 6.3)
        values = (
            level + slope_x * xx / small_w + slope_y * yy / small_h + 30 * np.sin(xx * fx + phase) * np.cos(yy * fy)
        )
        channels.append(np.clip(values, 0, 255).astype(np.uint8))
    image = Image.fromarray(np.dstack(channels), "RGB").resize((width, height), Image.Resampling.BICUBIC)

    draw = ImageDraw.Draw(image)
    longest = max(width, height)
    for _ in range(SHAPES):
        x, y, size = rng.randrange(width), rng.randrange(height), rng.randrange(20, longest // 6)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        kind = rng.random()
        if kind < 0.3:
            box = [x, y, x + size, y + int(size * rng.uniform(0.2, 1.0))]
            draw.rectangle(box, fill=colour, outline=(0, 0, 0), width=rng.randrange(1, 6))
        elif kind < 0.6:
            draw.ellipse([x, y, x + size, y + int(size * rng.uniform(0.3, 1.0))], fill=colour)
        elif kind < 0.85:
            end = (x + rng.randrange(-size, size), y + rng.randrange(-size, size))
            draw.line([(x, y), end], fill=colour, width=rng.randrange(2, 20))
        else:
            draw.polygon(
                [(x + rng.randrange(-size, size), y + rng.randrange(-size, size)) for _ in range(5)], fill=colour
            )
    font = ImageFont.load_default(size=max(12, height // 40))
    for _ in range(LABELS):
        text = f"9M723 LOT {rng.randrange(10**6):06d} {rng.choice(['KN-23', 'HWASONG-11', 'KH-101'])}"
        draw.text((rng.randrange(width), rng.randrange(height)), text, fill=(rng.randrange(256),) * 3, font=font)

    # Sensor noise: a tile of Gaussian noise around 128, pasted over the frame and added.
    generator = np.random.default_rng(seed)
    tile_h, tile_w = _NOISE_TILE
    tile = np.clip(generator.normal(128, NOISE_SIGMA, (tile_h, tile_w, 3)), 0, 255).astype(np.uint8)
    tile_image = Image.fromarray(tile, "RGB")
    noise = Image.new("RGB", (width, height))
    for top in range(0, height, tile_h):
        for left in range(0, width, tile_w):
            noise.paste(tile_image, (left, top))
    return ImageChops.add(image, noise, scale=1.0, offset=-128)


def camera_jpeg(width: int, height: int, *, seed: int, orientation: int = 1, quality: int = QUALITY) -> bytes:
    """The bytes of a camera-like JPEG of width x height pixels with full EXIF."""
    out = io.BytesIO()
    camera_image(width, height, seed).save(
        out, format="JPEG", quality=quality, exif=camera_exif(seed, orientation=orientation)
    )
    return out.getvalue()


def with_exif(jpeg: bytes, exif: bytes) -> bytes:
    """The JPEG with its EXIF (APP1) segment replaced by `exif` (as Image.Exif.tobytes() gives it), or
    inserted after SOI when it has none: a new original with the same pixels, for the cost of a copy."""
    if not jpeg.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    segment = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
    at = 2
    while at + 4 <= len(jpeg) and jpeg[at] == 0xFF and 0xE0 <= jpeg[at + 1] <= 0xEF:  # APPn segments
        length = int.from_bytes(jpeg[at + 2 : at + 4], "big")
        if jpeg[at + 1] == 0xE1 and jpeg[at + 4 : at + 10] == b"Exif\x00\x00":
            return jpeg[:at] + segment + jpeg[at + 2 + length :]
        at += 2 + length
    return jpeg[:2] + segment + jpeg[2:]


def camera_jpeg_variants(size: tuple[int, int], *, seed: int, orientation: int = 1) -> Iterator[bytes]:
    """Endless distinct camera JPEGs of `size`: the same pixels (encoded once), each with the EXIF of
    another seed (another camera, time, place and MakerNote), so each has its own SHA-256."""
    pixels = camera_jpeg(*size, seed=seed, orientation=orientation)
    for n in itertools.count(1):
        yield with_exif(pixels, camera_exif(seed + n, orientation=orientation))


def write_camera_jpegs(folder: Path, size: tuple[int, int], count: int, *, seed: int, prefix: str) -> list[Path]:
    """`count` different camera-like JPEGs of `size` written to folder; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"{prefix}-{n:03d}.jpg"
        path.write_bytes(camera_jpeg(*size, seed=seed + n))
        paths.append(path)
    return paths


def describe(paths: list[Path]) -> str:
    sizes = [path.stat().st_size for path in paths]
    with Image.open(paths[0]) as im:
        width, height = im.size
    return f"{len(paths)} x {width}x{height} JPEG q{QUALITY}, {min(sizes) / 1e6:.1f}-{max(sizes) / 1e6:.1f} MB"


if __name__ == "__main__":  # a look at the timing and sizes: python bench/photo_images.py
    for label, (w, h) in SIZES.items():
        started = time.perf_counter()
        data = camera_jpeg(w, h, seed=1)
        print(f"{label}: {w}x{h}, {len(data) / 1e6:.2f} MB in {time.perf_counter() - started:.2f} s")
