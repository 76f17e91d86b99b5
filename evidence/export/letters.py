"""Trace-request and right-of-reply letters as PDF, in the request's language (English or Ukrainian).

Written deterministically (ReportLab's invariant mode), so a letter can be stored and hashed.
See docs/modules.md#evidenceexportletterspy.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.db.models import Q
from django.utils import timezone
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table

from evidence import filestore
from evidence.choices import PhotoStatus, TraceKind
from evidence.export.pdf.common import (
    FRAME_WIDTH,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_TOP,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    key_value_table,
    table_style,
)
from evidence.export.pdf.images import Picture, crop_geometry, image_size, marking_crop
from evidence.export.pdf.labels import LETTER_LABELS, format_date
from evidence.export.pdf.text import GREY, MONO, SANS, SANS_BOLD, Styles, TextLine, markup, para, styles
from evidence.models.components import Component
from evidence.models.markings import Marking
from evidence.models.tracing import TraceRequest, TraceResponse
from evidence.selectors import region_on_preview

__all__ = ["letter_reference", "render_letter"]

CROP_WIDTH = 70 * mm
CROP_HEIGHT = 48 * mm


def letter_reference(request: TraceRequest) -> str:
    """The reference a letter and its answer quote: CASE-REF/TR-<id> (RR for a right of reply)."""
    prefix = "RR" if request.kind == TraceKind.RIGHT_OF_REPLY else "TR"
    return f"{request.case.reference}/{prefix}-{request.pk}"


def _components(request: TraceRequest) -> list[Component]:
    return list(request.components.select_related("item", "manufacturer").order_by("item__exhibit_number", "pk"))


def _date_codes(component: Component) -> str:
    codes = component.readings.filter(withdrawn_at__isnull=True).order_by("pk").values_list("raw_code", flat=True)
    return ", ".join(dict.fromkeys(codes))


def _earlier_answers(request: TraceRequest) -> list[TraceResponse]:
    """What the recipient answered before: the answers to the request a right of reply follows, else
    the answers to the case's other requests to the same manufacturer or entity."""
    if request.follows_id:
        answers = TraceResponse.objects.filter(request_id=request.follows_id)
    else:
        same = Q()
        if request.manufacturer_id:
            same |= Q(request__manufacturer_id=request.manufacturer_id)
        if request.entity_id:
            same |= Q(request__entity_id=request.entity_id)
        if not same:
            return []
        answers = TraceResponse.objects.filter(same, request__case_id=request.case_id).exclude(request=request)
    return list(answers.order_by("received_on", "pk"))


def _crops(component: Component, folder: Path, counter: list[int]) -> list[tuple[Marking, Path]]:
    """Each marking of the component with a region on a processed photo, cropped as the dossier crops it."""
    made = []
    markings = component.markings.filter(withdrawn_at__isnull=True, photo__isnull=False).select_related(
        "photo__original"
    )
    for marking in markings.order_by("pk"):
        photo = marking.photo
        region = region_on_preview(marking) if photo.status == PhotoStatus.DONE else None
        if region is None:
            made.append((marking, None))
            continue
        try:
            preview = filestore.fetch(photo.derivative_path("preview"), folder=folder)
            geometry = crop_geometry(image_size(preview), region)
            if geometry is None:
                made.append((marking, None))
                continue
            counter[0] += 1
            out = folder / f"crop-{counter[0]:04d}.jpg"
            marking_crop(preview, geometry, out)
        except (OSError, ValueError):
            made.append((marking, None))
            continue
        made.append((marking, out))
    return made


def _section(title: str, style: Styles) -> list[Flowable]:
    return [CondPageBreak(25 * mm), Paragraph(markup(title), style.h2)]


def _body(text: str, style: Styles) -> list[Flowable]:
    return [para(block.strip(), style.body) for block in text.strip().split("\n\n") if block.strip()]


def _component_table(components: list[Component], labels: dict[str, str], style: Styles) -> Table:
    widths = [10 * mm, 0, 42 * mm, 38 * mm, 30 * mm]
    widths[1] = FRAME_WIDTH - sum(widths)
    header = [
        labels["col_item"],
        labels["col_as_marked"],
        labels["col_part_number"],
        labels["col_lot"],
        labels["col_date_code"],
    ]
    rows: list[list[Any]] = [[Paragraph(markup(text), style.cell_head) for text in header]]
    for number, component in enumerate(components, start=1):
        as_marked = component.manufacturer_as_marked or (component.manufacturer.name if component.manufacturer else "")
        values = [str(number), as_marked, component.part_number, component.lot_code, _date_codes(component)]
        rows.append([para(value or "—", style.cell) for value in values])
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(table_style(rows=len(rows)))
    return table


def _component_photos(
    components: list[Component], labels: dict[str, str], style: Styles, folder: Path
) -> list[Flowable]:
    story = _section(labels["photos"], style)
    counter = [0]
    for number, component in enumerate(components, start=1):
        heading = f"{labels['component']} {number}: {component.part_number or component.manufacturer_as_marked}"
        block: list[Flowable] = [Spacer(1, 2 * mm), TextLine([(heading.strip(), SANS_BOLD)], style.h3)]
        crops = _crops(component, folder, counter)
        if not crops:
            block.append(Paragraph(markup(labels["no_photo"]), style.note))
        story.append(KeepTogether(block))
        for marking, crop in crops:
            photo = marking.photo
            pieces: list[Flowable] = []
            if crop is not None:
                pieces.append(Picture(crop, None, CROP_WIDTH, CROP_HEIGHT))
            pieces += [
                para(marking.transcription, style.cell),
                TextLine([(f"{labels['photo']}: {photo.original_name}", SANS)], style.caption),
                TextLine([(f"{labels['sha256']}: ", SANS)], style.caption),
                TextLine([(photo.original.sha256, MONO)], style.mono_small),
                Spacer(1, 2 * mm),
            ]
            story.append(KeepTogether(pieces))
    return story


def render_letter(request: TraceRequest, path: Path) -> None:
    """Write the letter of a trace request (or right of reply) as a PDF at path, in the request's language."""
    language = request.language if request.language in LETTER_LABELS else "en"
    labels = LETTER_LABELS[language]
    style = styles()
    components = _components(request)
    right_of_reply = request.kind == TraceKind.RIGHT_OF_REPLY
    title = labels["title_right_of_reply" if right_of_reply else "title_trace"]
    dated = request.sent_on or timezone.localdate()
    reference = letter_reference(request)
    signer = request.created_by.get_full_name() or request.created_by.get_username()

    with tempfile.TemporaryDirectory(prefix="attest-letter-") as tmp:
        folder = Path(tmp)
        story: list[Flowable] = [
            TextLine([(title, SANS_BOLD)], style.cover_kicker),
            Spacer(1, 4 * mm),
            key_value_table(
                [
                    (labels["to"], f"{request.recipient_name}\n{labels[f'recipient_{request.recipient_kind}']}"),
                    (labels["reference"], reference),
                    (labels["date"], format_date(dated, language)),
                ],
                (36 * mm, FRAME_WIDTH - 36 * mm),
                style,
            ),
            Spacer(1, 6 * mm),
            Paragraph(markup(labels["salutation"]), style.body),
        ]
        if request.context.strip():
            story += _section(labels["context"], style) + _body(request.context, style)
        if components:
            story += _section(labels["components"], style)
            story.append(_component_table(components, labels, style))
        if right_of_reply:
            story += _section(labels["draft_finding"], style) + _body(request.draft_finding or "—", style)
            story += _section(labels["earlier_answer"], style)
            answers = _earlier_answers(request)
            if not answers:
                story.append(Paragraph(markup(labels["no_earlier_answer"]), style.body))
            for answer in answers:
                received = labels["earlier_answer_received"].format(date=format_date(answer.received_on, language))
                story.append(Paragraph(markup(received), style.note))
                story += _body(answer.summary or "—", style)
        story += _section(labels["request"], style)
        story.append(
            Paragraph(markup(labels["request_right_of_reply" if right_of_reply else "request_trace"]), style.body)
        )
        if request.due_on:
            deadline = labels["deadline_due"].format(
                days=request.deadline_days, date=format_date(request.due_on, language)
            )
        else:
            deadline = labels["deadline_days"].format(days=request.deadline_days)
        story.append(Paragraph(markup(deadline), style.body))
        story += [
            Spacer(1, 6 * mm),
            Paragraph(markup(labels["closing"]), style.body),
            para(signer, style.body),
            para(reference, style.note),
        ]
        if components:
            story += _component_photos(components, labels, style, folder)

        def footer(canvas: Any, doc: Any) -> None:
            canvas.saveState()
            canvas.setFont(SANS, 7)
            canvas.setFillColor(GREY)
            canvas.drawString(MARGIN_LEFT, MARGIN_BOTTOM - 14, reference)
            canvas.drawRightString(
                doc.pagesize[0] - MARGIN_LEFT, MARGIN_BOTTOM - 14, labels["page"].format(n=canvas.getPageNumber())
            )
            canvas.restoreState()

        doc = SimpleDocTemplate(
            str(path),
            pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
            leftMargin=MARGIN_LEFT,
            rightMargin=MARGIN_LEFT,
            topMargin=MARGIN_TOP,
            bottomMargin=MARGIN_BOTTOM,
            title=f"{reference}: {title}",
            author=signer,
            subject=title,
            creator="Attest",
            lang=language,
            invariant=1,
        )
        doc.build(story, onFirstPage=footer, onLaterPages=footer)
