"""CSV files that a spreadsheet opens as data, never as formulas.

Pure functions, no Django. Cells hold text typed by users or sent by clients (titles, part numbers,
user agents); a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab
or carriage return) as a formula, e.g. `=HYPERLINK("https://…?"&A1,"x")` sends other cells away.
Every CSV the project writes goes through `writer` or `dict_writer`, which prefix such a text cell
with a single quote (OWASP's rule), so that it shows as the text it was.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The value, with a quote before it when it is text a spreadsheet would read as a formula.

    Other values (numbers, dates, booleans) are written by the code, not typed by anyone, and stay.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class _Writer:
    def __init__(self, inner):
        self._inner = inner

    def writerow(self, row: Iterable[Any]):
        return self._inner.writerow([neutralise(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class _DictWriter:
    def __init__(self, inner: csv.DictWriter):
        self._inner = inner

    def writeheader(self):
        return self.writerow(dict(zip(self._inner.fieldnames, self._inner.fieldnames, strict=True)))

    def writerow(self, row: Mapping[str, Any]):
        return self._inner.writerow({key: neutralise(value) for key, value in row.items()})

    def writerows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream, **kwargs) -> _Writer:
    """csv.writer, with every cell neutralised."""
    return _Writer(csv.writer(stream, **kwargs))


def dict_writer(stream, fieldnames, **kwargs) -> _DictWriter:
    """csv.DictWriter, with every cell (header included) neutralised."""
    return _DictWriter(csv.DictWriter(stream, fieldnames, **kwargs))
