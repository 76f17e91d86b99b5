"""Decoding, derivatives, perceptual hashes and orientation geometry of evidence photos.

Pure functions: Pillow, pillow-heif and imagehash, no Django. The original file is
evidence and is never modified; everything shown to people is a re-encoded derivative
without metadata, so a preview can never leak the GPS position of a photo.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

import numpy as np
from PIL import Image, ImageFile

from evidence.lib.exif import ORIENTATION_TAG, PhotoMetadata, ensure_heif_opener, metadata_of
from evidence.lib.sniff import (
    PhotoRejected,
    check_not_polyglot,
    container_truncated,
    require_supported_format,
)

# Image.open(formats=...) only consults plugins already loaded, and Pillow loads most
# of them (WebP, TIFF, MPO) lazily; load them all now, then add HEIF.
Image.init()
ensure_heif_opener()

Rect = tuple[int, int, int, int]  # x, y, width, height in pixels

# Pillow plugins allowed to decode each sniffed format. Restricting Image.open to them
# stops Pillow from trying its other ~40 parsers on hostile input. A JPEG carrying a
# multi-picture index (most phone JPEGs) opens through the JPEG plugin, which turns it
# into an MPO image itself; "MPO" has no opener of its own, and naming it here made
# Image.open raise KeyError('MPO') whenever the JPEG plugin refused a file.
PIL_FORMATS: Final[dict[str, tuple[str, ...]]] = {
    "jpeg": ("JPEG",),
    "png": ("PNG",),
    "tiff": ("TIFF",),
    "webp": ("WEBP",),
    "heic": ("HEIF",),
}

# The transposition that makes stored pixels upright, per EXIF orientation; the same
# table as ImageOps.exif_transpose (the tests hold them equal).
_TRANSPOSE: Final[dict[int, Image.Transpose]] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# require_supported_format looks at no more than the first 256 bytes.
_SNIFF_BYTES: Final = 256
_JPEG_QUALITY: Final = 85
_HIGH_BIT_MODES: Final = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
# Messages of refusals caused by Pillow. Pillow's own words name the temporary file's path
# and its internals, so they stay out: the cause is chained (`raise ... from exc`) for the log.
TOO_LARGE: Final = "The image has more pixels than the %d allowed."
UNREADABLE: Final = "The image could not be read: it is damaged or not really the format its header names."
INCOMPLETE: Final = "The image data is incomplete: the file is truncated."
DAMAGED: Final = "The image data is damaged."


@dataclass(frozen=True)
class ImageInfo:
    format: str  # one of sniff.SUPPORTED_FORMATS
    width: int  # as decoded: stored pixels, except that Pillow's TIFF plugin and
    height: int  # pillow-heif apply the orientation themselves (see PhotoMetadata)
    mode: str  # Pillow mode, e.g. "RGB", "L", "CMYK"


@dataclass(frozen=True)
class Derivatives:
    """Upright, metadata-free JPEG renditions of a photo and its perceptual hashes."""

    preview_jpeg: bytes
    preview_width: int
    preview_height: int
    thumb_jpeg: bytes
    thumb_width: int
    thumb_height: int
    phash: str  # 64-bit, 16 hex digits, of the upright thumbnail
    dhash: str
    source_size: tuple[int, int]  # the original as Pillow decodes it (ImageInfo's width, height)
    decoded_size: tuple[int, int]  # what was decoded: smaller when JPEG draft mode applied
    orientation: int  # EXIF orientation applied here (1: none, invalid, or done by the decoder)


def set_pillow_pixel_limit(max_pixels: int) -> None:
    """Make Pillow's process-wide decompression-bomb limit `max_pixels`.

    Pillow refuses images above its own limit (89.5 Mpx by default) before any of our
    checks run, so a lower default would silently override the configured one. Pillow
    warns between the limit and twice it; _opened turns that warning into a refusal.
    """
    if max_pixels < 1:
        raise ValueError("max_pixels must be positive")
    Image.MAX_IMAGE_PIXELS = max_pixels


def inspect_image(path: Path, *, max_pixels: int, full_decode: bool = False) -> ImageInfo:
    """Accept or refuse a file as an evidence photo, decoding all of its image data.

    Raises PhotoRejected with code empty, not_an_image, unsupported_format, polyglot,
    too_many_pixels, truncated or corrupt. Pillow's own Image.MAX_IMAGE_PIXELS limit
    applies as well, so the effective limit is the smaller of the two: the app sets
    Pillow's to its own limit at start (set_pillow_pixel_limit).

    A JPEG is decoded at 1/8 scale: libjpeg still reads and entropy-decodes every segment
    of the scan data (it must, to find where each block ends), so a truncated or damaged
    file is refused as a full decode refuses it, for about a third of the cost.
    `full_decode` decodes every pixel at full size instead (the reference the tests hold
    the reduced decode to). Other formats are always decoded in full.
    """
    with _vetted_open(path, max_pixels) as (fmt, im):
        info = ImageInfo(format=fmt, width=im.width, height=im.height, mode=im.mode)
        if fmt == "jpeg" and not full_decode:
            im.draft(None, (1, 1))  # the smallest scale libjpeg offers, 1/8
        _decode(im)
        return info


def vet_and_derive(
    path: Path, *, max_pixels: int, preview_px: int = 1600, thumb_px: int = 400
) -> tuple[ImageInfo, Derivatives, PhotoMetadata]:
    """inspect_image, make_derivatives and read_metadata from one opening and one decode, for a
    photo processed where it is vetted.

    The JPEG is decoded once, at the reduced scale make_derivatives uses (which reads all of
    its data, as inspect_image's does), and the derivatives are made from those pixels: the
    same refusals as inspect_image, the same derivatives as make_derivatives, the same
    metadata as read_metadata.
    """
    _check_sizes(preview_px, thumb_px)
    with _vetted_open(path, max_pixels) as (fmt, im):
        info = ImageInfo(format=fmt, width=im.width, height=im.height, mode=im.mode)
        derivatives = _derive_opened(im, fmt, preview_px, thumb_px)
        metadata = metadata_of(im)
    return info, derivatives, metadata


def make_derivatives(
    path: Path, *, preview_px: int = 1600, thumb_px: int = 400, max_pixels: int | None = None
) -> Derivatives:
    """Preview (long side <= preview_px) and thumbnail (<= thumb_px) of the photo at `path`.

    Both are upright baseline JPEGs with no EXIF, XMP, comment or GPS. JPEGs are decoded
    at reduced scale (draft mode), orientation is applied to the reduced image, the
    thumbnail is made from the preview and the hashes from the thumbnail, so a 22 MP
    photo costs a fraction of a full decode. `max_pixels` None means Pillow's limit only.
    Vet the file with inspect_image first: this does not repeat the polyglot and
    container checks, only refuses what it cannot decode.
    """
    _check_sizes(preview_px, thumb_px)
    with path.open("rb") as fh:
        fmt = require_supported_format(fh.read(_SNIFF_BYTES))  # refuse GIF & co. by name, not "corrupt"
        fh.seek(0)
        with _opened(fh, PIL_FORMATS[fmt], max_pixels) as im:
            return _derive_opened(im, fmt, preview_px, thumb_px)


def _check_sizes(preview_px: int, thumb_px: int) -> None:
    if preview_px < 1 or thumb_px < 1:
        raise ValueError("preview_px and thumb_px must be positive")


@contextmanager
def _vetted_open(path: Path, max_pixels: int) -> Iterator[tuple[str, ImageFile.ImageFile]]:
    """The file's format and its Pillow image (header read), once the byte-level checks pass."""
    # Uploads may be gigabytes: the checks read the file a piece at a time and Pillow
    # decodes from the file, so memory does not grow with the file's size.
    with path.open("rb") as fh:
        fmt = require_supported_format(fh.read(_SNIFF_BYTES))
        check_not_polyglot(fh, fmt)
        if container_truncated(fh, fmt):
            raise PhotoRejected("truncated", f"The {fmt.upper()} file is shorter than its header declares.")
        fh.seek(0)
        with _opened(fh, PIL_FORMATS[fmt], max_pixels) as im:
            yield fmt, im


def _derive_opened(im: ImageFile.ImageFile, fmt: str, preview_px: int, thumb_px: int) -> Derivatives:
    """Derivatives of an opened, not yet decoded image; the caller closes `im`."""
    source_size = im.size
    target = fit_within(source_size, preview_px)
    if fmt == "jpeg":
        # libjpeg scales by 1/2, 1/4 or 1/8 while decoding, never below `target`.
        im.draft("RGB", target)
    _decode(im)
    decoded_size = im.size
    orientation = _orientation_of(im)
    icc_profile = _rgb_icc_profile(im)
    upright = _to_rgb(im)
    if upright.size != target:
        upright = upright.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if orientation in _TRANSPOSE:
        upright = upright.transpose(_TRANSPOSE[orientation])
    preview = upright if upright is not im else im.copy()  # closing `im` drops its pixels
    preview.info = {}  # Pillow's JPEG writer would copy e.g. the comment from info
    thumb = preview.resize(fit_within(preview.size, thumb_px), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return Derivatives(
        preview_jpeg=_jpeg_bytes(preview, icc_profile),
        preview_width=preview.width,
        preview_height=preview.height,
        thumb_jpeg=_jpeg_bytes(thumb, icc_profile),
        thumb_width=thumb.width,
        thumb_height=thumb.height,
        phash=str(_imagehash().phash(thumb, hash_size=8)),
        dhash=str(_imagehash().dhash(thumb, hash_size=8)),
        source_size=source_size,
        decoded_size=decoded_size,
        orientation=orientation if orientation in _TRANSPOSE else 1,
    )


def _imagehash():
    """imagehash pulls in scipy (~19 MB); only the workers that hash photos need it."""
    import imagehash

    return imagehash


def hamming_distance(a_hex: str, b_hex: str) -> int:
    """Number of differing bits between two 64-bit hashes given as 16 hex digits."""
    values = []
    for value in (a_hex, b_hex):
        if len(value) != 16:
            raise ValueError(f"expected 16 hex digits, got {value!r}")
        values.append(int(value, 16))  # ValueError on non-hex digits
    return (values[0] ^ values[1]).bit_count()


def fit_within(size: tuple[int, int], limit: int) -> tuple[int, int]:
    """`size` scaled down (never up) so its long side is at most `limit`, aspect kept."""
    width, height = size
    if max(width, height) <= limit:
        return width, height
    scale = limit / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def display_size(original_size: tuple[int, int], orientation: int | None) -> tuple[int, int]:
    """Size of the upright image: width and height swap for orientations 5-8."""
    width, height = original_size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def original_to_display(rect: Rect, *, orientation: int | None, original_size: tuple[int, int]) -> Rect:
    """Map a rectangle on the stored pixels to the upright image at the same resolution.

    Orientation values outside 1-8 (0, None) mean no transformation, as in
    ImageOps.exif_transpose. Exact integer arithmetic, so mappings round-trip.
    """
    x, y, w, h = _checked_rect(rect, original_size)
    width, height = original_size
    match orientation:
        case 2:  # mirrored left-right
            return width - x - w, y, w, h
        case 3:  # rotated 180
            return width - x - w, height - y - h, w, h
        case 4:  # mirrored top-bottom
            return x, height - y - h, w, h
        case 5:  # transposed (mirror along the main diagonal)
            return y, x, h, w
        case 6:  # stored rotated 90 counter-clockwise; shown turned 90 clockwise
            return height - y - h, x, h, w
        case 7:  # transversed (mirror along the anti-diagonal)
            return height - y - h, width - x - w, h, w
        case 8:  # stored rotated 90 clockwise; shown turned 90 counter-clockwise
            return y, width - x - w, h, w
        case _:
            return x, y, w, h


def display_to_original(rect: Rect, *, orientation: int | None, original_size: tuple[int, int]) -> Rect:
    """Inverse of original_to_display: a rectangle drawn upright, in stored pixels."""
    # Every transposition is its own inverse except the two quarter turns.
    inverse = {6: 8, 8: 6}.get(orientation or 1, orientation)
    return original_to_display(rect, orientation=inverse, original_size=display_size(original_size, orientation))


def _checked_rect(rect: Rect, size: tuple[int, int]) -> Rect:
    x, y, w, h = rect
    if not all(isinstance(v, int) for v in rect):
        raise ValueError(f"rectangle must be integer pixels, got {rect!r}")
    if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > size[0] or y + h > size[1]:
        raise ValueError(f"rectangle {rect!r} does not lie within an image of {size[0]}x{size[1]}")
    return x, y, w, h


@contextmanager
def _opened(
    source: Path | IO[bytes], formats: tuple[str, ...], max_pixels: int | None
) -> Iterator[ImageFile.ImageFile]:
    """Open with Pillow (header only), refusing oversized images before any decoding."""
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; make it a refusal.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        # Damaged metadata is read_metadata's concern, not a reason to refuse pixels.
        warnings.filterwarnings("ignore", message="Corrupt EXIF data", category=UserWarning)
        try:
            im = Image.open(source, formats=formats)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PhotoRejected("too_many_pixels", TOO_LARGE % Image.MAX_IMAGE_PIXELS) from exc
        except MemoryError:
            raise
        except Exception as exc:  # any parser failure on the header means a damaged file
            raise PhotoRejected("corrupt", UNREADABLE) from exc
        with im:
            width, height = im.size
            if width < 1 or height < 1:
                raise PhotoRejected("corrupt", f"The image declares an empty size ({width}x{height}).")
            if max_pixels is not None and width * height > max_pixels:
                raise PhotoRejected(
                    "too_many_pixels",
                    f"The image has {width}x{height} = {width * height} pixels, more than the {max_pixels} allowed.",
                )
            yield im


def _decode(im: ImageFile.ImageFile) -> None:
    """Decode every pixel, so truncated or damaged data is found now, not when shown."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Set globally by someone else, it would silently grey-fill damaged photos.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must be False to vet evidence photos")
    try:
        im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected("too_many_pixels", TOO_LARGE % Image.MAX_IMAGE_PIXELS) from exc
    except MemoryError:
        raise
    except Exception as exc:  # decoders raise OSError, SyntaxError, ValueError, ... on bad data
        if "truncated" in str(exc).lower():
            raise PhotoRejected("truncated", INCOMPLETE) from exc
        raise PhotoRejected("corrupt", DAMAGED) from exc


def _orientation_of(im: Image.Image) -> int:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Corrupt EXIF data" is common and harmless here
            value = im.getexif().get(ORIENTATION_TAG)
    except Exception:  # unreadable EXIF: show the pixels as stored
        return 1
    return value if isinstance(value, int) and value in _TRANSPOSE else 1


def _rgb_icc_profile(im: Image.Image) -> bytes | None:
    # Keep an RGB colour profile (e.g. Display P3) so colours stay right; a CMYK or
    # grey profile would not describe the RGB output.
    profile = im.info.get("icc_profile")
    return profile if isinstance(profile, bytes) and profile[16:20] == b"RGB " else None


def _to_rgb(im: Image.Image) -> Image.Image:
    """8-bit RGB, with transparency flattened onto white."""
    if im.mode == "RGB":
        return im
    if im.mode in _HIGH_BIT_MODES:
        pixels = np.asarray(im, dtype=np.float64)
        if im.mode != "F":
            pixels = pixels / 257.0  # 16-bit range onto 0-255
        im = Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8))  # 2-D uint8: "L"
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return im.convert("RGB")


def _jpeg_bytes(im: Image.Image, icc_profile: bytes | None) -> bytes:
    out = io.BytesIO()
    # No optimize=True: it costs ~7 ms a photo for a 3 % smaller preview (bench/bench_photos.py).
    options: dict[str, object] = {"quality": _JPEG_QUALITY}
    if icc_profile:
        options["icc_profile"] = icc_profile
    im.save(out, format="JPEG", **options)
    return out.getvalue()
