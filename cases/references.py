"""Case references: one spelling per reference, a fixed alphabet, and safe use in file names and output.

A reference is what prosecutors' registries print: capital Latin letters, digits and the separators
`-`, `/` and `.` (e.g. `PGO-2024-0101`, `ICC-01/04`), 2 to 40 characters, starting and ending with a
letter or digit, with at most one `.` or `/` between two letters or digits (so no `..`, `./` or `//`,
which read as paths wherever a reference is shown or written; `U.S.-1` or `A--1` are fine).
Look-alikes (Cyrillic capitals, fullwidth or non-breaking hyphens, zero-width or bidi characters) are
refused rather than folded, so two cases can never differ by an invisible character.
Pure functions: no Django imports. The README's Security section ("Input") says it for operators.
"""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 40
# Runs of letters and digits, and between two runs hyphens with at most one `.` or `/` among them.
PATTERN = re.compile(r"[A-Z0-9]+(?:(?:-+[./]?-*|[./]-*)[A-Z0-9]+)*")


def normalise(text: str) -> str:
    """NFC, surrounding white space removed, capitals: the one spelling stored and compared."""
    text = unicodedata.normalize("NFC", text).strip()
    # Only ASCII is upper-cased: str.upper() maps some non-Latin letters (long s, dotless i) onto Latin ones.
    return text.upper() if text.isascii() else text


def _describe(character: str) -> str:
    name = unicodedata.name(character, "an unnamed character")
    return f"U+{ord(character):04X} {name}"


def problem(reference: str) -> tuple[str, dict] | None:
    """Why `reference` (already normalised) is not a valid reference, as (kind, details), or None.

    Kinds: "length" {count, most}, "character" {position, character}, "ends" {}, "separators"
    {position}. The caller words them.
    """
    if not 2 <= len(reference) <= MAX_LENGTH:
        return "length", {"count": len(reference), "most": MAX_LENGTH}
    if PATTERN.fullmatch(reference):
        return None
    for position, character in enumerate(reference, start=1):
        if not re.fullmatch(r"[A-Z0-9./-]", character):
            return "character", {"position": position, "character": _describe(character)}
    if not (reference[0].isalnum() and reference[-1].isalnum()):
        return "ends", {}
    return "separators", {"position": re.search(r"[./]-*[./]", reference).end()}


def file_stem(reference: str) -> str:
    """The reference as one file-name component: `/` becomes `_` (not in the alphabet, so reversible)."""
    if problem(reference):
        raise ValueError("this case reference predates the reference policy and cannot name a file")
    return reference.replace("/", "_")


def from_file_stem(stem: str) -> str:
    return stem.replace("_", "/")


def printable(text: str) -> str:
    """Text safe for one line of terminal output: control, format, surrogate and separator characters escaped."""
    return "".join(
        f"\\u{ord(character):04x}" if unicodedata.category(character) in {"Cc", "Cf", "Cs", "Zl", "Zp"} else character
        for character in text
    )
