"""One error body for every API response: ``{"code", "message", "details"}``.

Domain errors carry their own status and code; ninja's validation and HTTP errors, Django's
404/403/suspicious-request exceptions and anything unexpected are mapped here, so a client never
sees an HTML page or ninja's default ``{"detail": ...}``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from trustdesk.core.errors import DomainError

logger = logging.getLogger(__name__)

# Path segments of the operations whose request bodies carry attachments.
_ATTACHMENT_PATHS = ("/tickets", "/messages")


def error_body(
    code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return body


# The names our operations give their schema parameters: not part of what the client sent.
_PARAM_NAMES = frozenset({"payload", "filters", "page", "params"})


def validation_details(errors: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic errors as ``{"field", "message", "code"}``, the field a dotted path (or None).

    ``loc`` is (source, [schema parameter,] *path); pydantic adds tags such as ``literal[...]``
    for the branches of a union, which we drop, keeping one error per field and message.
    """
    details: list[dict[str, Any]] = []
    seen: set[tuple[str | None, str]] = set()
    for error in errors:
        parts = [str(part) for part in error.get("loc", ())][1:]
        if parts and parts[0] in _PARAM_NAMES:
            parts = parts[1:]
        field = ".".join(part for part in parts if "[" not in part) or None
        message = str(error.get("msg", ""))
        if (field, message) in seen:
            continue
        seen.add((field, message))
        details.append({"field": field, "message": message, "code": str(error.get("type", ""))})
    return details


def install_error_handlers(api: NinjaAPI) -> None:
    def respond(
        request: HttpRequest,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
    ) -> HttpResponse:
        return api.create_response(request, error_body(code, message, details), status=status)

    @api.exception_handler(DomainError)
    def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        details = [{"field": exc.field, "message": exc.message, "code": exc.code}]
        return respond(request, exc.status, exc.code, exc.message, details if exc.field else None)

    @api.exception_handler(ValidationError)
    def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return respond(
            request,
            422,
            "validation_error",
            _("The request is not valid; see details."),
            validation_details(exc.errors),
        )

    @api.exception_handler(AuthenticationError)
    def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = respond(
            request,
            401,
            "unauthorized",
            _("A valid API token is required: send the header Authorization: Bearer <token>."),
        )
        response["WWW-Authenticate"] = 'Bearer realm="trustdesk"'
        return response

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, RequestDataTooBig):
            return too_big(request)
        if isinstance(exc.__cause__, ValueError):  # json.JSONDecodeError, UnicodeDecodeError
            return respond(request, 400, "invalid_json", _("The request body is not valid JSON."))
        codes = {400: "bad_request", 403: "forbidden", 404: "not_found", 429: "throttled"}
        return respond(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc))

    def too_big(request: HttpRequest) -> HttpResponse:
        carries_files = request.method == "POST" and request.path.endswith(_ATTACHMENT_PATHS)
        return respond(
            request,
            413,
            "attachment_too_large" if carries_files else "request_too_large",
            _("The request body is too large; send smaller or fewer attachments."),
        )

    @api.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, "not_found", _("Not found."))

    @api.exception_handler(DjangoPermissionDenied)
    def on_forbidden(request: HttpRequest, exc: DjangoPermissionDenied) -> HttpResponse:
        return respond(request, 403, "forbidden", _("You are not allowed to do that."))

    @api.exception_handler(SuspiciousOperation)
    def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        if isinstance(exc, RequestDataTooBig):
            return too_big(request)
        return respond(request, 400, "bad_request", _("The request was refused."))

    @api.exception_handler(Exception)
    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("Unhandled error in %s %s", request.method, request.path)
        return respond(request, 500, "server_error", _("Something went wrong on our side."))


__all__ = ["error_body", "install_error_handlers", "validation_details"]
