"""The files of a case's trace requests that its package ships, under their package paths: the letters
as issued and the answers received (each recorded by a trace.letter or trace.answered event)."""

from __future__ import annotations

from collections.abc import Iterator

from cases.models import Case
from evidence.export import layout
from evidence.models import StoredFile, TraceRequest, TraceResponse


def trace_files(case: Case) -> Iterator[tuple[StoredFile, str]]:
    letters = TraceRequest.objects.filter(case=case, letter__isnull=False).select_related("letter")
    for request in letters.order_by("pk"):
        yield request.letter, layout.letter_path(request.pk, request.letter.sha256)
    answers = TraceResponse.objects.filter(request__case=case, file__isnull=False).select_related("file")
    for response in answers.order_by("request_id", "pk"):
        yield response.file, layout.response_path(response.request_id, response.file.sha256, response.file_name)
