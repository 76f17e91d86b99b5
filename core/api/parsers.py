"""The API's JSON parser: DRF's, with a nesting limit (see core.json_depth)."""

from __future__ import annotations

import io

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from core.json_depth import MAX_DEPTH, TOO_DEEP, nested_deeper_than


class JSONParser(parsers.JSONParser):
    """Refuses JSON nested deeper than MAX_DEPTH with a 400 (json would raise RecursionError, a 500)."""

    max_depth = MAX_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read()  # DATA_UPLOAD_MAX_MEMORY_SIZE bounds what reaches here
        if nested_deeper_than(data, self.max_depth):
            raise ParseError(TOO_DEEP % {"limit": self.max_depth})
        return super().parse(io.BytesIO(data), media_type, parser_context)
