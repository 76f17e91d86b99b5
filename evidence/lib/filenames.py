"""File names offered to a downloader: one harmless component, whatever name the file arrived with."""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 150
# Path separators and the quote: a browser or unzip tool could read a folder or the header's end in them.
_REPLACED = frozenset('/\\"')
# Control, format (bidi overrides, zero-width spaces) and line/paragraph separators hide or reorder the
# name; a lone surrogate cannot be encoded at all. The two joiners stay: Persian, Indic scripts and
# emoji need them, and they move nothing.
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_JOINERS = frozenset("\u200c\u200d")


def download_name(name: str) -> str:
    """`name` as a safe file name for Content-Disposition: no folder, no `..`, no hidden characters.

    What is kept reads as the uploaded name did; the extension survives shortening.
    """
    name = unicodedata.normalize("NFC", name)
    name = "".join(
        "_" if c in _REPLACED or (unicodedata.category(c) in _HIDDEN and c not in _JOINERS) else c for c in name
    )
    name = re.sub(r"\.{2,}", ".", name).strip(" .")
    if len(name) > MAX_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: MAX_LENGTH - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            name = name[:MAX_LENGTH].rstrip(" .")
    return name or "file"
