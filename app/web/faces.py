"""Pages of the face stage: consent, the person's face photos, and possible deepfakes to check.

Staff only (admins and caseworkers of the case's organisation, as for every case page); the
person's own account and other organisations get "not found".
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from app.accounts.services import audit_record
from app.cases import selectors as case_selectors
from app.faces import selectors as face_selectors
from app.faces import services as face_services
from app.faces.models import FaceMatchState
from app.web.decorators import staff_required
from app.web.forms import FaceConsentForm, FacePhotosForm

REVEAL_SESSION_KEY = "revealed_faces"


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _page(request: HttpRequest, case_id: int, consent_form: FaceConsentForm | None = None) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    consent = face_selectors.face_consent_for(case=case)
    faces = list(face_selectors.face_list(case=case))
    pending = [
        (p, list(p.crop_rows.values_list("index", flat=True))) for p in face_selectors.pending_list(case=case)
    ]
    matches = list(face_selectors.face_match_list(case=case))
    audit_record(organization=case.organization, actor=_actor(request), action="faces.view", case_id=case.pk)
    return render(
        request,
        "faces/page.html",
        {
            "case": case,
            "consent": consent,
            "enabled": bool(consent and consent.enabled),
            "faces": faces,
            "few_faces": len(faces) < face_services.FEW_FACES,
            "few_faces_target": face_services.FEW_FACES,
            "pending": pending,
            "to_check": [m for m in matches if m.state == FaceMatchState.PENDING],
            "decided": [m for m in matches if m.state != FaceMatchState.PENDING],
            "revealed": set(request.session.get(REVEAL_SESSION_KEY, [])),
            "consent_form": consent_form
            or FaceConsentForm(initial={"consented_on": datetime.now(UTC).date()}),
            "photos_form": FacePhotosForm(),
            "minor": face_services.case_is_minor(case),
        },
    )


@staff_required
def faces_page(request: HttpRequest, case_id: int) -> HttpResponse:
    return _page(request, case_id)


@require_POST
@staff_required
def faces_consent(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    form = FaceConsentForm(request.POST)
    if not form.is_valid():
        return _page(request, case_id, consent_form=form)
    data = form.cleaned_data
    try:
        face_services.face_consent_grant(
            case=case,
            actor=_actor(request),
            consenter=data["consenter"],
            method=data["method"],
            consented_at=datetime.combine(data["consented_on"], time(12, 0), tzinfo=UTC),
            language=get_language() or "en",
            guardian_name=data.get("guardian_name") or "",
            guardian_relationship=data.get("guardian_relationship") or "",
        )
    except face_services.FaceInputError as exc:
        form.add_error(None, str(exc))
        return _page(request, case_id, consent_form=form)
    messages.success(request, _("Face search is on for this case. Now add photos of the person's face."))
    return redirect("faces_page", case_id=case.pk)


@staff_required
def faces_withdraw(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    if request.method == "POST":
        removed = face_services.face_consent_withdraw(case=case, actor=_actor(request))
        messages.success(
            request,
            ngettext(
                "Face search is off. %(n)d face was erased, with everything found through it.",
                "Face search is off. %(n)d faces were erased, with everything found through them.",
                removed,
            )
            % {"n": removed},
        )
        return redirect("faces_page", case_id=case.pk)
    return render(
        request,
        "faces/withdraw.html",
        {"case": case, "face_count": face_selectors.face_list(case=case).count()},
    )


@require_POST
@staff_required
def faces_photos_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    form = FacePhotosForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose one or more photos."))
        return redirect("faces_page", case_id=case.pk)
    photos = [(u.name or "", u.read()) for u in form.cleaned_data["photos"]]
    try:
        result = face_services.face_photos_add(case=case, actor=_actor(request), photos=photos)
    except face_services.FaceInputError as exc:
        messages.error(request, str(exc))
        return redirect("faces_page", case_id=case.pk)
    if result.added:
        messages.success(
            request,
            ngettext(
                "%(n)d face added. The photo itself was deleted.",
                "%(n)d faces added. The photos themselves were deleted.",
                result.added,
            )
            % {"n": result.added},
        )
    if result.pending:
        messages.info(
            request,
            ngettext(
                "%(n)d photo shows several people: choose the person's face below.",
                "%(n)d photos show several people: choose the person's face below.",
                len(result.pending),
            )
            % {"n": len(result.pending)},
        )
    for name in result.no_face:
        messages.warning(
            request,
            _("%(name)s: no face was found. Use a photo where the face is clear and not too small.")
            % {"name": name},
        )
    for name, reason in result.errors:
        messages.error(request, f"{name}: {reason}")
    return redirect("faces_page", case_id=case.pk)


@require_POST
@staff_required
def faces_pending(request: HttpRequest, case_id: int, pending_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    pending = face_selectors.pending_get_for(case=case, pending_id=pending_id)
    if request.POST.get("action") == "discard":
        face_services.face_pending_discard(pending=pending, actor=_actor(request))
        messages.success(request, _("The photo was removed; none of its faces were kept."))
        return redirect("faces_page", case_id=case.pk)
    try:
        indices = [int(v) for v in request.POST.getlist("face")]
    except ValueError:
        indices = []
    try:
        n = face_services.face_pending_pick(pending=pending, actor=_actor(request), indices=indices)
    except face_services.FaceInputError as exc:
        messages.error(request, str(exc))
        return redirect("faces_page", case_id=case.pk)
    messages.success(
        request,
        ngettext(
            "%(n)d face added; the others were deleted.", "%(n)d faces added; the others were deleted.", n
        )
        % {"n": n},
    )
    return redirect("faces_page", case_id=case.pk)


def _jpeg_response(data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "no-store, private"
    return response


@staff_required
def faces_pending_crop(request: HttpRequest, case_id: int, pending_id: int, index: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    pending = face_selectors.pending_get_for(case=case, pending_id=pending_id)
    row = pending.crop_rows.filter(index=index).first()
    if row is None or not row.image:
        raise Http404("No such face")
    return _jpeg_response(bytes(row.image))


@require_POST
@staff_required
def faces_delete(request: HttpRequest, case_id: int, face_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    face = face_selectors.face_get_for(case=case, face_id=face_id)
    face_services.face_embedding_delete(face=face, actor=_actor(request))
    messages.success(request, _("The face was removed, with anything found through it."))
    return redirect("faces_page", case_id=case.pk)


@staff_required
def face_match_image(request: HttpRequest, case_id: int, match_id: int) -> HttpResponse:
    """The face region only: blurred on the server unless shown in this session."""
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    match = face_selectors.face_match_get_for(case=case, match_id=match_id)
    data = match.face_crop
    if not data:
        raise Http404("No face kept")
    if match_id in request.session.get(REVEAL_SESSION_KEY, []):
        return _jpeg_response(bytes(data))
    return _jpeg_response(_blurred_face(bytes(data)))


def _blurred_face(data: bytes) -> bytes:
    """Blurred on the server, harder than other previews: a face stays recognisable at 24 px."""
    import io

    from PIL import Image, ImageFilter

    img = Image.open(io.BytesIO(data)).convert("RGB")
    size = img.size
    img.thumbnail((6, 6), Image.Resampling.BILINEAR)
    img = img.resize(size, Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(8))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=70)
    return out.getvalue()


@staff_required
def face_match_reveal(request: HttpRequest, case_id: int, match_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    match = face_selectors.face_match_get_for(case=case, match_id=match_id)
    if not match.face_crop:
        raise Http404("No face kept")
    back = reverse("faces_page", args=[case.pk]) + f"#face-match-{match.pk}"
    if request.method == "POST":
        revealed = list(request.session.get(REVEAL_SESSION_KEY, []))
        if match.pk not in revealed:
            revealed.append(match.pk)
        request.session[REVEAL_SESSION_KEY] = revealed[-50:]
        audit_record(
            organization=case.organization, actor=_actor(request), action="faces.reveal", case_id=case.pk,
            object_type="face_match", object_id=match.pk,
        )  # fmt: skip
        return redirect(back)
    return render(request, "faces/reveal.html", {"case": case, "match": match, "back": back})


@require_POST
@staff_required
def face_match_decide(request: HttpRequest, case_id: int, match_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    match = face_selectors.face_match_get_for(case=case, match_id=match_id)
    decision = request.POST.get("decision")
    if decision not in ("confirm", "reject"):
        messages.error(request, _("Choose whether this is the person's face."))
        return redirect("faces_page", case_id=case.pk)
    face_services.face_match_decide(face_match=match, actor=_actor(request), confirm=decision == "confirm")
    if decision == "confirm":
        messages.success(
            request,
            _("Confirmed. The address can now go into a notice, described as a deepfake (a forgery)."),
        )
    else:
        messages.success(request, _("Marked as not the person. It will not go into any notice."))
    return redirect("faces_page", case_id=case.pk)
