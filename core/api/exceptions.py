"""One error format for every error: {"error": {"code", "message", "fields"}}.

DRF's views answer through exception_handler below; what DRF does not handle (an uncaught
exception, a path nothing matches) is answered in the same format by config.errors.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from core.api.renderers import JSONRenderer


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The object changed since you read it: fetch it again and reapply your change."
    default_code = "precondition_failed"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is larger than the %(limit)s bytes accepted; send files as uploads.")
    default_code = "request_too_large"


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _flatten(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _flatten(value)]
    return [str(detail)]


def _field_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """{"field": [...], "nested.field": [...]}; errors not about one field go under "non_field_errors"."""
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for name, value in detail.items():
            key = f"{prefix}{name}"
            if isinstance(value, dict) and value and all(isinstance(index, int) for index in value):
                # Errors of list items stay under the list's own name.
                fields[key] = [
                    f"item {index}: {message}" for index, item in value.items() for message in _flatten(item)
                ]
            elif isinstance(value, dict):
                fields.update(_field_errors(value, f"{key}."))
            else:
                fields[key] = _flatten(value)
    elif isinstance(detail, list) and any(isinstance(item, dict) for item in detail):
        for index, item in enumerate(detail):
            if item:
                fields.update(_field_errors(item, f"{prefix}{index}."))
    else:
        fields[prefix.rstrip(".") or "non_field_errors"] = _flatten(detail)
    return fields


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        # Raised when request.data reads a body over DATA_UPLOAD_MAX_MEMORY_SIZE; logged as Django would.
        request = getattr(context.get("request"), "_request", None)
        logging.getLogger("django.security.RequestDataTooBig").warning(
            str(exc), extra={"status_code": 413, "request": request}
        )
        exc = RequestTooLarge(RequestTooLarge.default_detail % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args[:1])
    response = drf_exception_handler(exc, context)
    if response is None:
        # Unexpected: DRF raises it again, Django logs it and config.errors.server_error answers a JSON
        # 500 without details (with DEBUG on, Django's debug page).
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _field_errors(exc.detail)
        described = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in fields.items())
        body = error_body("invalid", f"Invalid input. {described}", fields)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
        body = error_body(code, " ".join(_flatten(detail)))
    response.data = body
    answer_in_json(context.get("request"))
    return response


def answer_in_json(request) -> None:
    """Render this request's error as JSON, whatever its Accept header chose (the browsable API's HTML page,
    or drf-spectacular's Swagger and Redoc templates): docs/api.md promises one JSON shape for every error.

    DRF renders a response with the renderer content negotiation set on the request
    (`request.accepted_renderer`, set by DRF before a view runs, or by finalize_response after it)."""
    if request is not None:
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
