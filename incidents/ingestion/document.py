"""
What one push of alerts holds: the JSON body as a list of alert payloads, within the limits, whatever carried it (the
REST API today; connectors and imports call the same). A body that is not alerts is refused whole, with a message
for the sender; the alerts themselves are checked one by one afterwards (parse.parse_alert).
"""

import json

from django.conf import settings

__all__ = ("DocumentRefused", "alert_payloads", "too_large_body")


class DocumentRefused(ValueError):
    """The body is not a push of alerts, or too large for one (`too_large`: 413 rather than 400 over HTTP)."""

    def __init__(self, message: str, *, too_large: bool = False):
        super().__init__(message)
        self.too_large = too_large


def _refuse_constant(name: str):
    # NaN and Infinity are not JSON and PostgreSQL's jsonb cannot store them.
    raise ValueError(f"{name} is not a JSON value")


def too_large_body() -> DocumentRefused:
    limit = settings.INGEST_MAX_BODY_BYTES
    return DocumentRefused(f"The body is larger than {limit} bytes; send fewer alerts per request.", too_large=True)


def alert_payloads(body: bytes) -> list:
    """
    One alert (an object), a list of alerts, or a Graph page {"value": [...]}, as the list of payloads it holds, at
    most INGEST_MAX_ALERTS of them in at most INGEST_MAX_BODY_BYTES; DocumentRefused otherwise.
    """
    if len(body) > settings.INGEST_MAX_BODY_BYTES:
        raise too_large_body()
    try:
        document = json.loads(body, parse_constant=_refuse_constant)
    except RecursionError as error:
        raise DocumentRefused("The body is nested too deeply to be alerts.") from error
    except (UnicodeDecodeError, ValueError) as error:
        raise DocumentRefused(f"The body is not valid JSON: {error}.") from error
    if isinstance(document, list):
        payloads = document
    elif isinstance(document, dict) and {key for key in document if not key.startswith("@odata.")} == {"value"}:
        payloads = document["value"]
        if not isinstance(payloads, list):
            raise DocumentRefused('"value" must be a list of alerts.')
    elif isinstance(document, dict):
        payloads = [document]
    else:
        raise DocumentRefused('Send one alert (an object), a list of alerts, or a Graph page {"value": [...]}.')
    if len(payloads) > settings.INGEST_MAX_ALERTS:
        raise DocumentRefused(
            f"{len(payloads)} alerts in one request; at most {settings.INGEST_MAX_ALERTS} are accepted.", too_large=True
        )
    return payloads
