"""ReportLab plumbing for large documents: a streaming writer, lazy JPEGs, lazy sections, page totals.

ReportLab keeps every object of a document in memory until it saves, then joins the whole file
into one bytes object before writing it. For a dossier with hundreds of photographs that would
hold every JPEG two or three times over. Here instead:

- a JPEG is registered from its header alone and its bytes are read from its file only while
  the PDF is being written (they go into the PDF unchanged: a DCTDecode stream);
- the document writes each object to the output as it is formatted instead of collecting them;
- the story holds Deferred placeholders, expanded into flowables only when layout reaches them,
  so an exhibit's tables and crops exist only while its pages are laid out;
- "page N of M" draws M from a form XObject defined once the page count is known (one pass).

Tested against reportlab 5.1 (the format loop below follows PDFDocument.format of that version).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO

from PIL import Image as PILImage
from reportlab import rl_config
from reportlab.lib.utils import ImageReader, _digester
from reportlab.pdfbase import pdfdoc, pdfutils
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable
from reportlab.platypus.doctemplate import BaseDocTemplate

from evidence.export.pdf.text import GREY, SANS

# JPEG bytes go into the PDF as they are (DCTDecode), not ASCII85-encoded.
rl_config.useA85 = 0

PAGE_TOTAL_FORM = "attestPageTotal"


class _LazyJPEG(pdfdoc.PDFImageXObject):
    """A JPEG image XObject whose bytes are read from its file when the PDF is written."""

    path: str
    length: int

    def format(self, document: Any) -> bytes:
        with open(self.path, "rb") as source:
            content = source.read()
        if len(content) != self.length:
            raise RuntimeError(f"{self.path} changed while the dossier was being written")
        self.streamContent = content
        try:
            return super().format(document)
        finally:
            self.streamContent = b""


class _PendingRaster(pdfdoc.PDFImageXObject):
    """An image XObject whose file is made while the document is laid out and read when it is written."""

    resolve: Callable[[], str]

    def format(self, document: Any) -> bytes:
        path = self.resolve()
        if os.path.isfile(path):
            self.loadImageFromSRC(ImageReader(path))
        else:  # it could not be made: a grey box says so rather than failing the whole document
            self.loadImageFromSRC(ImageReader(PILImage.new("RGB", (1, 1), (200, 200, 200))))
        try:
            return super().format(document)
        finally:
            self.streamContent = b""


class _SinkFile(pdfdoc.PDFFile):
    """PDFFile that writes each piece to the output at once instead of keeping it."""

    def __init__(self, sink: BinaryIO, pdf_version: Any) -> None:
        super().__init__(pdf_version)
        for piece in self.strings:
            sink.write(piece)
        self.strings = []
        self.write = sink.write

    def format(self, document: Any) -> bytes:
        return b""


class _StreamingDocument(pdfdoc.PDFDocument):
    """PDFDocument whose save writes objects one by one to the output."""

    _sink: BinaryIO | None = None

    def SaveToFile(self, filename: Any, canvas: Any) -> None:
        if getattr(self, "_savedToFile", False):
            raise RuntimeError("a document can be saved only once")
        self._savedToFile = True
        if hasattr(filename, "write"):
            sink, close = filename, False
        else:
            sink, close = open(filename, "wb"), True  # noqa: SIM115 (closed below)
        try:
            self._sink = sink
            self.GetPDFData(canvas)
        finally:
            self._sink = None
            if close:
                sink.close()

    def format(self) -> bytes:
        if self._sink is None:
            return super().format()
        self.encrypt.prepare(self)
        catalog, info = self.Catalog, self.info
        self.Reference(catalog)
        self.Reference(info)
        encrypt_info = self.encrypt.info()
        encrypt_ref = self.Reference(encrypt_info) if encrypt_info else None
        ids = []
        number_to_id = self.numberToId
        id_to_object = self.idToObject
        id_to_offset = self.idToOffset
        self.__accum__ = out = _SinkFile(self._sink, self._pdfVersion)

        def emit(oid: Any) -> None:
            id_to_offset[oid] = out.add(pdfdoc.PDFIndirectObject(oid, id_to_object[oid]).format(self))

        # Objects in number order (formatting may add new ones), except pictures still being made
        # beside the layout: they go last, so that everything else is written while they are made.
        counter = 0
        pending: list[Any] = []
        while True:
            counter += 1
            if counter in number_to_id:
                oid = number_to_id[counter]
                ids.append(oid)
                if isinstance(id_to_object[oid], _PendingRaster):
                    pending.append(oid)
                else:
                    emit(oid)
                continue
            if not pending:
                break
            counter -= 1
            for oid in pending:
                emit(oid)
            pending = []
        del self.__accum__
        if len(ids) != len(number_to_id):
            raise ValueError(f"{len(ids)} objects written of {len(number_to_id)}")
        xref = pdfdoc.PDFCrossReferenceTable()
        xref.addsection(0, ids)
        xref_offset = out.add(xref.format(self))
        trailer = pdfdoc.PDFTrailer(
            startxref=xref_offset,
            Size=len(number_to_id) + 1,
            Root=self.Reference(catalog),
            Info=self.Reference(info),
            Encrypt=encrypt_ref,
            ID=self.ID(),
        )
        out.add(trailer.format(self))
        return b""


class DossierCanvas(Canvas):
    """Canvas with the streaming document, lazy JPEGs and a page-total form drawn at save."""

    total_font: tuple[str, float] = (SANS, 7)
    total_color: Any = GREY

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not kwargs.get("initialFontName"):
            kwargs["initialFontName"] = SANS
        super().__init__(*args, **kwargs)
        self._doc.__class__ = _StreamingDocument

    def draw_jpeg(self, path: str, x: float, y: float, width: float, height: float) -> None:
        """Draw a JPEG file as it is (DCTDecode): only its header is read now, its bytes when the PDF is written.

        ReportLab's drawImage would read the whole file now and keep it until the end.
        """
        name = "jpeg" + _digester(path.encode())
        registered = self._doc.getXObjectName(name)
        if registered not in self._doc.idToObject:
            try:
                with open(path, "rb") as source:
                    width_px, height_px, components = pdfutils.readJPEGInfo(source)[:3]
                    length = os.fstat(source.fileno()).st_size
            except Exception:  # not a JPEG ReportLab understands: let drawImage deal with it
                self.drawImage(path, x, y, width, height)
                return
            image = _LazyJPEG(name)
            image.path, image.length = path, length
            image.width, image.height, image.bitsPerComponent = width_px, height_px, 8
            image.colorSpace = {1: "DeviceGray", 3: "DeviceRGB"}.get(components, "DeviceCMYK")
            if components == 4:
                image._dotrans = 1  # Adobe CMYK JPEGs are inverted (as ReportLab does)
            image._filters = ("DCTDecode",)
            image.mask = None
            image.streamContent = b""
            self._doc.Reference(image, registered)
            self._doc.addForm(name, image)
        self._draw_xobject(name, registered, x, y, width, height)

    def _draw_xobject(self, name: str, registered: str, x: float, y: float, width: float, height: float) -> None:
        self.saveState()
        self.translate(x, y)
        self.scale(width, height)
        self._code.append(f"/{registered} Do")
        self.restoreState()
        self._formsinuse.append(name)

    def draw_pending_image(
        self, key: str, resolve: Callable[[], str], x: float, y: float, width: float, height: float
    ) -> None:
        """Draw an image whose file may not exist yet: resolve() returns its path when the PDF is written."""
        name = f"pending{key}"
        registered = self._doc.getXObjectName(name)
        if registered not in self._doc.idToObject:
            image = _PendingRaster(name)
            image.resolve = resolve
            self._doc.Reference(image, registered)
            self._doc.addForm(name, image)
        self._draw_xobject(name, registered, x, y, width, height)

    def draw_page_total(self, x: float, y: float) -> None:
        """Draw the document's page count at (x, y), known only at save."""
        self.saveState()
        self.translate(x, y)
        self.doForm(PAGE_TOTAL_FORM)
        self.restoreState()

    def save(self) -> None:
        if len(self._code):
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
