"""Serving evidence files: only after a case-access check, never from a public URL.

With ATTEST_X_ACCEL_REDIRECT_PREFIX set, nginx sends the bytes (X-Accel-Redirect to an internal
location: an alias of MEDIA_ROOT, or a proxy to the bucket); otherwise the view streams the file
itself, from disk or from the bucket.
"""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext

from evidence import filestore
from evidence.lib.filenames import download_name

# A downloaded file must never run as a page of this site, whatever its bytes claim to be.
SAFE_FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


def file_response(
    request, obj, relative_path: str, *, filename: str, content_type: str, inline: bool = False
) -> HttpResponse:
    """The file as an attachment, after the caller checked access to `obj`; logged as a download.

    `inline` shows it in the browser instead (an image opened to be looked at) and logs a view: the
    caller must give a content type the browser may render, which nosniff then holds it to."""
    from cases.audit import mark
    from cases.choices import AccessAction

    prefix = settings.ATTEST_X_ACCEL_REDIRECT_PREFIX
    try:
        if prefix:
            response = HttpResponse(content_type=content_type)
            response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + relative_path
            response["Content-Length"] = str(filestore.stored_size(relative_path))
        else:
            response = FileResponse(filestore.open_stored(relative_path), content_type=content_type)
    except FileNotFoundError:
        raise Http404(gettext("The file is not available.")) from None
    response["Content-Disposition"] = content_disposition(filename, inline=inline)
    for name, value in SAFE_FILE_HEADERS.items():
        response[name] = value
    mark(getattr(request, "_request", request), obj, AccessAction.VIEW if inline else AccessAction.DOWNLOAD)
    return response


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """The Content-Disposition of every download: `filename` made one harmless name (download_name)."""
    return content_disposition_header(as_attachment=not inline, filename=download_name(filename))
