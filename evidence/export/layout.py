"""Where each evidence file lies in a package's data/ folder: one definition for the package and the dossier.

package.py places the files there and the dossier's annex prints the same paths, so a reader can
check every file of the package with the dossier in hand (sha256sum -c). Pure: no Django here.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

# Photo formats (Photo.format) -> the extension of the original in the package.
EXTENSIONS = {"jpeg": "jpg", "png": "png", "tiff": "tif", "webp": "webp", "heic": "heic"}


def photo_path(exhibit_number: str, sha256: str, fmt: str) -> str:
    """A photo original: originals/<EX-nnnn>/<sha256>.<ext> (.bin for a format not in EXTENSIONS)."""
    return f"originals/{exhibit_number}/{sha256}.{EXTENSIONS.get(fmt, 'bin')}"


def kept_file_path(exhibit_number: str, sha256: str) -> str:
    """A file kept as evidence (not vetted as an image): files/<EX-nnnn>/<sha256>.bin, never its own name."""
    return f"files/{exhibit_number}/{sha256}.bin"


def _suffix(file_name: str) -> str:
    """The extension of a file name as uploaded, when it is a short run of ASCII letters and digits, else
    .bin: the name is the uploader's text, never a part of a path (it once carried 150 Cyrillic letters,
    too long for the file system, or `":<>|*?`)."""
    suffix = PurePosixPath(file_name or "").suffix.lower()
    return suffix if 1 < len(suffix) <= 8 and suffix[1:].isalnum() and suffix.isascii() else ".bin"


def source_path(source_id: int, sha256: str, archived_copy_name: str) -> str:
    """A source's archived copy: sources/<id>-<sha256><suffix of its file name, or .bin>."""
    return f"sources/{source_id}-{sha256}{_suffix(archived_copy_name)}"


def letter_path(trace_id: int, sha256: str) -> str:
    """A trace request's letter as issued: letters/<request id>-<sha256>.pdf."""
    return f"letters/{trace_id}-{sha256}.pdf"


def response_path(trace_id: int, sha256: str, file_name: str) -> str:
    """An answer to a trace request: responses/<request id>-<sha256><suffix of its file name, or .bin>."""
    return f"responses/{trace_id}-{sha256}{_suffix(file_name)}"


def dossier_path(stem: str) -> str:
    """The dossier built with the package: dossier/<stem>-dossier.pdf."""
    return f"dossier/{stem}-dossier.pdf"


# The standalone verifier every package ships (the dossier prints its SHA-256).
VERIFY_SCRIPT = Path(__file__).with_name("verify.py")
