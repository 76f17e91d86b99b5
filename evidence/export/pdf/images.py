"""Pictures in the dossier: JPEG files embedded as they are, and crops that outline a marking.

A Picture is drawn from its file path, so ReportLab writes the JPEG's bytes into the PDF unchanged
(a DCTDecode stream) and never decodes it; with the streaming canvas (reportlab_adapter.py) the bytes are read
again only when the PDF is written, one image at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw
from reportlab.platypus import Flowable

from evidence.export.pdf.text import RULE

MARKING_OUTLINE = (214, 31, 31)
OUTLINE_HALO = (255, 255, 255)
CROP_MAX_PX = 720


def image_size(path: Path) -> tuple[int, int]:
    """Pixel size from the file's header (the image is not decoded)."""
    with Image.open(path) as image:
        return image.size


def fit(size: tuple[int, int], max_width: float, max_height: float) -> tuple[float, float]:
    width, height = size
    scale = min(max_width / width, max_height / height)
    return width * scale, height * scale


def draw_frame(canvas, width: float, height: float) -> None:
    """The hairline frame around a picture."""
    canvas.saveState()
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.4)
    canvas.rect(0, 0, width, height, stroke=1, fill=0)
    canvas.restoreState()


class Picture(Flowable):
    """An image file drawn at a fixed size, with a hairline frame."""

    def __init__(
        self,
        path: Path,
        size: tuple[int, int] | None,
        max_width: float,
        max_height: float,
        *,
        frame: bool = True,
        h_align: str = "LEFT",
    ) -> None:
        super().__init__()
        self.path = str(path)
        self.draw_width, self.draw_height = fit(size or image_size(path), max_width, max_height)
        self.frame = frame
        self.hAlign = h_align

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.draw_width, self.draw_height

    def draw(self) -> None:
        canvas = self.canv
        if hasattr(canvas, "draw_jpeg"):  # DossierCanvas: JPEGs passed through lazily (others: drawImage)
            canvas.draw_jpeg(self.path, 0, 0, self.draw_width, self.draw_height)
        else:
            canvas.drawImage(self.path, 0, 0, self.draw_width, self.draw_height)
        if self.frame:
            draw_frame(canvas, self.draw_width, self.draw_height)


class PendingPicture(Flowable):
    """A picture of known pixel size whose file is made beside the layout (a chart, a crop).

    resolve() returns the file's path once it exists; it is called when the PDF is written.
    """

    def __init__(
        self,
        key: str,
        resolve: Callable[[], Path],
        size: tuple[int, int],
        max_width: float,
        max_height: float,
        *,
        frame: bool = False,
    ) -> None:
        super().__init__()
        self.key = key
        self.resolve = resolve
        self.draw_width, self.draw_height = fit(size, max_width, max_height)
        self.frame = frame
        self.hAlign = "LEFT"

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.draw_width, self.draw_height

    def draw(self) -> None:
        canvas, resolve = self.canv, self.resolve
        canvas.draw_pending_image(self.key, lambda: str(resolve()), 0, 0, self.draw_width, self.draw_height)
        if self.frame:
            draw_frame(canvas, self.draw_width, self.draw_height)


class ClippedPicture(Flowable):
    """A marking on its photo, cut from the photo's preview by a clipping path, its region outlined in vector.

    The preview is the JPEG already embedded for the photo (the same PDF image, drawn again), so
    nothing is decoded, re-encoded or added to the file. Used only when the dossier includes the
    photos: without them, a clipped preview would still carry the whole photo (crops are made then).
    """

    def __init__(
        self, path: Path, preview_size: tuple[int, int], geometry: CropGeometry, max_width: float, max_height: float
    ) -> None:
        super().__init__()
        self.path = str(path)
        self.preview_size = preview_size
        self.geometry = geometry
        left, top, right, bottom = geometry.box
        self.draw_width, self.draw_height = fit((right - left, bottom - top), max_width, max_height)
        self.scale = self.draw_width / (right - left)
        self.hAlign = "LEFT"

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.draw_width, self.draw_height

    def draw(self) -> None:
        canvas, scale = self.canv, self.scale
        (width_px, height_px), (left, _top, _right, bottom) = self.preview_size, self.geometry.box
        canvas.saveState()
        clip = canvas.beginPath()
        clip.rect(0, 0, self.draw_width, self.draw_height)
        canvas.clipPath(clip, stroke=0, fill=0)
        # PDF's y axis points up: the preview's bottom edge lies (height - box bottom) pixels below the crop's.
        x, y = -left * scale, -(height_px - bottom) * scale
        if hasattr(canvas, "draw_jpeg"):
            canvas.draw_jpeg(self.path, x, y, width_px * scale, height_px * scale)
        else:
            canvas.drawImage(self.path, x, y, width_px * scale, height_px * scale)
        region_left, region_top, region_right, region_bottom = self.geometry.region
        outline = (
            (region_left - left) * scale,
            (bottom - region_bottom) * scale,
            (region_right - region_left) * scale,
            (region_bottom - region_top) * scale,
        )
        # Red on a white halo, as on the crops: visible on dark and on busy surfaces alike.
        for colour, line_width in ((OUTLINE_HALO, 3.0), (MARKING_OUTLINE, 1.4)):
            canvas.setStrokeColorRGB(*(channel / 255 for channel in colour))
            canvas.setLineWidth(line_width)
            canvas.rect(*outline, stroke=1, fill=0)
        canvas.restoreState()
        draw_frame(canvas, self.draw_width, self.draw_height)


@dataclass(frozen=True)
class CropGeometry:
    box: tuple[int, int, int, int]  # what is cut from the preview (left, top, right, bottom)
    region: tuple[int, int, int, int]  # the marking's rectangle, clamped to the preview (same form)
    size: tuple[int, int]  # the crop's pixel size as saved


def crop_geometry(preview_size: tuple[int, int], region: tuple[int, int, int, int]) -> CropGeometry | None:
    """Where a marking's crop comes from and how big it is; None when the region misses the preview."""
    image_width, image_height = preview_size
    x, y, width, height = (round(value) for value in region)
    left, top = max(0, x), max(0, y)
    right, bottom = min(image_width, x + max(1, width)), min(image_height, y + max(1, height))
    if right <= left or bottom <= top:
        return None
    margin = max(16, int(0.35 * max(right - left, bottom - top)))
    box = (
        max(0, left - margin),
        max(0, top - margin),
        min(image_width, right + margin),
        min(image_height, bottom + margin),
    )
    crop_width, crop_height = box[2] - box[0], box[3] - box[1]
    scale = min(1.0, CROP_MAX_PX / max(crop_width, crop_height))
    size = (max(1, round(crop_width * scale)), max(1, round(crop_height * scale)))
    return CropGeometry(box, (left, top, right, bottom), size)


def marking_crop(preview: Path | Image.Image, geometry: CropGeometry, out: Path) -> None:
    """Cut the geometry's box from an upright preview (a JPEG file or its decoded image), outline the
    marking, save the crop as a JPEG."""
    box, (left, top, right, bottom) = geometry.box, geometry.region
    if isinstance(preview, Image.Image):
        crop = preview.crop(box)
    else:
        with Image.open(preview) as image:
            crop = image.crop(box)
    if crop.mode != "RGB":
        crop = crop.convert("RGB")
    line = max(2, round(max(crop.size) / 160))
    draw = ImageDraw.Draw(crop)
    # Red on a white halo: visible on dark and on busy surfaces alike.
    for colour, offset in ((OUTLINE_HALO, 2 * line), (MARKING_OUTLINE, line)):
        draw.rectangle(
            (left - box[0] - offset, top - box[1] - offset, right - box[0] + offset - 1, bottom - box[1] + offset - 1),
            outline=colour,
            width=line,
        )
    if crop.size != geometry.size:
        crop = crop.resize(geometry.size, Image.Resampling.LANCZOS)
    crop.save(out, "JPEG", quality=90)
