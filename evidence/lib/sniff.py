"""Format detection for evidence photos, from the bytes alone; polyglots are refused (pure, no Pillow, no Django).

See docs/modules.md#evidencelibsniffpy.
"""

from __future__ import annotations

import bisect
import io
import re
from collections.abc import Iterator
from operator import itemgetter
from typing import IO, Final, TypeAlias

import numpy as np

# The formats we accept, by the name sniff_format returns.
SUPPORTED_FORMATS: Final = frozenset({"jpeg", "png", "tiff", "webp", "heic"})

# Every code PhotoRejected can carry; callers may map them to user messages.
REJECTION_CODES: Final = frozenset(
    {"empty", "not_an_image", "unsupported_format", "polyglot", "truncated", "corrupt", "too_many_pixels"}
)

# HEIF brands of HEVC-coded stills and sequences, plus the generic mif1/msf1 brands
# that HEIC writers also use as major brand. AVIF is left out on purpose.
HEIF_BRANDS: Final = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})
_HEVC_BRANDS: Final = HEIF_BRANDS - {b"mif1", b"msf1"}

_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"

# A file's bytes, or a seekable binary file object open for reading.
Source: TypeAlias = bytes | IO[bytes]
# Files are read in pieces of at most _CHUNK bytes, so checking one costs the same
# memory at any size; header fields are read through a window of _WINDOW bytes.
_CHUNK: Final = 1 << 20
_WINDOW: Final = 1 << 16

# Markup that makes a file renderable as a document. Each alternative is long enough
# that it turns up by chance in compressed image data about once in 10^5 large photos
# or less; "<svg" alone is short, so it must be followed by what makes SVG active.
# The reference: it is searched as _TAG_MARKUP and _PDF_MARKUP, which must stay in step
# with it (tests/evidence/test_sniff_search.py compares them on generated files).
_ACTIVE_CONTENT: Final = re.compile(
    rb"<script|<html[\s>]|<body[\s>]|<iframe|<!doctype\s+html|<\?php"
    rb"|<svg[\s/>][^\x00]{0,256}?(?:xmlns|\bon[a-z]+\s*=|<script)"
    rb"|%PDF-",
    re.IGNORECASE,
)
# The pattern is searched a piece at a time, each search repeating the end of the one
# before, so the overlap must be as long as any match. Two alternatives have no bound:
# "<!doctype" + whitespace + "html" and SVG's event handler ("on" + letters + whitespace
# + "="). So runs of letters and of whitespace longer than _RUN_CAP are cut to their
# first _RUN_CAP bytes before searching, which changes no match's start or first bytes:
# no alternative starts inside a run, only whether a run is there matters to the
# unbounded parts, and the one bounded reach into a run (SVG's 256 bytes) stays within
# its first _RUN_CAP bytes. After the cut no match is longer than _MAX_MATCH.
_RUN_CAP: Final = 512
_MAX_MATCH: Final = len(b"<svg ") + 256 + 2 * _RUN_CAP + len(b"=")
_LETTERS: Final = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_SPACES: Final = b" \t\n\r\x0b\x0c"  # what \s matches in a bytes pattern
# Letters to b"a" and whitespace to b" ", so runs are found with bytes.find; every other
# byte maps to itself, and none of them is b"a" or b" ".
_RUN_CLASSES: Final = bytes.maketrans(_LETTERS + _SPACES, b"a" * len(_LETTERS) + b" " * len(_SPACES))
_NOT_LETTER: Final = re.compile(rb"[^a]")
_NOT_SPACE: Final = re.compile(rb"[^ ]")
# Long runs are looked for first in every _RUN_STEP-th byte: a run longer than _RUN_CAP
# covers at least _RUN_POINTS consecutive sampled bytes, so only between the sampled
# bytes around such a chain need every byte be classed (translating a whole piece cost
# as much as searching it).
_RUN_STEP: Final = 128
_RUN_POINTS: Final = (_RUN_CAP + 1) // _RUN_STEP
_RUN_CHAINS: Final = (
    (b"a", _NOT_LETTER, re.compile(rb"a{%d,}" % _RUN_POINTS)),
    (b" ", _NOT_SPACE, re.compile(rb" {%d,}" % _RUN_POINTS)),
)
# _ACTIVE_CONTENT split by first byte, each part with a literal first byte that sre skips
# to in a tight loop; _ACTIVE_CONTENT itself starts with either of two bytes, which sre
# tests byte by byte against a charset, about ten times slower. At a "<" only the first part can match, at
# a "%" only the second, and each keeps the order of its alternatives, so the earlier of
# their two first matches is the match of _ACTIVE_CONTENT.
_TAG_MARKUP: Final = re.compile(
    rb"<(?:script|html[\s>]|body[\s>]|iframe|!doctype\s+html|\?php"
    rb"|svg[\s/>][^\x00]{0,256}?(?:xmlns|\bon[a-z]+\s*=|<script))",
    re.IGNORECASE,
)
_PDF_MARKUP: Final = re.compile(rb"%PDF-", re.IGNORECASE)
# Faster still: every match of _ACTIVE_CONTENT starts with one of these three bytes, letters in
# either case. numpy finds the "<" and "%" of a piece and keeps those followed by such a pair,
# and _ACTIVE_CONTENT is tried at each (tests/evidence/test_sniff_search.py holds the two equal).
_MARKUP_STARTS: Final = (b"<sc", b"<sv", b"<ht", b"<bo", b"<if", b"<!d", b"<?p", b"%pd")
_MIN_MARKUP: Final = len(b"<?php")  # the shortest match: none starts in a piece's last bytes


def _start_table() -> np.ndarray:
    """True at (first byte is "%") << 16 | second << 8 | third, for each start in _MARKUP_STARTS."""
    table = np.zeros(2 << 16, dtype=bool)
    for start in _MARKUP_STARTS:
        lead = 1 if start[:1] == b"%" else 0
        for second in {start[1], ord(chr(start[1]).swapcase())}:
            for third in {start[2], ord(chr(start[2]).swapcase())}:
                table[lead << 16 | second << 8 | third] = True
    return table


_STARTS: Final = _start_table()
# More candidates than this in a piece (a file stuffed with "<sc") and the regexes take over,
# so the Python loop over candidates stays short whatever the file.
_MAX_CANDIDATES: Final = 64
# A ZIP's end-of-central-directory record lives in the last 64 KiB + 22 bytes; finding
# one there means the file also opens as a ZIP/JAR/DOCX (the "GIFAR" trick).
_ZIP_EOCD: Final = b"PK\x05\x06"
_ZIP_EOCD_WINDOW: Final = 65_535 + 22

# After the image's end marker we tolerate padding and a little slack: some cameras
# pad the file to a block size ("Olympus C2040Z.jpg" is padded to 16 KiB with 3 KB of
# zeros and leftover bytes). Bigger unknown trailers are refused; markup, PDFs and
# archives are refused at any size.
_PADDING: Final = b"\x00\xff \t\r\n"
_SLACK_TRAILER: Final = 4096
_ARCHIVE_MAGIC: Final = (b"PK\x03\x04", b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"MZ")

# JPEG markers that stand alone (no length field): TEM and RST0-7.
_STANDALONE_MARKERS: Final = frozenset({0x01, *range(0xD0, 0xD8)})
# Inside entropy-coded data, 0xFF is followed by 0x00 (stuffing) or RSTn; anything
# else starts the next real marker (possibly after 0xFF fill bytes, which the segment
# walk skips). The reference for _next_jpeg_marker, which finds the same with numpy.
_NEXT_JPEG_MARKER: Final = re.compile(rb"\xff[^\x00\xd0-\xd7]")


class PhotoRejected(ValueError):
    """A file is not acceptable as an evidence photo.

    `code` is one of REJECTION_CODES, stable for programs; the message is for people.
    """

    def __init__(self, code: str, message: str) -> None:
        if code not in REJECTION_CODES:
            raise ValueError(f"unknown rejection code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message


def _heif_brands(head: bytes) -> set[bytes] | None:
    """Major + compatible brands of an ISO-BMFF ftyp box at offset 0, or None."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    size = int.from_bytes(head[0:4], "big")
    end = min(size, len(head)) if size >= 16 else 12
    brands = {head[8:12]}
    # Bytes 12..16 are the minor version; compatible brands follow in 4-byte steps.
    brands.update(head[i : i + 4] for i in range(16, end - 3, 4))
    return brands


def sniff_format(head: bytes) -> str | None:
    """Name of the supported format the leading bytes belong to, or None.

    `head` should hold at least the first 64 bytes (the HEIF ftyp box can list
    several compatible brands); the whole file works too.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(_PNG_SIGNATURE):
        return "png"
    # Classic TIFF (42) and BigTIFF (43), both byte orders.
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    brands = _heif_brands(head)
    if brands is not None:
        major = head[8:12]
        if major in _AVIF_BRANDS:
            return None
        # A generic mif1/msf1 file that lists AVIF but no HEVC brand is an AVIF.
        if brands & _AVIF_BRANDS and not brands & _HEVC_BRANDS:
            return None
        if major in HEIF_BRANDS or brands & HEIF_BRANDS:
            return "heic"
    return None


def _unsupported_kind(head: bytes) -> str | None:
    """Human name of a recognised image format that we do not accept."""
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    # "BM" alone is too common in text; require a known DIB header size after it.
    if head.startswith(b"BM") and int.from_bytes(head[14:18], "little") in {12, 40, 52, 56, 64, 108, 124}:
        return "BMP"
    if head.startswith((b"\x00\x00\x01\x00", b"\x00\x00\x02\x00")):
        return "ICO/CUR"
    if head.startswith(b"8BPS"):
        return "Photoshop PSD"
    if head.startswith(b"\xff\x0a") or head[4:12] == b"JXL \x0d\x0a\x87\x0a":
        return "JPEG XL"
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n"):
        return "JPEG 2000"
    brands = _heif_brands(head)
    if brands is not None and brands & _AVIF_BRANDS:
        return "AVIF"
    if brands is not None:
        return f"ISO media ({head[8:12].decode('latin-1')!r})"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "SVG"
    return None


def require_supported_format(data: bytes) -> str:
    """The sniffed format of `data`, or PhotoRejected(empty/not_an_image/unsupported_format)."""
    if not data:
        raise PhotoRejected("empty", "The file is empty.")
    fmt = sniff_format(data[:256])
    if fmt is not None:
        return fmt
    kind = _unsupported_kind(data[:256])
    if kind is not None:
        raise PhotoRejected(
            "unsupported_format",
            f"{kind} files are not accepted; upload a JPEG, PNG, TIFF, WebP or HEIC photo.",
        )
    raise PhotoRejected(
        "not_an_image",
        "The file is not a photo (its first bytes match no JPEG, PNG, TIFF, WebP or HEIC header).",
    )


# --- reading files a piece at a time ------------------------------------------------
#
# Uploads may be gigabytes, so nothing below holds a whole file: the checks take the
# file's bytes or a binary file object, and read the latter in pieces of at most
# _CHUNK bytes (header fields go through a _WINDOW-sized window), seeking as needed.


def _as_file(source: Source) -> IO[bytes]:
    return io.BytesIO(source) if isinstance(source, bytes | bytearray | memoryview) else source


class _Reader:
    """Random access to a seekable binary file for walking its structure.

    Small reads (segment, chunk and box headers) are served from a window of _WINDOW
    bytes; scans over long stretches read _CHUNK bytes at a time and keep none of them.
    """

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self.size = fh.seek(0, io.SEEK_END)
        self._start = 0
        self._window = b""

    def read(self, pos: int, n: int) -> bytes:
        """The `n` bytes at offset `pos`; fewer at the end of the file."""
        offset = pos - self._start
        if offset < 0 or offset + n > len(self._window):
            self._fh.seek(pos)
            self._window = self._fh.read(max(n, _WINDOW))
            self._start, offset = pos, 0
        return self._window[offset : offset + n]

    def _blocks(self, pos: int, overlap: int = 0) -> Iterator[tuple[int, bytes]]:
        """(offset, bytes) of successive pieces from `pos` to the end, each sharing
        `overlap` bytes with the one before."""
        size = max(_CHUNK, overlap + 1)
        while pos < self.size:
            self._fh.seek(pos)
            block = self._fh.read(size)
            if not block:
                return
            yield pos, block
            if len(block) < size:
                return
            pos += len(block) - overlap

    def next_jpeg_marker(self, pos: int) -> int | None:
        """Offset of the first 0xFF at or after `pos` that starts a marker (_NEXT_JPEG_MARKER), or None."""
        for start, block in self._blocks(pos, overlap=1):
            found = _next_jpeg_marker(block)
            if found is not None:
                return start + found
        return None

    def skip(self, pos: int, chars: bytes) -> int:
        """Offset of the first byte at or after `pos` that is not in `chars`, or the size."""
        for start, block in self._blocks(pos):
            rest = block.lstrip(chars)
            if rest:
                return start + len(block) - len(rest)
        return max(pos, self.size)

    def skip_back(self, pos: int, chars: bytes) -> int:
        """Offset just past the last byte at or after `pos` not in `chars`, or `pos`."""
        end = self.size
        while end > pos:
            start = max(pos, end - _CHUNK)
            self._fh.seek(start)
            kept = self._fh.read(end - start).rstrip(chars)
            if kept:
                return start + len(kept)
            end = start
        return pos


def _next_jpeg_marker(block: bytes) -> int | None:
    """_NEXT_JPEG_MARKER.search(block)'s start, or None; with numpy, four times as fast on entropy-coded data."""
    octets = np.frombuffer(block, dtype=np.uint8)
    after = octets[1:]
    # 0xFF, then neither 0x00 (stuffing) nor 0xD0-0xD7 (RSTn: those are the bytes whose top five bits are 11010).
    hits = octets[:-1] == 0xFF
    hits &= after != 0
    hits &= (after & 0xF8) != 0xD0
    if not len(hits):
        return None
    first = int(hits.argmax())
    return first if hits[first] else None


def _long_runs(buf: bytes) -> list[tuple[int, int]]:
    """(start, end) of the runs of letters and of whitespace in `buf` longer than _RUN_CAP."""
    sample = buf[::_RUN_STEP].translate(_RUN_CLASSES)
    runs = []
    for unit, different, chain in _RUN_CHAINS:
        for points in chain.finditer(sample):
            # The sampled bytes either side of the chain are not of this class, so each
            # run of it through the chain lies between them.
            lo = max(0, (points.start() - 1) * _RUN_STEP + 1)
            hi = points.end() * _RUN_STEP
            runs.extend(_runs_between(buf, lo, hi, unit, different))
    runs.sort()
    return runs


def _runs_between(buf: bytes, lo: int, hi: int, unit: bytes, different: re.Pattern[bytes]) -> list[tuple[int, int]]:
    """(start, end) in `buf` of the runs of class `unit` longer than _RUN_CAP in buf[lo:hi]."""
    classes = buf[lo:hi].translate(_RUN_CLASSES)  # C speed, unlike a regex with a repeat
    needle = unit * (_RUN_CAP + 1)
    runs = []
    start = classes.find(needle)
    while start != -1:
        stop = different.search(classes, start + len(needle))
        end = len(classes) if stop is None else stop.start()
        runs.append((lo + start, lo + end))
        start = classes.find(needle, end)
    return runs


def _absolute(anchors: list[tuple[int, int]], pos: int) -> int:
    """File offset of position `pos` of a buffer; anchors are (position, file offset)
    pairs, in order, from which bytes up to the next anchor are contiguous in the file."""
    at, offset = anchors[bisect.bisect_right(anchors, pos, key=itemgetter(0)) - 1]
    return offset + pos - at


def _squeeze(buf: bytes, anchors: list[tuple[int, int]]) -> tuple[bytes, list[tuple[int, int]]]:
    """`buf` with every run of letters or of whitespace cut to its first _RUN_CAP bytes."""
    cuts = [(start + _RUN_CAP, end) for start, end in _long_runs(buf)]
    if not cuts:
        return buf, anchors
    pieces, kept_anchors, removed, i, prev = [], [], 0, 0, 0
    for cut_start, cut_end in cuts:
        pieces.append(buf[prev:cut_start])
        prev = cut_end
        while i < len(anchors) and anchors[i][0] < cut_start:
            kept_anchors.append((anchors[i][0] - removed, anchors[i][1]))
            i += 1
        while i < len(anchors) and anchors[i][0] < cut_end:
            i += 1  # inside the cut: these bytes are dropped
        kept_anchors.append((cut_start - removed, _absolute(anchors, cut_end)))
        removed += cut_end - cut_start
    pieces.append(buf[prev:])
    kept_anchors.extend((at - removed, offset) for at, offset in anchors[i:])
    return b"".join(pieces), kept_anchors


def _tail(buf: bytes, anchors: list[tuple[int, int]], keep: int) -> tuple[bytes, list[tuple[int, int]]]:
    """buf[keep:] with its anchors."""
    i = bisect.bisect_right(anchors, keep, key=itemgetter(0))
    return buf[keep:], [(0, _absolute(anchors, keep))] + [(at - keep, offset) for at, offset in anchors[i:]]


def _search(buf: bytes) -> re.Match[bytes] | None:
    """_ACTIVE_CONTENT.search(buf): tried only where a match can start (see _MARKUP_STARTS)."""
    octets = np.frombuffer(buf, dtype=np.uint8)
    lead = octets[: max(0, len(octets) - _MIN_MARKUP + 1)]
    at = np.flatnonzero((lead == 0x3C) | (lead == 0x25))
    key = (octets[at] == 0x25).astype(np.intp) << 16 | octets[at + 1].astype(np.intp) << 8 | octets[at + 2]
    candidates = at[_STARTS[key]]
    if len(candidates) > _MAX_CANDIDATES:
        return _search_regex(buf, int(candidates[0]))
    for pos in candidates.tolist():
        found = _ACTIVE_CONTENT.match(buf, pos)
        if found is not None:
            return found
    return None


def _search_regex(buf: bytes, pos: int = 0) -> re.Match[bytes] | None:
    """_ACTIVE_CONTENT.search(buf, pos), from its two parts."""
    tag = _TAG_MARKUP.search(buf, pos)
    # "%PDF-" holds no "<", so a PDF match before the tag also ends before it.
    pdf = _PDF_MARKUP.search(buf, pos, len(buf) if tag is None else tag.start())
    return tag if pdf is None else pdf


def find_active_content(source: Source, *, chunk_size: int | None = None) -> tuple[int, bytes] | None:
    """(file offset, first 16 bytes) of the first document-markup match in the file, or None.

    The same answer as _ACTIVE_CONTENT.search over the whole file, read `chunk_size`
    bytes (default _CHUNK) at a time: each search covers the unsettled end of the one
    before, in which runs of letters and whitespace are cut (see _RUN_CAP), so no match
    is longer than that overlap.
    """
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    fh = _as_file(source)
    size = chunk_size or _CHUNK
    fh.seek(0)
    buf, offset = b"", 0
    anchors: list[tuple[int, int]] = []
    while True:
        chunk = fh.read(size)
        if chunk:
            anchors.append((len(buf), offset))
            buf, anchors = _squeeze(buf + chunk, anchors)
            offset += len(chunk)
            settled = max(0, len(buf) - _MAX_MATCH)  # matches starting here may run on
        else:
            settled = len(buf)
        found = _search(buf)
        if found is not None and found.start() < settled:
            return _absolute(anchors, found.start()), found.group()[:16]
        if not chunk:
            return None
        buf, anchors = _tail(buf, anchors, settled)


# --- where the image ends -----------------------------------------------------------


def _jpeg_end(r: _Reader) -> int | None:
    """Offset just past the EOI of the first JPEG stream, or None if it has none.

    Walks the segment structure rather than searching for FFD9, which also appears
    at the end of the EXIF thumbnail inside APP1.
    """
    pos, size = 2, r.size
    while pos < size:
        if r.read(pos, 1) != b"\xff":
            return None  # broken structure: leave the verdict to the decoder
        while pos < size and r.read(pos, 1) == b"\xff":
            pos += 1
        if pos >= size:
            return None
        marker = r.read(pos, 1)[0]
        pos += 1
        if marker == 0xD9:
            return pos
        if marker in _STANDALONE_MARKERS:
            continue
        if pos + 2 > size:
            return None
        length = int.from_bytes(r.read(pos, 2), "big")
        if length < 2:
            return None
        pos += length
        if marker == 0xDA:  # start of scan: skip the entropy-coded data
            found = r.next_jpeg_marker(pos)
            if found is None:
                return None
            pos = found
    return None


def _png_end(r: _Reader) -> int | None:
    pos, size = len(_PNG_SIGNATURE), r.size
    while pos + 12 <= size:
        header = r.read(pos, 8)
        length = int.from_bytes(header[:4], "big")
        chunk_type = header[4:8]
        pos += 12 + length
        if chunk_type == b"IEND":
            return pos if pos <= size else None
    return None


def _webp_end(r: _Reader) -> int | None:
    riff_size = int.from_bytes(r.read(4, 4), "little")
    end = 8 + riff_size + (riff_size & 1)
    return end if end <= r.size else None


def _bmff_walk(r: _Reader) -> tuple[int, bool]:
    """(offset where top-level ISO-BMFF boxes stop parsing, whether a box overruns EOF)."""
    pos, size = 0, r.size
    while pos + 8 <= size:
        header = r.read(pos, 16)
        box_size = int.from_bytes(header[0:4], "big")
        box_type = header[4:8]
        if not all(0x20 <= b <= 0x7E for b in box_type):
            return pos, False
        if box_size == 1:  # 64-bit largesize follows the type
            if pos + 16 > size:
                return pos, True
            box_size = int.from_bytes(header[8:16], "big")
        elif box_size == 0:  # box runs to the end of the file
            return size, False
        if box_size < 8:
            return pos, False
        if pos + box_size > size:
            return pos, True
        pos += box_size
    return pos, False


def _bmff_end(r: _Reader) -> int | None:
    end, truncated = _bmff_walk(r)
    return None if truncated else end


def container_truncated(source: Source, fmt: str) -> bool:
    """True when a WebP or HEIC container declares more bytes than the file holds.

    `source` is the file's bytes or a seekable binary file object. Decoders do not
    always notice: libheif decodes a HEIC cut in half without an error, filling the
    missing tiles with green.
    """
    r = _Reader(_as_file(source))
    if fmt == "webp":
        riff_size = int.from_bytes(r.read(4, 4), "little")
        return 8 + riff_size > r.size
    if fmt == "heic":
        return _bmff_walk(r)[1]
    return False


def _image_end(r: _Reader, fmt: str) -> int | None:
    if fmt == "jpeg":
        return _jpeg_end(r)
    if fmt == "png":
        return _png_end(r)
    if fmt == "webp":
        return _webp_end(r)
    if fmt == "heic":
        return _bmff_end(r)
    return None


def image_end(source: Source, fmt: str) -> int | None:
    """Offset where the image stream of format `fmt` ends, or None when unknown.

    `source` is the file's bytes or a seekable binary file object. None means the
    structure gives no end (TIFF has no end marker; a truncated or padded stream never
    reaches one), so no trailing-data judgement is possible.
    """
    return _image_end(_Reader(_as_file(source)), fmt)


def _benign_trailer(r: _Reader, end: int) -> bool:
    """Whether the bytes from `end` to the end of the file are harmless."""
    start = r.skip(end, _PADDING)  # the trailer stripped of padding is [start, stop)
    stop = r.skip_back(start, _PADDING)
    if r.read(start, 8)[: stop - start].startswith(_ARCHIVE_MAGIC):
        return False
    if stop - start <= _SLACK_TRAILER:
        return True
    # Phones append more images or a video after the primary JPEG: MPF/CIPA
    # multi-picture JPEGs (depth maps, previews), "motion photo" MP4s, and Samsung's
    # SEFT trailer (ends with b"SEFT"). Markup and ZIPs in them are caught above.
    is_jpeg = r.read(r.skip(end, b"\x00"), 3) == b"\xff\xd8\xff"
    return is_jpeg or r.read(end + 4, 4) == b"ftyp" or r.read(r.size - 4, 4) == b"SEFT"


def polyglot_reason(source: Source, fmt: str) -> str | None:
    """Why the file (already sniffed as `fmt`) is also another kind of file, or None.

    `source` is the file's bytes or a seekable binary file object, which is read from
    offset 0 a piece at a time and left at no particular position.
    """
    fh = _as_file(source)
    found = find_active_content(fh)
    if found is not None:
        offset, marker = found
        return f"it contains document markup ({marker.decode('latin-1')!r} at byte {offset})"
    r = _Reader(fh)
    if _ZIP_EOCD in r.read(max(0, r.size - _ZIP_EOCD_WINDOW), _ZIP_EOCD_WINDOW):
        return "it ends with a ZIP archive directory"
    end = _image_end(r, fmt)
    if end is not None and end < r.size and not _benign_trailer(r, end):
        return f"{r.size - end} bytes of unknown data follow the end of the image"
    return None


def check_not_polyglot(source: Source, fmt: str) -> None:
    """Raise PhotoRejected("polyglot") when the file is also another kind of file."""
    reason = polyglot_reason(source, fmt)
    if reason is not None:
        raise PhotoRejected("polyglot", f"The file is refused because {reason}.")
