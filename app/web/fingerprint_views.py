"""The /fingerprint/ page: images are fingerprinted in the person's browser and never uploaded.

Three ways in: stand-alone (no case: the person downloads a fingerprint file), through a
single-use intake link a caseworker made for a case, and inside a logged-in person's own case.
Only the fingerprint document is ever posted (as a file field named ``document``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from csp.decorators import csp_update
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST

from app.cases import selectors as case_selectors
from app.cases import services as case_services
from app.cases.models import Case
from app.matching.document import MAX_DOCUMENT_BYTES
from app.web.decorators import member_required, staff_required

# This page runs OpenCV's WebAssembly build in a worker: 'wasm-unsafe-eval' lets it compile
# WebAssembly (not JavaScript eval), on this page only, on top of the site-wide policy
# (settings.CONTENT_SECURITY_POLICY: script-src 'self', connect-src 'self', no inline script).
_csp_wasm = csp_update({"script-src": ["'wasm-unsafe-eval'"]})


def fingerprint_csp(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The site's Content-Security-Policy plus 'wasm-unsafe-eval', and never cached."""

    @_csp_wasm
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return cast(Callable[..., HttpResponse], wrapper)


def _page(request: HttpRequest, *, mode: str, submit_url: str = "", case: Case | None = None) -> HttpResponse:
    config = {
        "mode": mode,
        "submit": submit_url,
        "opencv": static("vendor/opencv-js/opencv.js"),
        "core": static("fingerprint/core.js"),
        "worker": static("fingerprint/worker.js"),
        "max_bytes": MAX_DOCUMENT_BYTES,
        "text": {
            "loading": _("Getting ready… (the first time this takes a few seconds)"),
            "ready": _(
                "Ready. From now on this page works without the internet: you can turn it off before choosing images."
            ),
            "load_failed": _("This page could not get ready. Reload it, or try another browser."),
            "working": _("Making fingerprints: %(done)s of %(total)s"),
            "done_one": _("Fingerprint made"),
            "heic": _(
                "This phone photo format (HEIC) cannot be read by this browser. Take a screenshot of the photo, "
                "or export it as JPEG, and choose that instead."
            ),
            "not_image": _("This file is not an image this browser can read."),
            "too_large": _("This image is too large (more than 40 megapixels)."),
            "corrupt": _("This image could not be read. It may be damaged or incomplete."),
            "image": _("Image %(n)s"),
            "sending": _("Sending the fingerprints…"),
            "sent": _("You can close this page."),
            "send_failed": _(
                "Sending did not work. Nothing of your images was sent. Try again, or download the file."
            ),
            "nothing": _("Choose at least one image first."),
        },
    }
    return render(
        request,
        "fingerprint/page.html",
        {"config": config, "mode": mode, "case": case, "has_submit": bool(submit_url)},
    )


def _import_response(result: case_services.FingerprintImport) -> JsonResponse:
    added = len(result.created) + len(result.upgraded)
    return JsonResponse(
        {
            "added": added,
            "duplicates": result.duplicates,
            "skipped": len(result.skipped),
            "message": ngettext(
                "%(n)d fingerprint was added to the case.",
                "%(n)d fingerprints were added to the case.",
                added,
            )
            % {"n": added},
        }
    )


def _document_from(request: HttpRequest) -> bytes | None:
    upload = request.FILES.get("document")
    if upload is None or upload.size is None or upload.size > MAX_DOCUMENT_BYTES:
        return None
    return cast(bytes, upload.read())


@fingerprint_csp
def fingerprint_page(request: HttpRequest) -> HttpResponse:
    """Stand-alone: no case, no account; the person downloads their fingerprint file."""
    return _page(request, mode="standalone")


@fingerprint_csp
@ensure_csrf_cookie
def fingerprint_intake(request: HttpRequest, token: str) -> HttpResponse:
    """Opened from a caseworker's single-use link: the fingerprints go straight into that case."""
    if request.method == "POST":
        document = _document_from(request)
        if document is None:
            return JsonResponse({"error": _("Send one fingerprint file of at most 16 MB.")}, status=400)
        try:
            result = case_services.fingerprint_intake_submit(token=token, document=document)
        except case_services.CaseInputError as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        return _import_response(result)
    intake = case_services.fingerprint_intake_get(token=token)
    if intake is None:
        return render(request, "fingerprint/link_gone.html", status=410)
    return _page(request, mode="intake", submit_url=request.path)


@fingerprint_csp
@member_required
def fingerprint_case(request: HttpRequest, case_id: int) -> HttpResponse:
    """Inside a case the logged-in person can see (their own, or a caseworker's)."""
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    if request.method == "POST":
        document = _document_from(request)
        if document is None:
            return JsonResponse({"error": _("Send one fingerprint file of at most 16 MB.")}, status=400)
        try:
            result = case_services.reference_fingerprints_import(
                case=case, actor=cast(User, request.user), document=document, via="device"
            )
        except case_services.CaseInputError as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        return _import_response(result)
    return _page(request, mode="case", submit_url=request.path, case=case)


@require_POST
@staff_required
def case_fingerprint_intake_create(request: HttpRequest, case_id: int) -> HttpResponse:
    """A caseworker makes a single-use link for the person; it is shown once, here."""
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    intake, token = case_services.fingerprint_intake_create(case=case, actor=cast(User, request.user))
    link = request.build_absolute_uri(reverse("fingerprint_intake", args=[token]))
    return render(request, "fingerprint/link_created.html", {"case": case, "intake": intake, "link": link})
