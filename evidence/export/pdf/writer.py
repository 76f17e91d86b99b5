"""The dossier's ReportLab plumbing for large documents: lazy sections, page totals, a streamed canvas.

- the story holds Deferred placeholders, expanded into flowables only when layout reaches them,
  so an exhibit's tables and crops exist only while its pages are laid out;
- "page N of M" draws M from a form XObject defined once the page count is known (one pass);
- DossierCanvas streams the PDF to its output, JPEGs read only then (reportlab_adapter.py, the
  one module that uses ReportLab internals).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from reportlab.platypus import Flowable
from reportlab.platypus.doctemplate import BaseDocTemplate

from evidence.export.pdf.reportlab_adapter import StreamingCanvas
from evidence.export.pdf.text import GREY, SANS

PAGE_TOTAL_FORM = "attestPageTotal"


class DossierCanvas(StreamingCanvas):
    """The streaming canvas with the dossier's font and a page-total form drawn at save."""

    total_font: tuple[str, float] = (SANS, 7)
    total_color: Any = GREY

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not kwargs.get("initialFontName"):
            kwargs["initialFontName"] = SANS
        super().__init__(*args, **kwargs)

    def draw_page_total(self, x: float, y: float) -> None:
        """Draw the document's page count at (x, y), known only at save."""
        self.saveState()
        self.translate(x, y)
        self.doForm(PAGE_TOTAL_FORM)
        self.restoreState()

    def save(self) -> None:
        if self.page_in_progress():
            self.showPage()
        total = self.getPageNumber() - 1
        self.beginForm(PAGE_TOTAL_FORM)
        self.setFont(*self.total_font)
        if self.total_color is not None:
            self.setFillColor(self.total_color)
        self.drawString(0, 0, str(total))
        self.endForm()
        super().save()


class Deferred(Flowable):
    """A placeholder in the story that becomes flowables when layout reaches it."""

    def __init__(self, build: Callable[[], Sequence[Flowable]], *, percent: int | None = None, stage: str = "") -> None:
        super().__init__()
        self.build = build
        self.percent = percent
        self.stage = stage

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        pass


class DossierDocTemplate(BaseDocTemplate):
    """Expands Deferred placeholders just in time and reports progress as it does."""

    def __init__(self, target: Any, *, progress: Callable[[int, str], None] | None = None, **kwargs: Any) -> None:
        super().__init__(target, **kwargs)
        self.progress = progress

    def filterFlowables(self, flowables: list[Flowable]) -> None:
        while flowables and isinstance(flowables[0], Deferred):
            deferred = flowables[0]
            if self.progress is not None and deferred.percent is not None:
                self.progress(deferred.percent, deferred.stage)
            flowables[0:1] = list(deferred.build()) or [_Nothing()]


class _Nothing(Flowable):
    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        pass
