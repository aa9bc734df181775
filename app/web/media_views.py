"""Found media on the web: blurred previews, revealing a full image (audited) and hiding it again."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from app.accounts.services import audit_record
from app.cases import selectors as case_selectors
from app.core.redirects import safe_next
from app.web import thumbs
from app.web.decorators import member_required
from app.web.views import REVEAL_SESSION_KEY, _actor


def _image_response(data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "no-store, private"
    response["Content-Disposition"] = "inline"
    return response


@member_required
def media_preview(request: HttpRequest, case_id: int, media_id: int) -> HttpResponse:
    """A blurred preview made from the kept evidence bytes on each request; nothing is cached."""
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    item = case_selectors.media_item_get_for(case=case, media_id=media_id)
    data = item.content  # type: ignore[attr-defined]
    preview = thumbs.blurred_preview(bytes(data)) if data else None
    if preview is None:
        raise Http404("No preview")
    return _image_response(preview)


@member_required
def media_reveal(request: HttpRequest, case_id: int, media_id: int) -> HttpResponse:
    """Asks first; a confirmed reveal is written to the audit log and lasts for this session only."""
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    item = case_selectors.media_item_get_for(case=case, media_id=media_id)
    if not item.content:  # type: ignore[attr-defined]
        raise Http404("Nothing kept")
    back = safe_next(request)
    if request.method == "POST":
        revealed = list(request.session.get(REVEAL_SESSION_KEY, []))
        if media_id not in revealed:
            revealed.append(media_id)
        request.session[REVEAL_SESSION_KEY] = revealed[-50:]
        audit_record(
            organization=case.organization,
            actor=_actor(request),
            action="evidence.reveal",
            case_id=case.pk,
            object_type="media_item",
            object_id=media_id,
        )
        return redirect(back or f"{_url_detail_path(case.pk, item)}#media-{media_id}")
    return render(request, "cases/reveal.html", {"case": case, "item": item, "next": back})


def _url_detail_path(case_id: int, item: object) -> str:

    return reverse("case_url_detail", args=[case_id, item.fetch.reported_url_id])  # type: ignore[attr-defined]


@member_required
def media_full(request: HttpRequest, case_id: int, media_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    item = case_selectors.media_item_get_for(case=case, media_id=media_id)
    if media_id not in request.session.get(REVEAL_SESSION_KEY, []) or not item.content:  # type: ignore[attr-defined]
        raise Http404("Not revealed")
    image = thumbs.revealed_image(bytes(item.content))  # type: ignore[attr-defined]
    if image is None:
        raise Http404("Cannot be shown")
    # The reveal is logged when confirmed; each time the sharp image is actually served is logged too.
    audit_record(
        organization=case.organization,
        actor=_actor(request),
        action="evidence.view_full",
        case_id=case.pk,
        object_type="media_item",
        object_id=media_id,
    )
    return _image_response(image)


@require_POST
@member_required
def media_hide(request: HttpRequest, case_id: int, media_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    item = case_selectors.media_item_get_for(case=case, media_id=media_id)
    request.session[REVEAL_SESSION_KEY] = [
        m for m in request.session.get(REVEAL_SESSION_KEY, []) if m != media_id
    ]
    return redirect(safe_next(request) or _url_detail_path(case.pk, item))
