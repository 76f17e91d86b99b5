"""Adapter to ReportLab internals: the one module that reaches past ReportLab's public API.

Why: ReportLab keeps every object, JPEG bytes included, until save, then joins the file into one bytes
object. A 500-photo dossier must stay under 400 MB and within 1.5x of bare ReportLab
(bench/bench_dossier.py), so StreamingCanvas writes each object as it is formatted and reads a JPEG
from its file only then, bytes unchanged (DCTDecode). Written for reportlab WRITTEN_FOR; relies on
(RELIES_ON, pinned by tests/evidence/test_pdf_adapter.py):
- PDFDocument.format, copied into _StreamingDocument.format, with the document's numberToId,
  idToObject, idToOffset, Catalog, info, encrypt, _pdfVersion; SaveToFile (overridden), GetPDFData;
- PDFFile (subclassed to write through), PDFIndirectObject, PDFCrossReferenceTable, PDFTrailer;
- PDFImageXObject: its attributes and format (subclassed), loadImageFromSRC;
- Canvas._doc (its class swapped), PDFDocument.Reference and addForm (image XObjects), Canvas._code
  (a page in progress); pdfutils.readJPEGInfo (a JPEG's header).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any, BinaryIO

from PIL import Image as PILImage
from reportlab import rl_config
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfdoc, pdfutils
from reportlab.pdfgen.canvas import Canvas

WRITTEN_FOR = "5.1.0"

# The ReportLab code this module copies, overrides or depends on the inner workings of.
RELIES_ON = (
    "reportlab.pdfbase.pdfdoc.PDFDocument.__init__",
    "reportlab.pdfbase.pdfdoc.PDFDocument.format",
    "reportlab.pdfbase.pdfdoc.PDFDocument.SaveToFile",
    "reportlab.pdfbase.pdfdoc.PDFDocument.GetPDFData",
    "reportlab.pdfbase.pdfdoc.PDFDocument.Reference",
    "reportlab.pdfbase.pdfdoc.PDFDocument.addForm",
    "reportlab.pdfbase.pdfdoc.PDFFile",
    "reportlab.pdfbase.pdfdoc.PDFIndirectObject",
    "reportlab.pdfbase.pdfdoc.PDFCrossReferenceTable",
    "reportlab.pdfbase.pdfdoc.PDFTrailer",
    "reportlab.pdfbase.pdfdoc.PDFImageXObject.__init__",
    "reportlab.pdfbase.pdfdoc.PDFImageXObject.loadImageFromJPEG",
    "reportlab.pdfbase.pdfdoc.PDFImageXObject.loadImageFromSRC",
    "reportlab.pdfbase.pdfdoc.PDFImageXObject.format",
    "reportlab.pdfbase.pdfutils.readJPEGInfo",
    "reportlab.pdfgen.canvas.Canvas.__init__",
    "reportlab.pdfgen.canvas.Canvas.save",
)

# JPEG bytes go into the PDF as they are (DCTDecode), not ASCII85-encoded (a documented setting).
rl_config.useA85 = 0


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
        """PDFDocument.format (reportlab WRITTEN_FOR), writing each object to the sink as it is formatted."""
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


class StreamingCanvas(Canvas):
    """A Canvas whose save() streams the PDF to its output, with JPEG files and pending images drawn lazily."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._doc.__class__ = _StreamingDocument

    def draw_jpeg(self, path: str, x: float, y: float, width: float, height: float) -> None:
        """Draw a JPEG file as it is (DCTDecode): only its header is read now, its bytes when the PDF is written.

        ReportLab's drawImage would read the whole file now and keep it until the end.
        """
        # A name per file, as drawImage gives (MD5 as a key, not for security).
        name = "jpeg" + hashlib.md5(path.encode(), usedforsecurity=False).hexdigest()
        if not self.hasForm(name):
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
            self._register(name, image)
        self._draw_xobject(name, x, y, width, height)

    def draw_pending_image(
        self, key: str, resolve: Callable[[], str], x: float, y: float, width: float, height: float
    ) -> None:
        """Draw an image whose file may not exist yet: resolve() returns its path when the PDF is written."""
        name = f"pending{key}"
        if not self.hasForm(name):
            image = _PendingRaster(name)
            image.resolve = resolve
            self._register(name, image)
        self._draw_xobject(name, x, y, width, height)

    def page_in_progress(self) -> bool:
        """Whether anything was drawn since the last showPage (Canvas.save would show that page)."""
        return bool(self._code)

    def _register(self, name: str, image: pdfdoc.PDFImageXObject) -> None:
        self._doc.Reference(image, self._doc.getXObjectName(name))
        self._doc.addForm(name, image)

    def _draw_xobject(self, name: str, x: float, y: float, width: float, height: float) -> None:
        self.saveState()
        self.translate(x, y)
        self.scale(width, height)
        self.doForm(name)
        self.restoreState()
