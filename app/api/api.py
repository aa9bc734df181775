"""The NinjaAPI object: authentication, the body parser and the error handlers shared by every route.

Routes live in ``app/api/routes/``, one module per room they serve; each calls the same services and
selectors the web views call, so isolation, roles and audit rules are the web's.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError

from app.api.http import ApiError, BearerToken, JsonParser, body_too_large, not_found_error

log = logging.getLogger(__name__)


class JiumApi(NinjaAPI):
    def get_content_type(self) -> str:
        return "application/json"  # JSON is UTF-8 by definition (RFC 8259): no charset parameter


api = JiumApi(
    title="Jium API",
    version="1",
    description=(
        "Everything a caseworker can do in Jium, for an organisation's own systems. "
        "Authenticate with `Authorization: Bearer <token>` (an organisation admin or caseworker's "
        'token). Errors are always `{"error": {"code", "message", "fields"?}}`; the message '
        "follows `Accept-Language` (en, ko)."
    ),
    urls_namespace="api",
    auth=BearerToken(),
    parser=JsonParser(),
    docs_url=None,  # served by our own view, for logged-in staff only (see urls.py)
)


def _field_message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("Unknown field.")
    if kind in ("string_type", "string_unicode"):
        return _("Must be text.")
    if kind == "list_type":
        return _("Must be a list.")
    if kind in ("int_type", "int_parsing", "int_from_float", "int_parsing_size"):
        return _("Must be a whole number.")
    if kind in ("bool_type", "bool_parsing"):
        return _("Must be true or false.")
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return _("Out of range.")
    if kind == "string_too_long":
        return _("Too long (at most %(max)s characters).") % {"max": ctx.get("max_length", "?")}
    if kind == "string_too_short":
        return _("This field is required.")
    if kind == "too_short":
        return _("Give at least %(n)s.") % {"n": ctx.get("min_length", 1)}
    if kind == "too_long":
        return _("At most %(max)s at a time; you sent %(n)s.") % {
            "max": ctx.get("max_length", "?"),
            "n": ctx.get("actual_length", "?"),
        }
    if kind in ("enum", "literal_error"):
        return _("Not one of the allowed values: %(values)s.") % {"values": ctx.get("expected", "")}
    if kind in ("datetime_parsing", "datetime_type", "datetime_from_date_parsing"):
        return _("Must be a date and time (ISO 8601, with its zone).")
    return _("Not a valid value.")


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = list(loc)
    source = parts.pop(0) if parts else ""
    if source == "body" and len(parts) >= 1:
        parts = parts[1:]  # the handler's parameter name says nothing to the caller
    return str(parts[0]) if parts else str(source or "body")


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return exc.response()


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    too_many = None
    for error in exc.errors:
        message = _field_message(error)
        fields.setdefault(_field_name(error.get("loc", ())), [])
        if message not in fields[_field_name(error.get("loc", ()))]:
            fields[_field_name(error.get("loc", ()))].append(message)
        if error.get("type") == "too_long":
            too_many = message
    if too_many is not None:
        return ApiError(400, "too_many", too_many, fields=fields).response()
    return ApiError(400, "invalid", _("Some fields need fixing."), fields=fields).response()


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja wraps what the body parser raised; our own error is the one to show.
    if isinstance(exc.__cause__, ApiError):
        return exc.__cause__.response()
    if isinstance(exc.__cause__, RequestDataTooBig):
        return body_too_large().response()
    codes = {400: "invalid", 401: "invalid_token", 403: "forbidden", 404: "not_found", 429: "throttled"}
    return ApiError(exc.status_code, codes.get(exc.status_code, "error"), _("The request failed.")).response()


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return not_found_error().response()


api.add_exception_handler(ObjectDoesNotExist, _not_found)  # type: ignore[arg-type]


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return body_too_large().response()


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return ApiError(403, "forbidden", _("You may not do this.")).response()


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("API error on %s %s", request.method, request.path)
    return ApiError(500, "server_error", _("Something went wrong on our side. Please try again.")).response()


def _register_routes() -> None:
    from app.api.routes import cases, faces, notices, references, tracking, urls, webhooks

    api.add_router("/", cases.router)
    api.add_router("/", urls.router)
    api.add_router("/", references.router)
    api.add_router("/", notices.router)
    api.add_router("/", notices.jobs)
    api.add_router("/", tracking.router)
    api.add_router("/", webhooks.router)
    api.add_router("/", faces.router)


_register_routes()
