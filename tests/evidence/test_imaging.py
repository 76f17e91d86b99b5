"""Decoding, derivatives, hashes and orientation geometry (evidence.lib.imaging).

Runs against the real camera files in shared/data/photos (see its SOURCES.md and
manifest.json) plus inputs generated here; no database.
"""

from __future__ import annotations

import functools
import io
import math
import random
import struct
import tracemalloc
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageFile, ImageOps

from evidence.lib import imaging
from evidence.lib.imaging import (
    Derivatives,
    display_size,
    display_to_original,
    fit_within,
    hamming_distance,
    inspect_image,
    make_derivatives,
    original_to_display,
)
from evidence.lib.sniff import PhotoRejected
from tests import corpus as photos

PHOTOS, MANIFEST, MISSING = photos.PHOTOS, photos.PHOTOS / "manifest.json", photos.MISSING
MAX_PIXELS = 100_000_000

# Pillow (without pillow-heif) could not open these, but they are sound HEICs.
HEICS = photos.HEICS
# Refused corpus files and why; the manifest records each as failing in Pillow.
MALFORMED = {
    "decompression_bomb.gif": "unsupported_format",  # GIF is refused before its size matters
    "truncated_jpeg.jpg": "truncated",
    "User Comment Encoding.jpg": "truncated",  # scan data cut short
    "NegativeArraySizeException.HeifReader.processBoxes.heif": "corrupt",  # fuzzed HEIF
}


VALID, INVALID = photos.VALID, photos.INVALID
_params, corpus = photos.params, photos.photo


path_of = photos.path_of


def landscape(n: int) -> Path:
    return corpus(f"Landscape_{n}.jpg")


# Smaller renditions where the exact default sizes do not matter: keeps the suite fast.
SMALL = (800, 200)


@functools.cache
def derived(path: Path, sizes: tuple[int, int] = (1600, 400)) -> Derivatives:
    return make_derivatives(path, preview_px=sizes[0], thumb_px=sizes[1])


def decoded(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size
    return float(np.abs(np.asarray(a.convert("RGB"), float) - np.asarray(b.convert("RGB"), float)).mean())


def saved(im: Image.Image, path: Path, fmt: str, **options: Any) -> Path:
    im.save(path, fmt, **options)
    return path


def png_header(width: int, height: int) -> bytes:
    """A PNG declaring width x height that holds almost no data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def tiff_header(width: int, height: int) -> bytes:
    """A little-endian grey TIFF declaring width x height with one 16-byte strip."""
    tags = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1), (277, 3, 1)]
    tags += [(278, 4, height), (279, 4, 16)]
    data_offset = 8 + 2 + 12 * (len(tags) + 1) + 4
    tags.append((273, 4, data_offset))
    tags.sort()
    ifd = struct.pack("<H", len(tags)) + b"".join(struct.pack("<HHII", t, kind, 1, v) for t, kind, v in tags)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\0\0\0\0" + b"\0" * 16


def expected_format(entry: dict[str, Any]) -> str:
    if "pil_format" in entry:
        return entry["pil_format"].lower()
    brand = bytes.fromhex(entry["magic_hex"])[8:12]
    return "heic" if brand == b"heic" else f"unexpected brand {brand!r}"


# --- acceptance and refusal -------------------------------------------------------


@pytest.mark.parametrize("entry", _params(VALID))
def test_valid_corpus_files_are_accepted(entry: dict[str, Any]) -> None:
    info = inspect_image(path_of(entry), max_pixels=MAX_PIXELS)
    assert info.format == expected_format(entry)
    if "pil_size" in entry:
        assert [info.width, info.height] == entry["pil_size"]
        assert info.mode == entry["pil_mode"]
    else:
        assert info.mode == "RGB"


def test_corpus_has_the_expected_valid_and_malformed_files() -> None:
    if not MANIFEST.is_file():
        pytest.skip(MISSING)
    assert len(VALID) == 35
    assert {e["file"] for e in INVALID} == set(MALFORMED)


@pytest.mark.parametrize(("name", "code"), list(MALFORMED.items()))
def test_malformed_corpus_files_are_refused(name: str, code: str) -> None:
    with pytest.raises(PhotoRejected) as caught:
        inspect_image(corpus(name), max_pixels=MAX_PIXELS)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty"),
        (b"<!doctype html>\n<html><body><script>alert(1)</script></body></html>", "not_an_image"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "unsupported_format"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "not_an_image"),
        (png_header(16, 16) + b"<html><script>fetch('/steal')</script></html>", "polyglot"),
    ],
    ids=["empty", "html", "svg", "pdf", "png+html"],
)
def test_generated_inputs_are_refused(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "upload.jpg"  # the name says JPEG; only the bytes count
    path.write_bytes(content)
    with pytest.raises(PhotoRejected) as caught:
        inspect_image(path, max_pixels=MAX_PIXELS)
    assert caught.value.code == code
    assert str(caught.value)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIC"])
def test_truncated_copies_are_refused(tmp_path: Path, fmt: str) -> None:
    if fmt == "HEIC":
        # libheif decodes a cut HEIC without complaint (missing tiles come out green);
        # the container check must catch it.
        data = corpus("IMG_1034.heic").read_bytes()
    else:
        out = io.BytesIO()
        Image.open(landscape(1)).resize((600, 400)).save(out, fmt)
        data = out.getvalue()
    if fmt != "HEIC":  # (the whole HEIC is accepted in test_valid_corpus_files_are_accepted)
        whole = saved_bytes(tmp_path / "whole", data)
        assert inspect_image(whole, max_pixels=MAX_PIXELS).format == fmt.lower()
    cut = saved_bytes(tmp_path / "cut", data[: len(data) * 2 // 3])
    with pytest.raises(PhotoRejected) as caught:
        inspect_image(cut, max_pixels=MAX_PIXELS)
    assert caught.value.code == "truncated"


def saved_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_pixel_limit_is_our_own(tmp_path: Path) -> None:
    path = landscape(1)  # 1800 x 1200 = 2,160,000 pixels
    assert inspect_image(path, max_pixels=2_160_000).width == 1800
    with pytest.raises(PhotoRejected) as caught:
        inspect_image(path, max_pixels=2_159_999)
    assert caught.value.code == "too_many_pixels"
    with pytest.raises(PhotoRejected) as caught:
        make_derivatives(path, max_pixels=2_159_999)
    assert caught.value.code == "too_many_pixels"

    tiff = saved_bytes(tmp_path / "big.tif", tiff_header(9000, 9000))  # 81 Mpx, under Pillow's limit
    with pytest.raises(PhotoRejected) as caught:
        inspect_image(tiff, max_pixels=50_000_000)
    assert caught.value.code == "too_many_pixels"
    assert "more than the 50000000 allowed" in str(caught.value)


@pytest.mark.parametrize("times", [1, 2])  # Pillow warns above its limit, raises above twice it
def test_decompression_bombs_are_refused_without_touching_global_state(tmp_path: Path, times: int) -> None:
    # Pillow's limit is the app's (ATTEST_MAX_IMAGE_PIXELS, set at start); a side just past it or twice it.
    side = math.isqrt(times * Image.MAX_IMAGE_PIXELS) + 1
    path = saved_bytes(tmp_path / "bomb.png", png_header(side, side))
    limit_before, filters_before = Image.MAX_IMAGE_PIXELS, list(warnings.filters)
    with pytest.raises(PhotoRejected) as caught:
        inspect_image(path, max_pixels=10**12)  # our limit would allow it: Pillow's must not
    assert caught.value.code == "too_many_pixels"
    assert limit_before == Image.MAX_IMAGE_PIXELS
    assert warnings.filters == filters_before


def test_truncated_images_cannot_slip_through_a_global_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError, match="LOAD_TRUNCATED_IMAGES"):
        inspect_image(landscape(1), max_pixels=MAX_PIXELS)


@pytest.fixture(scope="module")
def large_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid ~50 MB JPEG: 12 Mpx of noise at quality 100 without chroma subsampling."""
    noise = np.random.default_rng(0).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
    path = tmp_path_factory.mktemp("large") / "noise.jpg"
    return saved(Image.fromarray(noise), path, "JPEG", quality=100, subsampling=0)


def test_large_files_are_vetted_in_pieces(large_jpeg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def read_whole_file(self: Path) -> bytes:
        raise AssertionError(f"{self} was read whole")

    monkeypatch.setattr(Path, "read_bytes", read_whole_file)
    assert large_jpeg.stat().st_size > 40_000_000
    tracemalloc.start()
    try:
        info = inspect_image(large_jpeg, max_pixels=MAX_PIXELS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (info.format, info.width, info.height, info.mode) == ("jpeg", 4000, 3000, "RGB")
    # Python's allocations only, which is where file contents would be held: Pillow
    # decodes into C memory that tracemalloc does not see.
    assert peak < 16_000_000, f"vetting held {peak:,} bytes of Python objects at once"


# --- derivatives ------------------------------------------------------------------


@pytest.mark.parametrize("entry", _params([e for e in VALID if e["file"] not in HEICS]))
def test_derivatives_of_every_valid_file(entry: dict[str, Any]) -> None:
    result = derived(path_of(entry), SMALL)
    preview, thumb = decoded(result.preview_jpeg), decoded(result.thumb_jpeg)
    for im, limit, (width, height) in (
        (preview, SMALL[0], (result.preview_width, result.preview_height)),
        (thumb, SMALL[1], (result.thumb_width, result.thumb_height)),
    ):
        assert im.format == "JPEG"
        assert im.mode == "RGB"
        assert im.size == (width, height)
        upright = display_size(tuple(entry["pil_size"]), entry.get("pil_orientation"))
        assert max(im.size) == min(limit, max(upright))  # scaled down only, never up
        # Orientation applied: the long side is the same one as in the upright original.
        assert (im.width >= im.height) == (upright[0] >= upright[1])
        assert len(im.getexif()) == 0
        assert not {"exif", "xmp", "comment"} & set(im.info)
    assert len(result.phash) == len(result.dhash) == 16
    int(result.phash, 16), int(result.dhash, 16)


def test_heic_derivatives_are_upright() -> None:
    result = derived(corpus("Issue 487.heic"))  # stored 4032x3024 with orientation 6
    assert result.source_size == (3024, 4032)  # pillow-heif already rotated it
    assert (result.preview_width, result.preview_height) == (1200, 1600)
    assert (result.thumb_width, result.thumb_height) == (300, 400)
    assert b"Exif" not in result.preview_jpeg


@pytest.mark.parametrize("n", [0, 2, 3, 4, 5, 6, 7, 8])
def test_landscape_derivatives_come_out_upright(n: int) -> None:
    reference = derived(landscape(1))
    result = derived(landscape(n))
    assert result.orientation == (n if n else 1)  # Landscape_0 has the invalid value 0
    assert (result.preview_width, result.preview_height) == (1600, 1067)
    assert (result.thumb_width, result.thumb_height) == (400, 267)
    assert mean_abs_diff(decoded(result.thumb_jpeg), decoded(reference.thumb_jpeg)) < 6
    assert mean_abs_diff(decoded(result.preview_jpeg), decoded(reference.preview_jpeg)) < 8


def test_upright_check_would_notice_a_missing_rotation() -> None:
    # The same comparison on stored (not rotated) pixels fails by a wide margin.
    reference = decoded(derived(landscape(1)).thumb_jpeg)
    stored = Image.open(landscape(3)).resize(reference.size, Image.Resampling.LANCZOS)
    assert mean_abs_diff(stored, reference) > 30


def test_large_jpeg_is_decoded_in_draft_mode() -> None:
    result = derived(corpus("Issue 266.jpg"))
    assert result.source_size == (5760, 3840)
    assert result.decoded_size == (2880, 1920)  # libjpeg scaled by 1/2 while decoding
    assert (result.preview_width, result.preview_height) == (1600, 1067)


def test_original_is_opened_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real_open = Image.open

    def counting_open(*args: Any, **kwargs: Any) -> Image.Image:
        calls.append(args[0])
        return real_open(*args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    make_derivatives(landscape(6), preview_px=300, thumb_px=100)
    assert len(calls) == 1


def test_derivatives_carry_no_metadata_but_keep_an_rgb_colour_profile(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Acme"
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (52.0, 30.0, 0.0), 3: "E", 4: (13.0, 24.0, 0.0)}
    icc = b"\0" * 16 + b"RGB " + b"XYZ " + b"\x01" * 100  # the header fields that matter here
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>52,30N</exif:GPSLatitude></x:xmpmeta>'
    source = Image.linear_gradient("L").convert("RGB").resize((900, 600))
    path = saved(source, tmp_path / "meta.jpg", "JPEG", exif=exif, icc_profile=icc, xmp=xmp, comment=b"taken at HQ")
    result = make_derivatives(path, preview_px=500, thumb_px=100)
    assert (result.preview_width, result.preview_height) == (333, 500)  # orientation 6 applied
    for data in (result.preview_jpeg, result.thumb_jpeg):
        for leak in (b"Exif", b"Acme", b"xmpmeta", b"GPS", b"taken at HQ"):
            assert leak not in data
        assert decoded(data).info.get("icc_profile") == icc


def test_cmyk_source_keeps_no_cmyk_profile(tmp_path: Path) -> None:
    icc = b"\0" * 16 + b"CMYK" + b"Lab " + b"\x01" * 100
    path = saved(Image.new("CMYK", (64, 48), (0, 255, 255, 0)), tmp_path / "c.jpg", "JPEG", icc_profile=icc)
    result = make_derivatives(path)
    preview = decoded(result.preview_jpeg)
    assert "icc_profile" not in preview.info
    red, green, blue = preview.getpixel((32, 24))
    assert red > 200 > 60 > green
    assert blue < 60


@pytest.mark.parametrize("fmt", ["TIFF", "PNG", "WEBP", "JPEG"])
def test_orientation_is_applied_for_every_format(tmp_path: Path, fmt: str) -> None:
    stored = Image.new("RGB", (60, 40), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 30, 40))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # display turned 90 degrees clockwise: the left half goes on top
    path = saved(stored, tmp_path / f"o.{fmt.lower()}", fmt, exif=exif.tobytes())
    result = make_derivatives(path)
    # Pillow's TIFF plugin rotates while decoding; for the others it is done here.
    assert result.orientation == (1 if fmt == "TIFF" else 6)
    preview = decoded(result.preview_jpeg)
    assert preview.size == (40, 60)
    top, bottom = preview.getpixel((20, 10)), preview.getpixel((20, 50))
    assert top[0] > 200 > 60 > top[2]
    assert bottom[2] > 200 > 60 > bottom[0]


def _rgba_half_transparent() -> Image.Image:
    im = Image.new("RGBA", (40, 20), (0, 0, 0, 0))
    im.paste((0, 0, 0, 255), (20, 0, 40, 20))
    return im


def _palette_with_transparency() -> Image.Image:
    im = Image.new("P", (40, 20), 0)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.paste(1, (20, 0, 40, 20))
    im.info["transparency"] = 0
    return im


def _sixteen_bit_gradient() -> Image.Image:
    ramp = np.tile(np.linspace(0, 65535, 40).astype(np.uint16), (20, 1))
    return Image.fromarray(ramp)  # mode "I;16"


@pytest.mark.parametrize(
    ("make", "fmt", "left", "right"),
    [
        (_rgba_half_transparent, "PNG", (255, 255, 255), (0, 0, 0)),  # transparent -> white
        (lambda: _rgba_half_transparent().convert("LA"), "PNG", (255, 255, 255), (0, 0, 0)),
        (_palette_with_transparency, "PNG", (255, 255, 255), (255, 0, 0)),
        (_sixteen_bit_gradient, "PNG", (0, 0, 0), (255, 255, 255)),  # scaled, not clipped
        (_sixteen_bit_gradient, "TIFF", (0, 0, 0), (255, 255, 255)),
        (lambda: Image.new("1", (40, 20), 1), "PNG", (255, 255, 255), (255, 255, 255)),
        (
            lambda: Image.fromarray(np.tile(np.linspace(255, 0, 40).astype(np.uint8), (20, 1))),
            "WEBP",
            (255, 255, 255),
            (0, 0, 0),
        ),
    ],
    ids=["RGBA", "LA", "P+transparency", "I16-png", "I16-tiff", "1-bit", "L-webp"],
)
def test_modes_are_converted_to_rgb(tmp_path: Path, make: Any, fmt: str, left: tuple, right: tuple) -> None:
    source = make()
    path = saved(source, tmp_path / f"src.{fmt.lower()}", fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    preview = decoded(make_derivatives(path).preview_jpeg)
    assert preview.size == (40, 20)
    for (x, y), expected in (((1, 10), left), ((38, 10), right)):
        assert all(abs(got - want) <= 12 for got, want in zip(preview.getpixel((x, y)), expected, strict=True))


# --- perceptual hashes ------------------------------------------------------------


def test_near_identical_images_hash_close(tmp_path: Path) -> None:
    copy = tmp_path / "copy.jpg"
    Image.open(landscape(1)).resize((900, 600), Image.Resampling.BILINEAR).save(copy, quality=40)
    original, recompressed = derived(landscape(1)), make_derivatives(copy)
    assert hamming_distance(original.phash, recompressed.phash) <= 4
    assert hamming_distance(original.dhash, recompressed.dhash) <= 4
    for n in range(2, 9):  # all eight orientations are the same picture once upright
        assert hamming_distance(original.phash, derived(landscape(n)).phash) <= 4


def test_unrelated_photos_hash_far_apart() -> None:
    names = [
        "Landscape_1.jpg",
        "Apple iPhone 4.jpg",
        "Canon PowerShot A85.jpg",
        "HTC Desire.jpg",
        "Sony DSC-HX5V (2).jpg",
        "Panasonic DMC-LC40.jpg",
        "hopper_bad_exif.jpg",
        "Samsung GT-I9000 (Galaxy S).jpg",
    ]
    results = {name: derived(corpus(name), SMALL) for name in names}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert hamming_distance(results[a].phash, results[b].phash) >= 12, (a, b)
            assert hamming_distance(results[a].dhash, results[b].dhash) >= 12, (a, b)


def test_hamming_distance() -> None:
    assert hamming_distance("0" * 16, "f" * 16) == 64
    assert hamming_distance("8000000000000000", "0000000000000000") == 1
    assert hamming_distance("00ff00ff00ff00ff", "00ff00ff00ff00fe") == 1
    assert hamming_distance("d6cd9bb2383264e4", "d6cd9bb2383264e4") == 0
    for bad in ("abc", "0" * 17, "g" * 16):
        with pytest.raises(ValueError):  # noqa: PT011 - int() and our check word it differently
            hamming_distance(bad, "0" * 16)


# --- orientation geometry ---------------------------------------------------------


def _with_orientation(im: Image.Image, orientation: int) -> Image.Image:
    """A copy of `im` tagged with `orientation`, for ImageOps.exif_transpose."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    tagged = im.copy()
    tagged.info["exif"] = exif.tobytes()
    return tagged


def upright(im: Image.Image, orientation: int) -> Image.Image:
    return ImageOps.exif_transpose(_with_orientation(im, orientation))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_region_mapping_is_exact_against_exif_transpose(orientation: int) -> None:
    rng = random.Random(orientation)
    original = Image.fromarray(np.random.default_rng(orientation).integers(0, 256, (23, 37, 3), dtype=np.uint8))
    shown = upright(original, orientation)
    assert shown.size == display_size(original.size, orientation)
    for _ in range(25):
        w, h = rng.randint(1, 37), rng.randint(1, 23)
        rect = (rng.randint(0, 37 - w), rng.randint(0, 23 - h), w, h)
        mapped = original_to_display(rect, orientation=orientation, original_size=original.size)
        x, y, mw, mh = mapped
        crop = original.crop((rect[0], rect[1], rect[0] + w, rect[1] + h))
        assert upright(crop, orientation).tobytes() == shown.crop((x, y, x + mw, y + mh)).tobytes()
        back = display_to_original(mapped, orientation=orientation, original_size=original.size)
        assert back == rect


@pytest.mark.parametrize("orientation", [None, 0, 9])
def test_invalid_orientation_maps_as_identity(orientation: int | None) -> None:
    rect = (3, 4, 5, 6)
    assert original_to_display(rect, orientation=orientation, original_size=(20, 30)) == rect
    assert display_to_original(rect, orientation=orientation, original_size=(20, 30)) == rect


@pytest.mark.parametrize("rect", [(0, 0, 0, 5), (-1, 0, 5, 5), (16, 0, 5, 5), (0, 26, 5, 5), (0.5, 0, 5, 5)])
def test_rectangles_outside_the_image_are_refused(rect: Any) -> None:
    with pytest.raises(ValueError, match="rectangle"):
        original_to_display(rect, orientation=6, original_size=(20, 30))


# A plausible mistake per orientation: ignoring a mirror, or turning the wrong way.
WRONG_ORIENTATION = {2: 1, 3: 1, 4: 1, 5: 7, 6: 8, 7: 5, 8: 6}


@pytest.mark.parametrize("n", range(2, 9))
def test_region_marked_on_upright_landscape_finds_the_same_pixels_in_each_original(n: int) -> None:
    reference = Image.open(landscape(1)).convert("RGB")  # upright, 1800 x 1200
    original = Image.open(landscape(n)).convert("RGB")  # stored pixels, no rotation applied
    assert display_size(original.size, n) == reference.size

    def found_at(rect: tuple[int, int, int, int], orientation: int) -> Image.Image:
        x, y, w, h = display_to_original(rect, orientation=orientation, original_size=original.size)
        return upright(original.crop((x, y, x + w, y + h)), n)

    # Away from the centre, where each file prints its own number.
    for rect in [(60, 120, 420, 300), (1250, 990, 480, 180), (700, 960, 37, 211), (1500, 40, 250, 400)]:
        x, y, w, h = rect
        expected = reference.crop((x, y, x + w, y + h))
        assert mean_abs_diff(found_at(rect, n), expected) < 12, rect
        assert mean_abs_diff(found_at(rect, WRONG_ORIENTATION[n]), expected) > 25, rect


def test_fit_within() -> None:
    assert fit_within((5760, 3840), 1600) == (1600, 1067)
    assert fit_within((1200, 1800), 1600) == (1067, 1600)
    assert fit_within((300, 200), 1600) == (300, 200)
    assert fit_within((10_000, 1), 400) == (400, 1)


def test_module_registers_heif_with_pillow() -> None:
    assert "HEIF" in Image.OPEN
    assert imaging.PIL_FORMATS["heic"] == ("HEIF",)


def test_pillows_limit_is_the_configured_one_not_its_default() -> None:
    from django.conf import settings

    # Pillow's default (89.5 Mpx) refused a genuine 169 Mpx photo although 250 Mpx is allowed.
    assert settings.ATTEST_MAX_IMAGE_PIXELS == Image.MAX_IMAGE_PIXELS


def test_a_multi_picture_jpeg_is_accepted_and_derived(tmp_path: Path) -> None:
    path = tmp_path / "stereo.jpg"
    Image.new("RGB", (64, 48), "red").save(path, "MPO", save_all=True, append_images=[Image.new("RGB", (64, 48))])
    with Image.open(path) as opened:
        assert (opened.format, opened.n_frames) == ("MPO", 2)
    assert inspect_image(path, max_pixels=MAX_PIXELS).format == "jpeg"
    assert make_derivatives(path).preview_width == 64


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\xff\xd8\xff\xe0" + b"\0" * 200, id="jpeg-magic-then-zeros"),
        pytest.param(b"\xff\xd8\xff\xdb\x00\x43" + b"garbage " * 40, id="jpeg-magic-then-garbage"),
    ],
)
def test_pillows_words_stay_out_of_refusals(tmp_path: Path, data: bytes) -> None:
    # Pillow's messages named the temporary file ("cannot identify image file <_io.BufferedReader
    # name='/…/incoming/tmp….upload'>"), or were a bare KeyError 'MPO'.
    path = saved_bytes(tmp_path / "tmpabc123.upload", data)
    with pytest.raises(PhotoRejected) as caught:
        inspect_image(path, max_pixels=MAX_PIXELS)
    assert caught.value.code == "corrupt"
    message = str(caught.value)
    for leak in ("MPO", "BufferedReader", "tmpabc123", str(tmp_path), "cannot identify"):
        assert leak not in message
    assert caught.value.__cause__ is not None  # the detail is kept for the log
