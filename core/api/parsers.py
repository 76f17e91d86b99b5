"""The API's parsers: DRF's JSON parser with a nesting limit (see core.json_depth), and its multipart
parser refusing a body of which no part has a name."""

from __future__ import annotations

import codecs
import io

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from core.json_depth import MAX_DEPTH, TOO_DEEP, nested_deeper_than


class JSONParser(parsers.JSONParser):
    """Refuses JSON nested deeper than MAX_DEPTH with a 400 (json would raise RecursionError, a 500)."""

    max_depth = MAX_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read()  # DATA_UPLOAD_MAX_MEMORY_SIZE bounds what reaches here
        # DRF decodes the body in the charset the request names: brackets are counted in that text,
        # or a body in EBCDIC (cp500), whose brackets are other bytes, passed the count.
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        text: bytes | str = data
        if codecs.lookup(encoding).name != "utf-8":  # Django keeps only a charset Python knows
            try:
                text = data.decode(encoding)
            except LookupError:  # a codec, but not of text (zlib, base64, rot13)
                raise ParseError(f'Unsupported charset "{encoding}"') from None
            except ValueError:  # UnicodeDecodeError, or a decoder's own UnicodeError (punycode)
                raise ParseError(f"JSON parse error - the body is not text in its charset ({encoding}).") from None
        if nested_deeper_than(text, self.max_depth):
            raise ParseError(TOO_DEEP % {"limit": self.max_depth})
        return super().parse(io.BytesIO(data), media_type, parser_context)


# What a multipart body of no parts holds: "--" boundary "--" CRLF (and, from some clients, one CRLF
# before it). A longer body from which no named value came held parts without a name.
EMPTY_MULTIPART_SLACK = 8


class MultiPartParser(parsers.MultiPartParser):
    """DRF's, refusing with a 400 a body that has parts of which none could be read.

    Django skips a part without a Content-Disposition name (or a file part without a file name).
    When every part is skipped, what arrives is an empty form, which a PUT or PATCH whose fields
    are all optional accepts as "no change" (the contract test's ST201: a body that is not an
    object accepted). A body of no parts at all is still an empty form, and a file dropped for its
    size is reported by the view."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        if parsed.data or parsed.files:
            return parsed
        request = (parser_context or {}).get("request")
        django_request = getattr(request, "_request", request)
        if getattr(django_request, "upload_too_large", None):
            return parsed
        meta = getattr(django_request, "META", {})
        try:
            length = int(meta.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        boundary = (media_type or "").partition("boundary=")[2].split(";")[0].strip().strip('"')
        if length > len(boundary) + len("----\r\n") + EMPTY_MULTIPART_SLACK:
            raise ParseError(
                "Multipart form parse error - no part of the body could be read: each needs a Content-Disposition "
                "header with a name, and a file part a file name."
            )
        return parsed
