"""Serving evidence files: only after a case-access check, never from a public URL.

With ATTEST_X_ACCEL_REDIRECT_PREFIX set, nginx sends the bytes (X-Accel-Redirect to an internal
location); otherwise the view streams the file itself.
"""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext

from evidence import filestore

# A downloaded file must never run as a page of this site, whatever its bytes claim to be.
SAFE_FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


def file_response(request, obj, relative_path: str, *, filename: str, content_type: str) -> HttpResponse:
    """The file as an attachment, after the caller checked access to `obj`; logged as a download."""
    from evidence.audit import mark
    from evidence.choices import AccessAction

    path = filestore.absolute(relative_path)
    if not path.is_file():
        raise Http404(gettext("The file is not available."))
    prefix = settings.ATTEST_X_ACCEL_REDIRECT_PREFIX
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + relative_path
        response["Content-Length"] = str(path.stat().st_size)
    else:
        response = FileResponse(path.open("rb"), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    for name, value in SAFE_FILE_HEADERS.items():
        response[name] = value
    mark(getattr(request, "_request", request), obj, AccessAction.DOWNLOAD)
    return response
