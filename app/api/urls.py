"""URLs of API v1: ninja's operations and schema, the staff-only docs page, and JSON 404s for the rest."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, re_path
from django.urls import path as url_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja.openapi.docs import Swagger

from app.api.api import api
from app.api.http import ApiError, authenticate, no_store, not_found_error
from app.web.decorators import staff_required

app_name = "api"


def _json_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """ninja answers a wrong method with a bare 405 before authenticating; ours checks the token first,
    then says which methods the address takes, in the usual JSON error shape."""

    @csrf_exempt  # bearer tokens only, never cookies: see app/api/http.py
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = ", ".join(sorted(m.strip() for m in response["Allow"].split(",") if m.strip()))
            try:
                authenticate(request)
                error = ApiError(
                    405,
                    "method_not_allowed",
                    _("This address does not accept %(method)s.") % {"method": request.method},
                    headers={"Allow": allowed},
                )
            except ApiError as exc:
                error = exc
            response = error.response()
        return no_store(response)

    return wrapped


@csrf_exempt
def not_found(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """Unknown addresses under the API answer in JSON, without saying anything else."""
    return no_store(not_found_error().response())


@staff_required
def docs(request: HttpRequest) -> HttpResponse:
    """Interactive docs (Swagger UI, served from our own static files) for logged-in staff."""
    return no_store(Swagger(settings={"persistAuthorization": False}).render_page(request, api))


def _patterns() -> list[Any]:
    patterns, _app, _namespace = api.urls
    result: list[Any] = []
    for pattern in patterns:
        if not isinstance(pattern, URLPattern):
            result.append(pattern)
        elif pattern.name == "api-root":
            # ninja's root page; the schema reverses its name, so it stays, answering 404 like any unknown address.
            result.append(URLPattern(pattern.pattern, not_found, name=pattern.name))
        else:
            result.append(
                URLPattern(
                    pattern.pattern, _json_errors(pattern.callback), pattern.default_args, pattern.name
                )
            )
    return result


urlpatterns = [
    url_path("docs/", docs, name="docs"),
    *_patterns(),
    # Anything else under the API answers 404 in JSON rather than with an HTML page.
    re_path(r"^.*$", not_found),
]
