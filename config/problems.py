"""Domain errors and their translation into RFC 9457 problem details.

Services raise the errors defined here (or subclasses in each app's ``errors``
module); one exception handler turns them, Django's and DRF's own errors into
``application/problem+json`` bodies with a stable ``code``. Views never build error
bodies by hand.
"""

from typing import Any

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"


class DomainError(Exception):
    """A refused use case; ``code`` is what clients branch on."""

    status: int = status.HTTP_400_BAD_REQUEST
    code = "invalid"
    title = _("The request cannot be carried out.")

    def __init__(self, detail: str | None = None) -> None:
        self.detail = str(detail) if detail is not None else str(self.title)
        super().__init__(self.detail)


class NotFoundError(DomainError):
    status = status.HTTP_404_NOT_FOUND
    code = "not_found"
    title = _("Not found.")


class ConflictError(DomainError):
    status = status.HTTP_409_CONFLICT
    code = "conflict"
    title = _("The request conflicts with the current state.")


class RequestTooLarge(exceptions.APIException):
    """A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``: 413, not a generic 400."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "too_large"


_DRF_CODES = {
    exceptions.ValidationError: "invalid",
    exceptions.ParseError: "invalid",
    exceptions.NotFound: "not_found",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    RequestTooLarge: "too_large",
}
# DRF's default messages of these carry placeholders ("Method \"{method}\" not
# allowed."): their title is the filled-in detail instead.
_TITLED_BY_DETAIL = (exceptions.MethodNotAllowed, exceptions.UnsupportedMediaType)


def problem(
    *, status_code: int, code: str, title: str, detail: str, **extra: Any
) -> dict[str, Any]:
    """The body of an RFC 9457 problem details document."""
    return {
        "type": "about:blank",
        "status": status_code,
        "code": code,
        "title": title,
        "detail": detail,
        **extra,
    }


def _field_errors(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        errors: dict[str, list[str]] = {}
        for field, messages in detail.items():
            if isinstance(messages, dict):
                for sub, sub_messages in _field_errors(messages).items():
                    errors[f"{field}.{sub}"] = sub_messages
            elif isinstance(messages, list):
                errors[str(field)] = [str(m) for m in messages]
            else:
                errors[str(field)] = [str(messages)]
        return errors
    if isinstance(detail, list):
        return {"non_field_errors": [str(m) for m in detail]}
    return {"non_field_errors": [str(detail)]}


def problem_exception_handler(
    exc: Exception, context: dict[str, Any]
) -> Response | None:
    """DRF's ``EXCEPTION_HANDLER``: every error leaves as problem JSON."""
    if isinstance(exc, DomainError):
        body = problem(
            status_code=exc.status,
            code=exc.code,
            title=str(exc.title),
            detail=exc.detail,
        )
        return Response(body, status=exc.status, content_type=PROBLEM_CONTENT_TYPE)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response

    code = next(
        (c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)),
        exc.default_code if isinstance(exc.default_code, str) else "error",
    )
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        title = str(_("The submitted data is not valid."))
        extra["errors"] = _field_errors(exc.detail)
        detail = " ".join(
            f"{field}: {' '.join(messages)}"
            for field, messages in extra["errors"].items()
        )
    else:
        title = str(exc.default_detail)
        detail = str(exc.detail) if not isinstance(exc.detail, dict | list) else title
        if isinstance(exc, _TITLED_BY_DETAIL) or "{" in title:
            title = detail
    response.data = problem(
        status_code=response.status_code, code=code, title=title, detail=detail, **extra
    )
    response.content_type = PROBLEM_CONTENT_TYPE
    return response
