"""The API's plumbing on django-ninja: bearer-token authentication, the JSON body parser, the one
JSON error shape and pagination.

API views never look at cookies. A request is authenticated by its ``Authorization: Bearer``
header alone, so a browser's session cannot be ridden by another site (which is why the views
skip CSRF checks), and a request with a session cookie but no token gets 401.

Every error, whatever raised it (our code, ninja's validation, a missing row), leaves as
``{"error": {"code": ..., "message": ..., "fields": {...}?}}``: ``code`` is stable for programs,
``message`` is for people, translated by ``Accept-Language``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Schema
from ninja.parser import Parser
from ninja.security import HttpBearer

from app.accounts.models import Membership
from app.accounts.selectors import membership_for_user
from app.api.models import ApiToken
from app.api.services import api_token_authenticate

# Enough for 5,000 long addresses; bigger bodies are refused before they are read.
MAX_BODY_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class ApiContext:
    """Who is calling: the token's user, their (staff) membership and the token itself."""

    user: User
    membership: Membership
    token: ApiToken


class ApiError(Exception):
    """Ends a request with a JSON error; ``message`` is for people (translated), ``code`` for programs."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        response = JsonResponse({"error": error}, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] | None = None


class ErrorOut(Schema):
    """Every error answer: a stable ``code`` and a translated ``message`` (and per-field messages)."""

    error: ErrorDetail


def not_found_error() -> ApiError:
    return ApiError(404, "not_found", _("Not found."))


def _unauthorized(code: str, message: str) -> ApiError:
    challenge = (
        'Bearer realm="jium"' if code == "missing_token" else 'Bearer realm="jium", error="invalid_token"'
    )
    return ApiError(401, code, message, headers={"WWW-Authenticate": challenge})


def authenticate(request: HttpRequest) -> ApiContext:
    header = request.headers.get("Authorization", "")
    if not header:
        raise _unauthorized(
            "missing_token", _("Send your API token in the header: Authorization: Bearer <token>.")
        )
    scheme, _sep, raw = header.strip().partition(" ")
    token = api_token_authenticate(raw=raw.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        raise _unauthorized(
            "invalid_token",
            _("This API token is not valid: it is wrong, revoked, or its account is disabled."),
        )
    membership = membership_for_user(user=token.user)
    if membership is None or not membership.is_staff_role:
        raise ApiError(403, "forbidden", _("Only organisation admins and caseworkers can use the API."))
    # Whatever session cookie came along, this request acts as the token's user and no one else.
    request.user = token.user
    return ApiContext(user=token.user, membership=membership, token=token)


class BearerToken(HttpBearer):
    """ninja's bearer scheme (so the schema documents it), with our own checks and errors."""

    def __call__(self, request: HttpRequest) -> ApiContext:
        return authenticate(request)

    def authenticate(self, request: HttpRequest, token: str) -> ApiContext:  # pragma: no cover
        return authenticate(request)


def context(request: HttpRequest) -> ApiContext:
    """The caller, as the authentication step left it on the request."""
    return request.auth  # type: ignore[attr-defined]


class JsonParser(Parser):
    """JSON bodies only, at most MAX_BODY_BYTES, and always an object: anything else is a clear error."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        if request.content_type != "application/json":
            raise ApiError(
                415,
                "unsupported_media_type",
                _("Send the body as JSON with Content-Type: application/json."),
            )
        body = read_body(request)
        try:
            payload = json.loads(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise ApiError(400, "invalid_json", _("The request body must be UTF-8 text.")) from None
        except json.JSONDecodeError as exc:
            raise ApiError(
                400,
                "invalid_json",
                _("The request body is not valid JSON (line %(line)d, column %(column)d).")
                % {"line": exc.lineno, "column": exc.colno},
            ) from None
        except RecursionError:
            raise ApiError(400, "invalid_json", _("The request body is nested too deeply.")) from None
        if not isinstance(payload, dict):
            raise ApiError(400, "invalid_json", _("The request body must be a JSON object."))
        if _has_nul(payload):
            # PostgreSQL text cannot hold NUL, and no address, name or hash needs one (found by fuzzing).
            raise ApiError(400, "invalid", _("Text cannot contain NUL characters."))
        return payload


def _has_nul(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def body_too_large(limit: int = MAX_BODY_BYTES) -> ApiError:
    return ApiError(
        413,
        "body_too_large",
        _("The request body is too large (at most %(n)d MB).") % {"n": max(1, limit // 2**20)},
    )


def read_body(request: HttpRequest, *, limit: int = MAX_BODY_BYTES) -> bytes:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise body_too_large(limit)
    try:
        body = request.body
    except RequestDataTooBig:
        raise body_too_large(limit) from None
    if len(body) > limit:
        raise body_too_large(limit)
    return body


def paginate(
    request: HttpRequest, qs: QuerySet[Any], *, page: int, per_page: int
) -> tuple[Page[Any], dict[str, Any]]:
    """One page of ``qs`` (pages count from 1) and the links around it."""
    paginator = Paginator(qs, per_page)
    if page > paginator.num_pages:
        raise ApiError(404, "not_found", _("There is no page %(n)d.") % {"n": page})
    current = paginator.page(page)

    def link(n: int) -> str:
        query = request.GET.copy()
        query["page"] = str(n)
        return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

    meta = {
        "count": paginator.count,
        "page": page,
        "pages": paginator.num_pages,
        "per_page": per_page,
        "next": link(page + 1) if current.has_next() else None,
        "previous": link(page - 1) if current.has_previous() else None,
    }
    return current, meta


class PageMeta(Schema):
    count: int
    page: int
    pages: int
    per_page: int
    next: str | None
    previous: str | None


def no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store, private"
    return response
