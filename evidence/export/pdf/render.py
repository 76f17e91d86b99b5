"""render_dossier(data, out): the dossier PDF of a DossierData (pdf/data.py). No Django here.

Lays the document out section by section (the lazy story), decorates every page (case reference,
published head, "page N of M") and streams it to out through writer.py.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Frame, PageBreak, PageTemplate

from evidence.export.pdf import components, exhibits, sections
from evidence.export.pdf.common import (
    FRAME_HEIGHT,
    FRAME_WIDTH,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_TOP,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    Context,
)
from evidence.export.pdf.labels import format_date, labels_for
from evidence.export.pdf.sidejob import SideJob
from evidence.export.pdf.text import GREY, MONO, NAVY, RULE, SANS, SANS_BOLD, register_fonts, styles
from evidence.export.pdf.writer import Deferred, DossierCanvas, DossierDocTemplate

if TYPE_CHECKING:
    from evidence.export.pdf.data import DossierData

EXHIBITS_FROM, EXHIBITS_TO = 25, 88


def render_dossier(
    data: DossierData,
    out: BinaryIO | Path,
    *,
    progress: Callable[[int, str], None] | None = None,
) -> None:
    """Write the dossier PDF of data to out (a binary file object or a path).

    progress(percent, stage) is called as each section is laid out ("cover", "summary",
    "incidents", "exhibits", "exhibits 12/40", "sources", "annex", "writing") and with
    (100, "done") at the end.
    """
    register_fonts()
    labels = labels_for(data.language)
    report = progress or (lambda percent, stage: None)
    with tempfile.TemporaryDirectory(prefix="attest-dossier-") as tmp:
        ctx = Context(data=data, labels=labels, styles=styles(), tmp=Path(tmp), language=data.language)
        ctx.chart_spec = sections.chart_spec(ctx) | components.chart_spec(ctx)
        exhibits.plan_crops(ctx)
        ctx.side = SideJob({"crops": ctx.crop_spec, "charts": ctx.chart_spec}, ctx.tmp)
        try:
            _build(ctx, out, report)
        finally:
            ctx.side.close()
    report(100, "done")


def _build(ctx: Context, out: BinaryIO | Path, report: Callable[[int, str], None]) -> None:
    data, labels = ctx.data, ctx.labels
    target: Any = str(out) if isinstance(out, Path | str) else out
    doc = DossierDocTemplate(
        target,
        progress=report,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_LEFT,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=f"{data.case_reference}: {data.case_title}",
        author=data.generated_by,
        subject=labels["document_title"],
        creator="Attest",
        lang="uk" if data.language == "uk" else "en",
    )
    frame = Frame(
        MARGIN_LEFT,
        MARGIN_BOTTOM,
        FRAME_WIDTH,
        FRAME_HEIGHT,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=_decorate(ctx))])
    doc.build(_story(ctx), canvasmaker=DossierCanvas)


def _story(ctx: Context) -> list[Any]:
    data = ctx.data
    count = len(data.exhibits)
    story: list[Any] = [
        Deferred(lambda: sections.cover(ctx), percent=1, stage="cover"),
        PageBreak(),
        Deferred(lambda: sections.summary(ctx), percent=5, stage="summary"),
        PageBreak(),
        Deferred(lambda: sections.incidents(ctx), percent=15, stage="incidents"),
        PageBreak(),
    ]
    if data.components:  # only in a case with components
        story += [
            Deferred(lambda: components.component_table(ctx), percent=18, stage="components"),
            PageBreak(),
        ]
    story += [
        Deferred(lambda: exhibits.exhibit_list(ctx), percent=20, stage="exhibits"),
    ]
    for index, exhibit in enumerate(data.exhibits, start=1):
        percent = EXHIBITS_FROM + (EXHIBITS_TO - EXHIBITS_FROM) * (index - 1) // max(1, count)
        story += [
            PageBreak(),
            Deferred(
                lambda exhibit=exhibit: exhibits.exhibit_pages(ctx, exhibit),
                percent=percent,
                stage=f"exhibits {index}/{count}",
            ),
        ]
    story += [
        PageBreak(),
        Deferred(lambda: sections.sources(ctx), percent=89, stage="sources"),
        PageBreak(),
        Deferred(lambda: sections.annex(ctx), percent=92, stage="annex"),
        Deferred(list, percent=95, stage="writing"),
    ]
    return story


def _decorate(ctx: Context) -> Callable[[Any, Any], None]:
    """Header (case reference, title, date) and footer (published head, page N of M) on every page."""
    data, labels = ctx.data, ctx.labels
    left, right = MARGIN_LEFT, PAGE_WIDTH - MARGIN_LEFT
    header_y = PAGE_HEIGHT - MARGIN_TOP + 9
    footer_y = MARGIN_BOTTOM - 14
    reference = data.case_reference
    title = labels["header_title"]
    date = format_date(data.generated_at, ctx.language)
    head_label = labels["published_head"].split(" (")[0] + ": "
    head = data.published_head

    def decorate(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(SANS_BOLD, 8)
        canvas.setFillColor(NAVY)
        canvas.drawString(left, header_y, reference)
        offset = stringWidth(reference, SANS_BOLD, 8)
        canvas.setFont(SANS, 8)
        canvas.setFillColor(GREY)
        canvas.drawString(left + offset + 5, header_y, f"· {title}")
        canvas.drawRightString(right, header_y, date)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(left, header_y - 4, right, header_y - 4)
        canvas.line(left, footer_y + 9, right, footer_y + 9)
        canvas.setFont(SANS, 6.5)
        canvas.drawString(left, footer_y, head_label)
        canvas.setFont(MONO, 6.2)
        canvas.drawString(left + stringWidth(head_label, SANS, 6.5), footer_y, head)
        canvas.setFont(SANS, 7)
        page_text = labels["page_of"].format(n=doc.page)
        number_end = right - 16
        canvas.drawRightString(number_end, footer_y, page_text)
        canvas.draw_page_total(number_end + stringWidth(" ", SANS, 7), footer_y)
        canvas.restoreState()

    return decorate
