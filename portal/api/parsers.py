"""The API's request bodies: JSON only, in both the native and the Graph-compatible API."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

__all__ = ("JSONParser",)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with a body nested deeper than Python's JSON parser goes refused as a 400, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("JSON parse error - the body is nested too deeply.") from error
