"""The API's plumbing: bearer-token authentication, JSON bodies, JSON errors and pagination.

API views never look at cookies. A request is authenticated by its ``Authorization: Bearer``
header alone, so a browser's session cannot be ridden by another site (which is why the views
may skip CSRF checks), and a request with a session cookie but no token gets 401.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

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


Handler = Callable[..., JsonResponse]


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


def endpoint(**handlers: Handler) -> Callable[..., JsonResponse]:
    """A view that authenticates, then dispatches on the method: ``endpoint(get=list_cases, post=create_case)``.

    Each handler is called as ``handler(request, api, **url_kwargs)`` and may raise ApiError or Http404.
    """
    allowed = {method.upper(): handler for method, handler in handlers.items()}

    @csrf_exempt  # bearer tokens only, never cookies: see the module docstring
    def view(request: HttpRequest, **kwargs: Any) -> JsonResponse:
        try:
            api = authenticate(request)
            handler = allowed.get(request.method or "")
            if handler is None:
                raise ApiError(
                    405,
                    "method_not_allowed",
                    _("This address does not accept %(method)s.") % {"method": request.method},
                    headers={"Allow": ", ".join(sorted(allowed))},
                )
            response = handler(request, api, **kwargs)
        except ApiError as exc:
            response = exc.response()
        except Http404:
            response = not_found_error().response()
        response["Cache-Control"] = "no-store, private"
        return response

    return view


def not_found_error() -> ApiError:
    return ApiError(404, "not_found", _("Not found."))


@csrf_exempt
def not_found(request: HttpRequest, **kwargs: Any) -> JsonResponse:
    """Unknown addresses under the API answer in JSON, without saying anything else."""
    response = not_found_error().response()
    response["Cache-Control"] = "no-store, private"
    return response


def json_body(request: HttpRequest, *, allowed_keys: set[str]) -> dict[str, Any]:
    """The request's JSON object, or an ApiError that says plainly what is wrong with it."""
    if request.content_type != "application/json":
        raise ApiError(
            415, "unsupported_media_type", _("Send the body as JSON with Content-Type: application/json.")
        )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    too_large = ApiError(
        413,
        "body_too_large",
        _("The request body is too large (at most %(n)d MB).") % {"n": MAX_BODY_BYTES // 2**20},
    )
    if declared > MAX_BODY_BYTES:
        raise too_large
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_large from None
    if len(body) > MAX_BODY_BYTES:
        raise too_large
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
    unknown = sorted(set(payload) - allowed_keys)
    if unknown:
        raise ApiError(
            400,
            "invalid",
            _("The request has fields this address does not know."),
            fields={name: [_("Unknown field.")] for name in unknown},
        )
    return payload


def paginate(request: HttpRequest, qs: QuerySet[Any], *, per_page: int) -> tuple[Page[Any], dict[str, Any]]:
    """One page of ``qs`` (``?page=``, from 1) and the links around it."""
    raw = request.GET.get("page", "1")
    if not (raw.isascii() and raw.isdigit() and 0 < len(raw) <= 9) or int(raw) < 1:
        raise ApiError(
            400,
            "invalid",
            _("The page must be a whole number from 1."),
            fields={"page": [_("Not a valid page.")]},
        )
    paginator = Paginator(qs, per_page)
    number = int(raw)
    if number > paginator.num_pages:
        raise ApiError(404, "not_found", _("There is no page %(n)d.") % {"n": number})
    page = paginator.page(number)

    def link(n: int) -> str:
        query = request.GET.copy()
        query["page"] = str(n)
        return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

    meta = {
        "count": paginator.count,
        "page": number,
        "pages": paginator.num_pages,
        "per_page": per_page,
        "next": link(number + 1) if page.has_next() else None,
        "previous": link(number - 1) if page.has_previous() else None,
    }
    return page, meta
