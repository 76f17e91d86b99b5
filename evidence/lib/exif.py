"""EXIF metadata of evidence photos, read defensively.

Pure functions: Pillow (plus pillow-heif for HEIC), no Django. Camera EXIF is written
by thousands of firmwares and is often wrong or damaged, so nothing here raises on
bad metadata: whatever can be read is returned, and unreadable parts are left out.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import pillow_heif
from PIL import ExifTags, Image, TiffImagePlugin

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]

_HEIF_FORMAT: Final = "HEIF"
# Pillow formats whose decoder already applies the EXIF orientation to the pixels.
_DECODER_ROTATES: Final = frozenset({_HEIF_FORMAT, "TIFF"})

ORIENTATION_TAG: Final = 0x0112
_IFD_POINTERS: Final = frozenset({ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo, ExifTags.IFD.Interop})
_MAKER_NOTE: Final = 0x927C
_USER_COMMENT: Final = 0x9286
_XP_TAGS: Final = frozenset({0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F})  # Windows UTF-16LE strings
_MAKER_NOTE_MAX: Final = 1024
_BLOB_MAX: Final = 4096  # other binary tags larger than this are summarised too
_SEQUENCE_MAX: Final = 1024  # e.g. StripOffsets of a big TIFF

_EXIF_DATETIME: Final = re.compile(r"(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_UTC_OFFSET: Final = re.compile(r"[+-](\d{2}):(\d{2})")


def ensure_heif_opener() -> None:
    """Teach Pillow to open HEIC/HEIF (idempotent; done at import of this module)."""
    if _HEIF_FORMAT not in Image.OPEN:
        pillow_heif.register_heif_opener()


ensure_heif_opener()


@dataclass(frozen=True)
class PhotoMetadata:
    """What the camera recorded. Every field is None when absent or unusable.

    `orientation` is the EXIF orientation still to apply to the pixels Pillow decodes.
    Pillow's TIFF plugin and pillow-heif rotate while decoding, so for TIFF and HEIC it
    is 1 while `tags["IFD0"]["Orientation"]` keeps the value stored in the file.
    """

    make: str | None = None
    model: str | None = None
    lens: str | None = None
    taken_at: str | None = None  # ISO 8601, with offset when the camera recorded one
    taken_at_offset: str | None = None  # "+02:00"
    latitude: float | None = None
    longitude: float | None = None
    altitude_m: float | None = None
    orientation: int | None = None
    tags: dict[str, dict[str, JsonValue]] = field(default_factory=dict)

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


def read_metadata(path: Path) -> PhotoMetadata:
    """Metadata of the photo at `path`; never raises on bad or missing EXIF.

    File-system errors (missing file, permissions) do propagate: they are not a
    property of the photo. A file Pillow cannot open yields an empty PhotoMetadata.
    """
    with path.open("rb") as fh:
        try:
            with warnings.catch_warnings():
                # "Corrupt EXIF data" and decompression-bomb warnings are expected here.
                warnings.simplefilter("ignore")
                with Image.open(fh) as im:
                    return metadata_of(im)
        except Exception:  # metadata must never block an upload: unreadable means empty
            return PhotoMetadata()


def metadata_of(im: Image.Image) -> PhotoMetadata:
    """read_metadata of an image already open (and decoded, as read_metadata's would be where the
    format keeps EXIF after the pixels); never raises on bad or missing EXIF."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exif = im.getexif()
            fmt = im.format
            # pillow-heif rewrites the tag to 1 and keeps the stored value here.
            heif_orientation = im.info.get("original_orientation") if fmt == _HEIF_FORMAT else None
    except Exception:
        return PhotoMetadata()
    return _metadata_from_exif(exif, fmt, heif_orientation)


def _metadata_from_exif(exif: Image.Exif, fmt: str | None, heif_orientation: Any) -> PhotoMetadata:
    ifd0 = _safe_dict(exif)
    exif_ifd = _safe_ifd(exif, ExifTags.IFD.Exif)
    gps = _safe_ifd(exif, ExifTags.IFD.GPSInfo)
    interop = _safe_ifd(exif, ExifTags.IFD.Interop)

    # TIFF files can carry EXIF tags in IFD0 itself, so look there second.
    def pick(tag: int) -> Any:
        return exif_ifd.get(tag, ifd0.get(tag))

    taken_at, offset = _taken_at(pick)
    latitude, longitude, altitude = _gps_position(gps)

    tags = {
        "IFD0": _named(ifd0, ExifTags.TAGS, exif, skip=_IFD_POINTERS),
        "Exif": _named(exif_ifd, ExifTags.TAGS, exif, skip=_IFD_POINTERS),
        "GPS": _named(gps, ExifTags.GPSTAGS, exif),
        "Interop": _named(interop, ExifTags.TAGS, exif),
    }
    if _orientation(heif_orientation) is not None:
        tags["IFD0"]["Orientation"] = int(heif_orientation)  # what the file says
    orientation = _orientation(ifd0.get(ORIENTATION_TAG))
    if fmt in _DECODER_ROTATES and orientation is not None:
        orientation = 1
    return PhotoMetadata(
        make=_text(ifd0.get(0x010F)),
        model=_text(ifd0.get(0x0110)),
        lens=_lens(_text(pick(0xA433)), _text(pick(0xA434))),
        taken_at=taken_at,
        taken_at_offset=offset,
        latitude=latitude,
        longitude=longitude,
        altitude_m=altitude,
        orientation=orientation,
        tags={name: values for name, values in tags.items() if values},
    )


def _safe_dict(mapping: Mapping[int, Any]) -> dict[int, Any]:
    try:
        return dict(mapping.items())
    except Exception:  # a broken IFD reads as empty
        return {}


def _safe_ifd(exif: Image.Exif, ifd: int) -> dict[int, Any]:
    try:
        return _safe_dict(exif.get_ifd(ifd))
    except Exception:  # a broken sub-IFD must not hide the others
        return {}


def _orientation(value: Any) -> int | None:
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = value.replace("\x00", " ").strip()
    return cleaned or None


def _lens(make: str | None, model: str | None) -> str | None:
    if model is None:
        return None
    if make is None or model.lower().startswith(make.lower()):
        return model
    return f"{make} {model}"


def _taken_at(pick: Any) -> tuple[str | None, str | None]:
    # Original, then digitised, then file-modified time; each with its own offset tag,
    # falling back to OffsetTime as many phones only write that one.
    for stamp_tag, offset_tag in ((0x9003, 0x9011), (0x9004, 0x9012), (0x0132, 0x9010)):
        naive = _parse_exif_datetime(_text(pick(stamp_tag)))
        if naive is None:
            continue
        offset = _parse_offset(_text(pick(offset_tag))) or _parse_offset(_text(pick(0x9010)))
        return (f"{naive}{offset}" if offset else naive), offset
    return None, None


def _parse_exif_datetime(value: str | None) -> str | None:
    """'2011:01:13 14:33:39' -> '2011-01-13T14:33:39'; placeholders and junk -> None."""
    match = _EXIF_DATETIME.match(value or "")
    if match is None:
        return None
    try:
        parsed = datetime(*(int(part) for part in match.groups()))  # EXIF time is local, naive
    except ValueError:  # 0000:00:00 00:00:00 and other impossible dates
        return None
    return parsed.isoformat()


def _parse_offset(value: str | None) -> str | None:
    match = _UTC_OFFSET.fullmatch(value or "")
    if match is None or int(match[1]) > 14 or int(match[2]) >= 60:
        return None
    return match[0]


def _number(value: Any) -> float | None:
    """A finite float from an EXIF number, None for 0/0 rationals, NaN or junk."""
    if isinstance(value, TiffImagePlugin.IFDRational):
        if value.denominator == 0:
            return None
        value = float(value)
    elif isinstance(value, tuple) and len(value) == 2:  # raw (numerator, denominator)
        num, den = value
        if not den:
            return None
        value = num / den
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _coordinate(dms: Any, ref: Any, positive: str, negative: str, limit: float) -> float | None:
    hemisphere = (_text(ref) or "").upper()
    if hemisphere not in (positive, negative):
        return None
    if not isinstance(dms, tuple | list) or not 1 <= len(dms) <= 3:
        return None
    parts = [_number(part) for part in dms]
    if all(part is None for part in parts):
        return None
    # A 0/0 component counts as 0: "Nikon D5000.jpg" stores degrees and decimal
    # minutes with seconds = 0/0.
    degrees, minutes, seconds = ([part or 0.0 for part in parts] + [0.0, 0.0])[:3]
    if degrees < 0 or minutes < 0 or seconds < 0:
        return None
    value = degrees + minutes / 60 + seconds / 3600
    if value > limit:
        return None
    return round(-value if hemisphere == negative else value, 6)


def _gps_position(gps: Mapping[int, Any]) -> tuple[float | None, float | None, float | None]:
    latitude = _coordinate(gps.get(2), gps.get(1), "N", "S", 90.0)
    longitude = _coordinate(gps.get(4), gps.get(3), "E", "W", 180.0)
    if latitude is None or longitude is None or (latitude == 0 and longitude == 0):
        return None, None, None  # no fix, or the 0,0 ("Null Island") placeholder
    altitude = _number(gps.get(6))
    if altitude is not None:
        ref = gps.get(5)
        below_sea_level = ref in (1, b"\x01") or (isinstance(ref, bytes) and ref[:1] == b"\x01")
        altitude = round(-altitude if below_sea_level else altitude, 2)
    return latitude, longitude, altitude


def _named(
    values: Mapping[int, Any], names: Mapping[int, str], exif: Image.Exif, skip: frozenset[int] = frozenset()
) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {}
    for tag, value in values.items():
        if tag in skip:
            continue
        name = names.get(tag) or f"Tag0x{tag:04X}"
        try:
            out[name] = _tag_value(tag, value, exif)
        except Exception:  # one odd value must not lose the rest
            out[name] = None
    return out


def _tag_value(tag: int, value: Any, exif: Image.Exif) -> JsonValue:
    if isinstance(value, bytes):
        if tag == _MAKER_NOTE and len(value) > _MAKER_NOTE_MAX:
            return f"<MakerNote: {len(value)} bytes omitted>"
        if tag == _USER_COMMENT:
            return _user_comment(value, getattr(exif, "endian", None))
        if tag in _XP_TAGS:
            return _text(value.decode("utf-16-le", "replace"))
        if len(value) > _BLOB_MAX:
            return f"<{len(value)} bytes omitted>"
    if tag in _XP_TAGS and isinstance(value, tuple):  # some writers store BYTE arrays
        return _tag_value(tag, bytes(v & 0xFF for v in value if isinstance(v, int)), exif)
    return json_safe(value)


def _user_comment(value: bytes, endian: str | None) -> JsonValue:
    """Decode UserComment: an 8-byte character-code prefix, then the text."""
    prefix, body = value[:8], value[8:]
    if prefix == b"UNICODE\x00":
        # UCS-2 in the EXIF byte order; guess from the zero bytes when unknown.
        big = endian == ">" if endian in ("<", ">") else body[0:1] == b"\x00"
        return _text(body.decode("utf-16-be" if big else "utf-16-le", "replace")) or ""
    if prefix in (b"ASCII\x00\x00\x00", b"\x00" * 8):
        return _text(body.decode("latin-1")) or ""
    return json_safe(value)


def json_safe(value: Any) -> JsonValue:
    """Convert an EXIF value to something json.dumps and Postgres jsonb accept.

    bytes become text when printable, else hex; rationals become floats (or
    [numerator, denominator] when the denominator is 0); tuples become lists; NUL
    characters (which jsonb refuses) and non-finite floats are removed.
    """
    if isinstance(value, TiffImagePlugin.IFDRational):
        if value.denominator == 0:
            return [int(value.numerator), 0]
        return json_safe(float(value))
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value.replace("\x00", "").rstrip()
    if isinstance(value, bytes):
        try:
            text = value.rstrip(b"\x00").decode("utf-8")
        except UnicodeDecodeError:
            return value.hex()
        # b"0230" (ExifVersion) reads as text; b"\x00" (GPSAltitudeRef) stays "00".
        return text if text and text.isprintable() else value.hex()
    if isinstance(value, tuple | list):
        if len(value) > _SEQUENCE_MAX:
            return f"<{len(value)} values omitted>"
        return [json_safe(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    return str(value).replace("\x00", "")
