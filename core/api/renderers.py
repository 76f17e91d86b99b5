"""The API's JSON renderer: DRF's output, encoded by orjson where that gives the same document."""

import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

# Dates and times go to DRF's encoder (it writes UTC as "Z"); dataclasses too (DRF does not encode
# them). Keys that are not strings are written as json.dumps writes them.
OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
LINE_SEPARATORS = (("\u2028".encode(), b"\\u2028"), ("\u2029".encode(), b"\\u2029"))
DRF_DEFAULT = JSONEncoder().default  # holds no state


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSONRenderer, a tenth of its cost on a page of 50 incidents (bench/bench_api.py --profile).

    Compact, unescaped UTF-8 (the settings DRF defaults to) is encoded by orjson; other types are
    passed to DRF's encoder. Anything else, an indented document for the browsable API, or a value
    orjson refuses (an integer beyond 64 bits, a lone surrogate) is DRF's own rendering. One
    difference: orjson writes NaN and infinities as null, where DRF's strict encoder raises.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if (
            data is None
            or self.ensure_ascii
            or not self.compact
            or self.get_indent(accepted_media_type, renderer_context or {}) is not None
        ):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            encoded = orjson.dumps(data, default=DRF_DEFAULT, option=OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF: escaped, so the document is also valid JavaScript.
        for raw, escaped in LINE_SEPARATORS:
            if raw in encoded:
                encoded = encoded.replace(raw, escaped)
        return encoded
