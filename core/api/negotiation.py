"""Content negotiation for a list whose filters include one called `format`."""

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.settings import api_settings


class _WithoutFormatOverride:
    URL_FORMAT_OVERRIDE = None

    def __getattr__(self, name):
        return getattr(api_settings, name)


class FormatIsAFilter(DefaultContentNegotiation):
    """`?format=` is a filter of the view (photos by file format), not the format of the response.

    DRF's URL_FORMAT_OVERRIDE read `?format=jpeg` as a renderer to use, and answered 404 since none
    is called that: the filter could never be used. The Accept header still chooses the renderer.
    """

    settings = _WithoutFormatOverride()
