"""EXIF extraction (evidence.lib.exif) against the real camera files and generated ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

from evidence.lib.exif import PhotoMetadata, json_safe, read_metadata
from tests import corpus as photos

PHOTOS = photos.PHOTOS


def _entries() -> list[Any]:
    return photos.params(photos.manifest())


corpus = photos.photo


def write_jpeg(
    path: Path,
    ifd0: dict[int, Any],
    exif_ifd: dict[int, Any] | None = None,
    gps: dict[int, Any] | None = None,
) -> Path:
    exif = Image.Exif()
    exif.update(ifd0)
    if exif_ifd:
        exif[ExifTags.IFD.Exif] = exif_ifd
    if gps:
        exif[ExifTags.IFD.GPSInfo] = gps
    Image.new("RGB", (8, 8), "gray").save(path, exif=exif.tobytes())
    return path


def dms(degrees: int, minutes: int, seconds_x100: int) -> tuple[IFDRational, ...]:
    return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(seconds_x100, 100)


@pytest.mark.parametrize("entry", _entries())
def test_metadata_matches_manifest(entry: dict[str, Any]) -> None:
    meta = read_metadata(PHOTOS / entry["source_dir"] / entry["file"])

    assert meta.make == ((entry.get("make") or "").strip() or None)
    assert meta.model == ((entry.get("model") or "").strip() or None)

    # Null Island (0,0) and 0/0 rationals with empty refs mean "no location".
    latlon = entry.get("gps_latlon")
    if latlon and latlon != [0.0, 0.0]:
        assert meta.latitude == pytest.approx(latlon[0], abs=1e-3)
        assert meta.longitude == pytest.approx(latlon[1], abs=1e-3)
        assert meta.has_location
    else:
        assert (meta.latitude, meta.longitude, meta.altitude_m) == (None, None, None)

    if "pil_orientation" in entry:
        expected = entry["pil_orientation"]
        assert meta.orientation == (expected if expected in range(1, 9) else None)

    # Whatever the camera wrote, the tags survive strict JSON and Postgres jsonb (no NUL).
    dumped = json.dumps(meta.tags, allow_nan=False)
    assert "\\u0000" not in dumped


@pytest.mark.parametrize(("name", "stored_orientation"), [("Issue 487.heic", 6), ("IMG_1034.heic", 1)])
def test_heic_orientation_is_applied_by_the_decoder(name: str, stored_orientation: int) -> None:
    meta = read_metadata(corpus(name))
    # pillow-heif rotates while decoding, so nothing is left to apply to its pixels ...
    assert meta.orientation == 1
    # ... but the tags still say what the file stores (the manifest's exifread value).
    assert meta.tags["IFD0"]["Orientation"] == stored_orientation


def test_tiff_orientation_is_applied_by_the_decoder(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "o.tif"
    Image.new("RGB", (60, 40)).save(path, exif=exif.tobytes())
    meta = read_metadata(path)
    assert meta.orientation == 1
    assert meta.tags["IFD0"]["Orientation"] == 6
    jpeg = tmp_path / "o.jpg"
    Image.new("RGB", (60, 40)).save(jpeg, exif=exif.tobytes())
    assert read_metadata(jpeg).orientation == 6  # JPEG pixels are stored unrotated


def test_heic_metadata() -> None:
    meta = read_metadata(corpus("IMG_1034.heic"))
    assert meta.taken_at == "2018-02-05T15:11:44"
    assert meta.altitude_m == pytest.approx(42.81, abs=0.01)
    assert meta.lens is not None
    assert meta.lens.startswith("Apple iPhone 8 back camera")


def test_zero_denominator_seconds_count_as_zero() -> None:
    # Nikon D5000 stores degrees + decimal minutes and seconds as 0/0.
    meta = read_metadata(corpus("Nikon D5000.jpg"))
    assert meta.latitude == pytest.approx(48 + 53.32358 / 60, abs=1e-6)
    assert meta.longitude == pytest.approx(21 + 2.59507 / 60, abs=1e-6)
    assert meta.tags["GPS"]["GPSLatitude"][2] == [0, 0]  # kept visible, JSON-safe


def test_user_comment_and_maker_note() -> None:
    meta = read_metadata(corpus("User Comment Encoding.jpg"))
    assert meta.tags["Exif"]["UserComment"] == "æøå"
    assert meta.tags["Exif"]["MakerNote"] == "<MakerNote: 20292 bytes omitted>"
    small = read_metadata(corpus("Canon PowerShot A85.jpg")).tags["Exif"]["MakerNote"]
    assert isinstance(small, str)
    assert all(c in "0123456789abcdef" for c in small)  # under 1 KB: kept, as hex


def test_corrupt_exif_yields_what_can_be_read() -> None:
    meta = read_metadata(corpus("hopper_bad_exif.jpg"))  # Pillow warns "Corrupt EXIF data"
    assert meta.orientation == 1
    assert meta.tags["Exif"]["ExifImageWidth"] == 500


def test_exif_from_imagemagick_png_text_chunk() -> None:
    assert read_metadata(corpus("exif_imagemagick_orientation.png")).orientation == 3


def test_altitude_and_offsets(tmp_path: Path) -> None:
    path = write_jpeg(
        tmp_path / "a.jpg",
        {0x010F: "Acme\x00", 0x0110: " Cam 1 ", 0x0112: 6, 0x0132: "2024:03:06 00:00:00"},
        {0x9003: "2024:03:05 10:11:12", 0x9011: "+02:00", 0xA433: "Zeiss", 0xA434: "Sonnar 50mm"},
        {1: "S", 2: dms(33, 51, 3540), 3: "W", 4: dms(70, 0, 0), 5: b"\x01", 6: IFDRational(4250, 10)},
    )
    meta = read_metadata(path)
    assert (meta.make, meta.model, meta.lens) == ("Acme", "Cam 1", "Zeiss Sonnar 50mm")
    assert meta.taken_at == "2024-03-05T10:11:12+02:00"
    assert meta.taken_at_offset == "+02:00"
    assert meta.latitude == pytest.approx(-(33 + 51 / 60 + 35.4 / 3600), abs=1e-6)
    assert meta.longitude == -70.0
    assert meta.altitude_m == -425.0  # GPSAltitudeRef 1: below sea level
    assert meta.orientation == 6


def test_offset_time_fallback_and_naive_times(tmp_path: Path) -> None:
    with_fallback = write_jpeg(tmp_path / "b.jpg", {}, {0x9003: "2020:01:02 03:04:05", 0x9010: "-05:30"})
    assert read_metadata(with_fallback).taken_at == "2020-01-02T03:04:05-05:30"
    naive = write_jpeg(tmp_path / "c.jpg", {0x0132: "2019:12:31 23:59:59"}, {0x9003: "0000:00:00 00:00:00"})
    meta = read_metadata(naive)
    assert (meta.taken_at, meta.taken_at_offset) == ("2019-12-31T23:59:59", None)
    junk = write_jpeg(tmp_path / "d.jpg", {}, {0x9003: "yesterday", 0x9011: "+99:00"})
    assert (read_metadata(junk).taken_at, read_metadata(junk).taken_at_offset) == (None, None)


@pytest.mark.parametrize(
    "gps",
    [
        {2: dms(10, 0, 0), 4: dms(20, 0, 0)},  # no refs
        {1: "\x00", 2: dms(10, 0, 0), 3: "\x00", 4: dms(20, 0, 0)},  # empty refs
        {1: "N", 2: (IFDRational(0, 0),) * 3, 3: "E", 4: (IFDRational(0, 0),) * 3},  # all 0/0
        {1: "N", 2: dms(0, 0, 0), 3: "E", 4: dms(0, 0, 0)},  # Null Island
        {1: "N", 2: dms(95, 0, 0), 3: "E", 4: dms(20, 0, 0)},  # latitude beyond 90
        {1: "N", 2: dms(10, 0, 0), 3: "E"},  # no longitude
    ],
)
def test_unusable_gps_means_no_location(tmp_path: Path, gps: dict[int, Any]) -> None:
    meta = read_metadata(write_jpeg(tmp_path / "g.jpg", {0x010F: "Acme"}, None, {0: b"\x02\x02\x00\x00", **gps}))
    assert not meta.has_location
    assert meta.altitude_m is None
    assert meta.make == "Acme"


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_exif_in_png_and_webp(tmp_path: Path, fmt: str) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Acme"
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: dms(52, 30, 0), 3: "E", 4: dms(13, 24, 0)}
    path = tmp_path / f"x.{fmt.lower()}"
    Image.new("RGB", (8, 8)).save(path, fmt, exif=exif.tobytes())
    meta = read_metadata(path)
    assert (meta.make, meta.latitude, meta.longitude) == ("Acme", 52.5, 13.4)


def test_garbage_exif_never_raises(tmp_path: Path) -> None:
    path = tmp_path / "bad.jpg"
    Image.new("RGB", (8, 8)).save(path, exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff" + b"\xa5" * 64)
    meta = read_metadata(path)
    assert meta.make is None
    assert not meta.has_location


def test_non_images_give_empty_metadata_and_missing_files_raise(tmp_path: Path) -> None:
    html = tmp_path / "page.jpg"
    html.write_bytes(b"<html><body>not a photo</body></html>")
    assert read_metadata(html) == PhotoMetadata()
    with pytest.raises(FileNotFoundError):
        read_metadata(tmp_path / "nowhere.jpg")


def test_json_safe_conversions() -> None:
    assert json_safe(IFDRational(1, 3)) == pytest.approx(1 / 3)
    assert json_safe(IFDRational(5, 0)) == [5, 0]
    assert json_safe((IFDRational(1, 2), 3, b"0230")) == [0.5, 3, "0230"]
    assert json_safe(b"\x01\x02\xff") == "0102ff"
    assert json_safe(b"\x00") == "00"
    assert json_safe(b"Canon\x00\x00") == "Canon"
    assert json_safe("A\x00B\x00 ") == "AB"
    assert json_safe(float("nan")) is None
    assert json_safe(tuple(range(5000))) == "<5000 values omitted>"
