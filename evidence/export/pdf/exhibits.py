"""The exhibits: the list with thumbnails, then each exhibit with its custody, photos, markings, attributions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, Paragraph

from evidence.export.pdf.common import (
    DASH,
    FRAME_WIDTH,
    Context,
    Continued,
    chars_per_row,
    data_tables,
    key_value_table,
    stance_cell,
)
from evidence.export.pdf.images import ClippedPicture, PendingPicture, Picture, crop_geometry, image_size
from evidence.export.pdf.labels import format_datetime
from evidence.export.pdf.text import MONO, PARAGRAPH_LINES, SANS, SANS_BOLD, TextLine, chunk_text, markup, para

if TYPE_CHECKING:
    from evidence.export.pdf.data import Exhibit, MarkingRow, PhotoRow

PHOTO_MAX_HEIGHT = 98 * mm
THUMB_BOX = 15 * mm
CROP_WIDTH = 44 * mm
CROP_HEIGHT = 34 * mm


def exhibit_list(ctx: Context) -> list[Flowable]:
    styles = ctx.styles
    story: list[Flowable] = [
        TextLine([(ctx.labels["exhibits"], SANS_BOLD)], styles.h1, outline=("exhibits", ctx.labels["exhibits"], 0))
    ]
    if not ctx.data.exhibits:
        return [*story, Paragraph(ctx.label("no_exhibits"), styles.note)]
    widths = (THUMB_BOX + 6, 52, 0, 68, 68, 80)
    widths = (widths[0], widths[1], FRAME_WIDTH - sum(widths), *widths[3:])

    def title(exhibit: Exhibit) -> Any:
        text = markup(exhibit.title)
        if exhibit.component:
            text += f"<br/><font color='#5B6470' size='6.8'>{markup(exhibit.component)}</font>"
        if exhibit.parent_number:
            text += (
                f"<br/><font color='#5B6470' size='6.8'>{ctx.label('part_of')} {markup(exhibit.parent_number)}</font>"
            )
        return Paragraph(text, styles.cell)

    def thumbnail(exhibit: Exhibit) -> Any:
        path = exhibit.thumbnail_path
        if path is None or not path.is_file():
            return DASH
        return Picture(path, None, THUMB_BOX, THUMB_BOX)

    story += data_tables(
        ctx,
        ("col_image", "col_number", "col_title", "kind", "col_status", "col_custodian"),
        (
            (thumbnail(exhibit), exhibit.number, title(exhibit), exhibit.kind, exhibit.status, exhibit.custodian)
            for exhibit in ctx.data.exhibits
        ),
        widths,
        fonts={1: (SANS_BOLD, 7.5)},
    )
    return story


def exhibit_pages(ctx: Context, exhibit: Exhibit) -> list[Flowable]:
    styles = ctx.styles
    story: list[Flowable] = [
        TextLine(
            [(f"{ctx.labels['exhibit']} {exhibit.number}", SANS_BOLD)],
            styles.h1,
            outline=(f"exhibit-{exhibit.number}", f"{exhibit.number} {exhibit.title}".strip(), 1),
        ),
        TextLine([(exhibit.title, SANS)], styles.cover_title),
    ]
    facts: list[tuple[str, Any]] = [
        (ctx.label("kind"), exhibit.kind),
        (ctx.label("col_status"), exhibit.status),
        (ctx.label("custodian"), exhibit.custodian),
    ]
    if exhibit.parent_number:
        facts.append((ctx.label("part_of"), exhibit.parent_number))
    if exhibit.component:
        facts.append((ctx.label("component"), exhibit.component))
    if exhibit.description.strip():
        facts.append((ctx.label("description"), exhibit.description.strip()))  # long text: continuation rows
    story.append(key_value_table(facts, (38 * mm, FRAME_WIDTH - 38 * mm), styles))
    story += custody(ctx, exhibit)
    story += photos(ctx, exhibit)
    story += markings(ctx, exhibit)
    story += attributions(ctx, exhibit)
    return story


def _section_heading(ctx: Context, key: str) -> list[Flowable]:
    return [CondPageBreak(30 * mm), TextLine([(ctx.labels[key], SANS_BOLD)], ctx.styles.h2)]


def custody(ctx: Context, exhibit: Exhibit) -> list[Flowable]:
    story = _section_heading(ctx, "custody_history")
    if not exhibit.custody:
        return [*story, Paragraph(ctx.label("no_custody"), ctx.styles.note)]
    widths = (30, 76, 96, 78)
    widths = (*widths, FRAME_WIDTH - sum(widths))
    story += data_tables(
        ctx,
        ("col_seq", "col_time", "col_event", "col_actor", "col_details"),
        (
            (
                f"#{row.sequence}",
                format_datetime(row.occurred_at, ctx.language, short=True, utc_suffix=False),
                row.event,
                row.actor,
                row.details,
            )
            for row in exhibit.custody
        ),
        widths,
    )
    return story


def photos(ctx: Context, exhibit: Exhibit) -> list[Flowable]:
    styles = ctx.styles
    story = _section_heading(ctx, "photos")
    total = len(exhibit.photos)
    if not total:
        return [*story, Paragraph(ctx.label("no_photos"), styles.note)]
    if not ctx.data.include_photos:
        story.append(Paragraph(ctx.label("photos_omitted"), styles.note))
    for index, photo in enumerate(exhibit.photos, start=1):
        caption = photo_caption(ctx, exhibit, photo, index, total)
        picture = _preview(photo) if ctx.data.include_photos else None
        story.append(PhotoBlock(picture, caption, space_before=(3 if picture else 2) * mm))
    return story


class PhotoBlock(Flowable):
    """A photograph (or none) with its caption lines, never split across pages.

    One flowable per photo rather than a KeepTogether of six: KeepTogether copies the frame each
    time it measures its content, which adds up over hundreds of photos.
    """

    def __init__(self, picture: Picture | None, captions: list[TextLine], *, space_before: float) -> None:
        super().__init__()
        self.picture = picture
        self.captions = captions
        self.spaceBefore = space_before
        self.gap = 2 if picture is not None else 0
        self.caption_heights: list[float] = []

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.caption_heights = [caption.wrap(available_width, available_height)[1] for caption in self.captions]
        picture_height = self.picture.draw_height if self.picture is not None else 0
        self.width, self.height = available_width, picture_height + self.gap + sum(self.caption_heights)
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        return []

    def draw(self) -> None:
        y = self.height
        if self.picture is not None:
            y -= self.picture.draw_height
            self.picture.drawOn(self.canv, 0, y)
            y -= self.gap
        for caption, height in zip(self.captions, self.caption_heights, strict=True):
            y -= height
            caption.drawOn(self.canv, 0, y)


def _preview(photo: PhotoRow) -> Picture | None:
    path = photo.preview_path
    if path is None or not path.is_file():
        return None
    size = (photo.preview_width, photo.preview_height) if photo.preview_width and photo.preview_height else None
    return Picture(path, size, FRAME_WIDTH, PHOTO_MAX_HEIGHT)


def photo_caption(ctx: Context, exhibit: Exhibit, photo: PhotoRow, index: int, total: int) -> list[Flowable]:
    """Three lines under a photo: exhibit, number and file name; the original's SHA-256; EXIF."""
    styles, labels = ctx.styles, ctx.labels
    where = labels["photo_of"].format(n=index, total=total)
    first: list[tuple[str, str]] = [(exhibit.number, SANS_BOLD), (f" · {labels['photo']} {where}", SANS)]
    if photo.original_name:
        first.append((f" · {labels['original_name']}: {photo.original_name}", SANS))
    digest = [(f"{labels['sha256_original']}: ", SANS), (photo.sha256, MONO)]
    exif = [(f"{labels['exif']}: {photo.exif_summary or labels['no_exif']}", SANS)]
    return [TextLine(first, styles.caption), TextLine(digest, styles.caption), TextLine(exif, styles.caption)]


def markings(ctx: Context, exhibit: Exhibit) -> list[Flowable]:
    if not exhibit.markings:
        return []
    story = _section_heading(ctx, "markings")
    widths = (CROP_WIDTH + 8, FRAME_WIDTH - CROP_WIDTH - 8)
    rows = [(_crop(ctx, marking), _marking_text(ctx, marking, widths[1])) for marking in exhibit.markings]
    # The exhibit's heading goes with the table onto every page it runs onto.
    title = f"{ctx.labels['exhibit']} {exhibit.number} · {exhibit.title}".strip(" ·")
    story += data_tables(ctx, ("col_crop", "col_transcription"), rows, widths, title=title)
    return story


def plan_crops(ctx: Context) -> None:
    """Decide every marking's crop up front: a clipped view of the embedded preview when the photos are
    in the dossier, else a file (box, size) for the side job to make.

    Only the previews' headers are read here; the side job decodes them.
    """
    sizes: dict[Path, tuple[int, int] | None] = {}
    for exhibit in ctx.data.exhibits:
        for marking in exhibit.markings:
            preview, region = marking.preview_path, marking.region_on_preview
            geometry = None
            if preview is not None and region is not None:
                if preview not in sizes:
                    try:
                        sizes[preview] = image_size(preview)
                    except (OSError, ValueError):
                        sizes[preview] = None
                if sizes[preview] is not None:
                    geometry = crop_geometry(sizes[preview], region)
            if geometry is None:
                ctx.crops[id(marking)] = None
                continue
            if ctx.data.include_photos:  # the preview is in the PDF already: show a clipped view of it
                ctx.crops[id(marking)] = ClippedPicture(preview, sizes[preview], geometry, CROP_WIDTH, CROP_HEIGHT)
                continue
            out = ctx.temp_path(".jpg")
            ctx.crops[id(marking)] = (out, geometry.size)
            ctx.crop_spec.append(
                {
                    "preview": str(preview),
                    "box": geometry.box,
                    "region": geometry.region,
                    "size": geometry.size,
                    "out": str(out),
                }
            )


def _crop(ctx: Context, marking: MarkingRow) -> Any:
    planned = ctx.crops.get(id(marking))
    if planned is None:
        return Paragraph(ctx.label("no_region"), ctx.styles.caption)
    if isinstance(planned, ClippedPicture):
        return planned
    path, size = planned

    def resolve() -> Path:
        ctx.side.wait()
        return path

    return PendingPicture(path.stem, resolve, size, CROP_WIDTH, CROP_HEIGHT, frame=True)


def _marking_photo(ctx: Context, marking: MarkingRow) -> list[Flowable]:
    """Which photograph the crop is cut from: its number and file name, and its original's SHA-256."""
    if not marking.photo_sha256:
        return []
    styles, labels = ctx.styles, ctx.labels
    which = f"{labels['photo']}"
    if marking.photo_index:
        which += " " + labels["photo_of"].format(n=marking.photo_index, total=marking.photo_count)
    if marking.photo_name:
        which += f" · {labels['original_name']}: {marking.photo_name}"
    digest = [(f"{labels['sha256_original']}: ", SANS), (marking.photo_sha256, MONO)]
    return [TextLine([(which, SANS)], styles.caption), TextLine(digest, styles.caption)]


def _marking_text(ctx: Context, marking: MarkingRow, width: float) -> list[Flowable] | Continued:
    """The transcription with its details; a long transcription in pieces, one per row, details last."""
    styles, labels = ctx.styles, ctx.labels
    details = " · ".join(
        [
            f"{labels['col_marking_type']}: {marking.marking_type or DASH}",
            f"{labels['col_confidence']}: {marking.confidence or DASH}",
            f"{labels['col_verified_by']}: {marking.verified_by or labels['not_verified']}",
        ]
    )
    flowables: list[Flowable] = [TextLine([(details, SANS)], styles.caption)]
    flowables += _marking_photo(ctx, marking)
    if marking.interpretation:
        flowables.append(TextLine([(f"{labels['col_interpretation']}: {marking.interpretation}", SANS)], styles.cell))
    style = styles.transcription
    pieces = chunk_text(marking.transcription, chars_per_row(width, style.fontSize, PARAGRAPH_LINES), PARAGRAPH_LINES)
    if len(pieces) == 1:
        return [TextLine([(marking.transcription or DASH, SANS)], style), *flowables]
    return Continued([*([para(piece, style)] for piece in pieces[:-1]), [para(pieces[-1], style), *flowables]])


def attributions(ctx: Context, exhibit: Exhibit) -> list[Flowable]:
    if not exhibit.attributions:
        return []
    story = _section_heading(ctx, "attributions")
    widths = (40, 62, 0, 140)
    widths = (widths[0], widths[1], FRAME_WIDTH - sum(widths), widths[3])

    def source(row: Any) -> str:
        return f"{row.source_title}\n{row.locator}" if row.locator else row.source_title

    def claim(row: Any) -> str:
        # About one of the exhibit's markings: say which.
        return f"{row.subject}: {row.claim}" if row.subject and not row.subject.endswith(exhibit.number) else row.claim

    story += data_tables(
        ctx,
        ("col_grade", "col_stance", "col_claim", "col_source"),
        ((row.grade, stance_cell(ctx, row), claim(row), source(row)) for row in exhibit.attributions),
        widths,
        fonts={0: (SANS_BOLD, 7.5)},
    )
    return story
