"""Uploads stay in memory, never in a temporary file, and have a hard size cap.

Django's default spills any upload over 2.5 MB into the system temp folder, unencrypted, while the
request runs; a web process killed mid-request leaves the photo there for anyone who can read
/tmp. Reference photos and consent letters are exactly what must never be left lying around, so:

- every request's ``Content-Length`` is checked before its body is read, against the view's limit
  (``@upload_limit``) or ``UPLOAD_MAX_REQUEST_BYTES``; a larger request is refused at once;
- the only upload handler keeps each file in memory and stops storing it at the per-file cap,
  while still counting its real size, so the form's own size check gives the translated error.

Django reads no more than ``Content-Length`` bytes of a body, so together they bound the memory a
request can take.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from app.core.redirects import safe_referer

_BODY_METHODS = {"POST", "PUT", "PATCH"}


class MemoryOnlyUploadHandler(FileUploadHandler):
    """Keeps each uploaded file in memory, storing at most ``max_file_bytes`` + 1 bytes of it."""

    def __init__(self, request: HttpRequest | None = None, max_file_bytes: int | None = None) -> None:
        super().__init__(request)
        self.max_file_bytes = max_file_bytes or settings.UPLOAD_MAX_FILE_BYTES
        self.buffer = io.BytesIO()
        self.kept_bytes = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        room = self.max_file_bytes + 1 - self.buffer.tell()
        if room > 0:
            self.buffer.write(raw_data[:room])
        # Returning None: no later handler sees the chunk (there is none, and none may write it).

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.kept_bytes = self.buffer.tell()
        self.buffer.seek(0)
        # The real size, even when only the first max_file_bytes + 1 were kept: size checks fail.
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


def upload_limit(
    *, request_bytes: int, file_bytes: int
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view's own caps: the whole request body, and each file in it."""

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        view.upload_max_request_bytes = request_bytes  # type: ignore[attr-defined]
        view.upload_max_file_bytes = file_bytes  # type: ignore[attr-defined]
        return view

    return mark


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.0f}"


class UploadLimitMiddleware:
    """Refuses an over-large request by its Content-Length before anything reads the body.

    Must come before CsrfViewMiddleware, whose check is the first thing that reads the body.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if request.method not in _BODY_METHODS:
            return None
        limit = getattr(view_func, "upload_max_request_bytes", None) or settings.UPLOAD_MAX_REQUEST_BYTES
        file_cap = getattr(view_func, "upload_max_file_bytes", None) or settings.UPLOAD_MAX_FILE_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return self._refuse(request, limit)
        request.upload_handlers = [MemoryOnlyUploadHandler(request, max_file_bytes=file_cap)]
        return None

    def _refuse(self, request: HttpRequest, limit: int) -> HttpResponse:
        message = _(
            "This upload is too large: at most %(mb)s MB can be sent at once. Nothing was saved. "
            "Send fewer or smaller files at a time."
        ) % {"mb": _megabytes(limit)}
        # Answered from the headers alone: the body is never read, so the connection is closed after.
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse(
                {"error": {"code": "too_large", "message": message}}, status=413
            )
        else:
            response = render(
                request,
                "upload_too_large.html",
                {"message": message, "back": safe_referer(request)},
                status=413,
            )
        response["Connection"] = "close"
        return response
