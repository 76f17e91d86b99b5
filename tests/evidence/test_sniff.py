"""Format sniffing and polyglot detection (evidence.lib.sniff): bytes and files, no database.

Every test runs twice: with the real piece sizes, and with pieces of a few bytes, so
that each marker, segment and box straddles the boundaries between pieces somewhere.
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from evidence.lib import sniff
from evidence.lib.sniff import (
    PhotoRejected,
    check_not_polyglot,
    container_truncated,
    find_active_content,
    image_end,
    polyglot_reason,
    require_supported_format,
    sniff_format,
)

PHOTOS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "photos"
MISSING = f"photo corpus not found at {PHOTOS} (the shared/ folder beside the repo root)"


@pytest.fixture(autouse=True, params=["1MiB", "7B"], ids=lambda p: f"pieces={p}")
def piece_size(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.param == "7B":
        monkeypatch.setattr(sniff, "_CHUNK", 7)
        monkeypatch.setattr(sniff, "_WINDOW", 5)


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body


def encoded(fmt: str, size: tuple[int, int] = (64, 48), **options: object) -> bytes:
    im = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"\xff\xd8\xff\xe1\x3f\xfeExif", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"II*\x00\x08\x00\x00\x00", "tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "tiff"),
        (b"II+\x00\x08\x00\x00\x00", "tiff"),
        (b"RIFF\x00\x10\x00\x00WEBPVP8 ", "webp"),
        (ftyp(b"heic", b"mif1", b"heic"), "heic"),
        (ftyp(b"heix", b"mif1"), "heic"),
        (ftyp(b"hevc", b"msf1"), "heic"),
        (ftyp(b"mif1", b"heic"), "heic"),
        (ftyp(b"mif1"), "heic"),
        (ftyp(b"msf1", b"hevc"), "heic"),
        (ftyp(b"avif", b"mif1", b"miaf"), None),
        (ftyp(b"mif1", b"avif", b"miaf"), None),  # AVIF under a generic major brand
        (ftyp(b"isom", b"mp41"), None),  # an MP4 video
        (b"RIFF\x00\x10\x00\x00WAVEfmt ", None),
        (b"GIF89a\x01\x00\x01\x00", None),
        (b"<!DOCTYPE html><html>", None),
        (b"\xff\xd8", None),  # too short to be a JPEG
        (b"", None),
    ],
)
def test_sniff_format(head: bytes, expected: str | None) -> None:
    assert sniff_format(head) == expected


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"", "empty", "empty"),
        (b"<!DOCTYPE html>\n<html><body>hi</body></html>", "not_an_image", "not a photo"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "not_an_image", "not a photo"),
        (b"just some text\n", "not_an_image", "not a photo"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "unsupported_format",
            "SVG",
        ),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "unsupported_format", "SVG"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "unsupported_format", "GIF"),
        (b"BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00", "unsupported_format", "BMP"),
        (b"BMW service report", "not_an_image", "not a photo"),
        (ftyp(b"avif", b"mif1", b"miaf") + b"\x00" * 32, "unsupported_format", "AVIF"),
    ],
)
def test_require_supported_format_refuses(data: bytes, code: str, words: str) -> None:
    with pytest.raises(PhotoRejected) as caught:
        require_supported_format(data)
    assert caught.value.code == code
    assert words in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_photo_rejected_refuses_unknown_codes() -> None:
    with pytest.raises(ValueError, match="unknown rejection code"):
        PhotoRejected("bad_vibes", "nope")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_clean_images_end_where_the_file_ends(fmt: str) -> None:
    data = encoded(fmt)
    assert image_end(data, fmt.lower()) == len(data)
    assert polyglot_reason(data, fmt.lower()) is None


def test_jpeg_end_is_found_by_structure_not_by_searching_for_eoi() -> None:
    # The EXIF thumbnail inside APP1 ends with its own FFD9; the walk must skip it.
    thumb = encoded("JPEG", (16, 16))
    exif = Image.Exif()
    exif[0x010F] = "Test"
    app1_payload = exif.tobytes() + thumb
    main = encoded("JPEG", (64, 48))
    data = main[:2] + b"\xff\xe1" + (len(app1_payload) + 2).to_bytes(2, "big") + app1_payload + main[2:]
    assert data.find(b"\xff\xd9") < len(data) - 2  # a naive search would stop inside APP1
    assert image_end(data, "jpeg") == len(data)


@pytest.mark.parametrize(
    ("fmt", "payload", "why"),
    [
        ("PNG", b"<html><script>alert(document.cookie)</script></html>", "markup"),
        ("JPEG", b"<!DOCTYPE html><p>hello</p>", "markup"),
        ("WEBP", b'<svg onload="alert(1)"/>', "markup"),
        ("JPEG", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "markup"),
        ("JPEG", random.Random(7).randbytes(10_000), "unknown data"),
        ("PNG", b"Rar!\x1a\x07\x00" + b"\x00" * 64, "unknown data"),
    ],
)
def test_appended_payloads_are_polyglots(fmt: str, payload: bytes, why: str) -> None:
    data = encoded(fmt) + payload
    with pytest.raises(PhotoRejected) as caught:
        check_not_polyglot(data, fmt.lower())
    assert caught.value.code == "polyglot"
    assert why in str(caught.value)


def test_markup_inside_a_jpeg_comment_is_a_polyglot() -> None:
    data = encoded("JPEG", comment=b"<script src=//evil.example/x.js></script>")
    assert "markup" in (polyglot_reason(data, "jpeg") or "")


def test_appended_zip_is_a_polyglot() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.txt", "x" * 100)
    data = encoded("JPEG") + b"\xff\xd8\xff" + archive.getvalue()  # even disguised as a JPEG
    assert "ZIP" in (polyglot_reason(data, "jpeg") or "")


@pytest.mark.parametrize(
    "trailer",
    [
        b"\x00" * 3000,  # block padding
        b"\x00" * 500 + random.Random(3).randbytes(1000) + b"\x00" * 500,  # slack, like Olympus C2040Z
        b"\r\n",
        b"",
    ],
)
def test_padding_and_slack_after_the_image_are_tolerated(trailer: bytes) -> None:
    assert polyglot_reason(encoded("JPEG") + trailer, "jpeg") is None


def test_phone_trailers_are_tolerated() -> None:
    jpeg = encoded("JPEG")
    assert polyglot_reason(jpeg + encoded("JPEG", (320, 240)), "jpeg") is None  # MPF second image
    mp4 = ftyp(b"isom", b"mp41") + random.Random(5).randbytes(20_000)
    assert polyglot_reason(jpeg + mp4, "jpeg") is None  # motion photo
    seft = random.Random(6).randbytes(8_000) + b"SEFT"
    assert polyglot_reason(jpeg + seft, "jpeg") is None  # Samsung trailer


def test_short_svg_tag_in_binary_data_is_not_markup() -> None:
    # "<svg " turns up by chance in big photos; only active SVG counts.
    data = encoded("JPEG", comment=b"\x01<svg \x02\x03 random binary bytes \x04")
    assert polyglot_reason(data, "jpeg") is None


def test_container_truncated() -> None:
    webp = encoded("WEBP")
    assert not container_truncated(webp, "webp")
    assert container_truncated(webp[:-10], "webp")
    heif = ftyp(b"heic", b"mif1") + (1000).to_bytes(4, "big") + b"mdat" + b"\x00" * 992
    assert not container_truncated(heif, "heic")
    assert container_truncated(heif[:-1], "heic")
    assert not container_truncated(encoded("JPEG")[:-100], "jpeg")  # left to the decoder


def test_corpus_files_are_sniffed_by_content() -> None:
    if not PHOTOS.is_dir():
        pytest.skip(MISSING)
    drew = PHOTOS / "drewnoakes-metadata-extractor-images"
    expected = {
        drew / "IMG_1034.heic": "heic",
        drew / "NegativeArraySizeException.HeifReader.processBoxes.heif": "heic",  # mif1; corrupt inside
        drew / "Issue 473 (Java).webp": "webp",
        drew / "ce50e53224a3b62bb821bc294bf6a588.tif": "tiff",
        drew / "Olympus μ Digital 800.JPG": "jpeg",
        PHOTOS / "python-pillow-Pillow" / "exif_imagemagick_orientation.png": "png",
        PHOTOS / "python-pillow-Pillow" / "decompression_bomb.gif": None,
    }
    for path, fmt in expected.items():
        assert sniff_format(path.read_bytes()[:256]) == fmt, path.name


def test_olympus_c2040z_block_padding_is_not_a_polyglot() -> None:
    # 3 KB of zeros and leftover bytes follow the EOI; the manifest says Pillow reads it.
    path = PHOTOS / "drewnoakes-metadata-extractor-images" / "Olympus C2040Z.jpg"
    if not path.is_file():
        pytest.skip(MISSING)
    data = path.read_bytes()
    end = image_end(data, "jpeg")
    assert end is not None
    assert len(data) - end > 3000
    assert polyglot_reason(data, "jpeg") is None


# --- reading in pieces ------------------------------------------------------------


def whole_search(data: bytes) -> tuple[int, bytes] | None:
    found = sniff._ACTIVE_CONTENT.search(data)
    return None if found is None else (found.start(), found.group()[:16])


@pytest.mark.parametrize(
    "marker", [b"<script", b"%PDF-", b"<!doctype html", b'<svg width="1" xmlns="http://www.w3.org/2000/svg"']
)
def test_markers_straddling_pieces_are_found_at_their_file_offset(marker: bytes) -> None:
    filler = bytes(range(256)).replace(b"<", b"").replace(b"%", b"") * 4  # no markup of its own
    for offset in range(60, 66 + len(marker)):  # across the first boundary of 64-byte pieces
        data = filler[:offset] + marker + filler
        assert find_active_content(data, chunk_size=64) == (offset, marker[:16])
        assert find_active_content(data) == (offset, marker[:16])
    assert find_active_content(filler * 10, chunk_size=64) is None


@pytest.mark.parametrize(
    "markup",
    [
        b"<!DOCTYPE" + b" " * 5000 + b"html>",
        b"<svg onload" + b"\t" * 3000 + b"=alert(1)>",
        b"<svg on" + b"x" * 4000 + b" =alert(1)>",
        b"<svg " + b"a" * 250 + b"xmlns" + b"b" * 4000,  # SVG reaches 256 bytes into a long run
    ],
    ids=["doctype", "svg-spaces", "svg-letters", "svg-reach"],
)
def test_markup_padded_past_the_overlap_is_still_found(markup: bytes) -> None:
    # Whitespace or letters longer than the overlap between pieces must not hide markup.
    for offset in (0, 1000, 4095, 70_000):
        data = b"\x01" * offset + markup + b"\x02" * 100
        assert whole_search(data) == (offset, markup[:16])
        for chunk_size in (1000, 4096, None):
            assert find_active_content(data, chunk_size=chunk_size) == (offset, markup[:16])
    inert = markup.replace(b"html", b"htm\x00").replace(b"=", b"\x00").replace(b"xmlns", b"xmlnz")
    assert whole_search(inert) is find_active_content(inert, chunk_size=1000) is None


def test_piecewise_search_agrees_with_searching_the_whole_file() -> None:
    rng = random.Random(11)
    parts = [b"<script", b"<html", b"<body", b">", b"<!doctype", b"html", b"<?php", b"%PDF-", b"<svg", b"xmlns"]
    parts += [b"on", b"onload", b"=", b" ", b"/", b"\x00", b"9", b"<", b"%"]
    found = 0
    for _ in range(150):
        pieces = []
        for _ in range(rng.randint(1, 10)):
            roll = rng.random()
            if roll < 0.5:
                pieces.append(rng.choice(parts))
            elif roll < 0.75:
                pieces.append(rng.choice([b"a", b"Z", b" ", b"\n"]) * rng.choice([1, 300, 512, 513, 2000]))
            else:
                pieces.append(rng.randbytes(rng.randint(0, 300)))
        data = b"".join(pieces)
        expected = whole_search(data)
        found += expected is not None
        for chunk_size in (97, 1500):
            assert find_active_content(data, chunk_size=chunk_size) == expected, data
    assert found > 30  # the generator does produce markup


class PieceReader(io.BytesIO):
    """A file that refuses to be read whole or in pieces larger than sniff._CHUNK."""

    def read(self, size: int | None = -1, /) -> bytes:
        assert size is not None
        assert 0 <= size <= max(sniff._CHUNK, sniff._ZIP_EOCD_WINDOW)
        return super().read(size)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_file_objects_are_read_in_pieces(fmt: str) -> None:
    clean = encoded(fmt, (300, 200))
    for data in (clean, clean + b"\x00" * 20_000, clean + random.Random(1).randbytes(9000)):
        assert polyglot_reason(PieceReader(data), fmt.lower()) == polyglot_reason(data, fmt.lower())
        assert image_end(PieceReader(data), fmt.lower()) == image_end(data, fmt.lower())
        assert container_truncated(PieceReader(data), fmt.lower()) == container_truncated(data, fmt.lower())
    assert polyglot_reason(PieceReader(clean), fmt.lower()) is None


def test_check_reads_the_whole_file_wherever_it_is_positioned(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(encoded("PNG") + b"<html><body>")
    with path.open("rb") as fh:
        fh.seek(0, io.SEEK_END)
        assert "markup" in (polyglot_reason(fh, "png") or "")
