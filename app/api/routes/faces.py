"""The face stage (issue 13): consent, the person's face photos, possible deepfakes and their review.

The same services as the web's face pages, with the same rules: nothing before consent is recorded
(the guardian's under 14), photos read and discarded at once, a minor's case takes no group photos,
withdrawing consent erases every embedding. Face embeddings are biometric data: no answer ever
contains one, nor any image (face crops stay on the web page, blurred until asked).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from django.conf import settings
from django.db.models import Case as DbCase
from django.db.models import Value, When
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import File, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field, StrictBool, StrictStr

from app.api.http import ApiError, PageMeta, context, paginate
from app.api.routes import ERRORS, MAX_ID, Body, audit
from app.api.routes.cases import CaseId, get_case
from app.cases import selectors as case_selectors
from app.cases.models import Case
from app.faces import selectors as face_selectors
from app.faces import services as face_services
from app.faces.models import FaceConsent, FaceEmbedding, FaceMatch, FaceMatchState, PendingFaces

router = Router(tags=["faces"])

MAX_FILES = 20
MATCHES_PER_PAGE = 100
# 409: the face stage is off for this case (no consent recorded, or it was withdrawn).
FACE_ERRORS: dict[int, Any] = {**ERRORS, 409: ERRORS[400]}
FaceId = Path(..., ge=1, le=MAX_ID, description="One of the case's faces.")
FaceMatchId = Path(..., ge=1, le=MAX_ID, description="One possible deepfake of the case.")


def _face_stage_off() -> ApiError:
    return ApiError(409, "face_stage_off", _("Record the person's consent before adding face photos."))


# ---- consent -----------------------------------------------------------------------------------


class FaceConsentOut(Schema):
    """The consent record, never the guardian's name (it identifies a family member)."""

    enabled: bool = Field(description="True while the face stage is on for this case.")
    recorded: bool = Field(description="Whether consent was ever recorded (withdrawn or not).")
    consenter: str | None = Field(description="person or guardian.")
    guardian_named: bool
    guardian_relationship: str
    method: str
    consented_at: datetime | None
    explanation: str = Field(description="The version and language of the explanation the person was given.")
    recorded_by: str | None
    withdrawn_at: datetime | None
    guardian_required: bool = Field(
        description="A child under 14: only a legal guardian can consent (PIPA art. 22(6))."
    )
    faces: int = Field(description="How many faces of the person the case holds.")


def _consent_out(case: Case, consent: FaceConsent | None) -> dict[str, Any]:
    faces = face_selectors.face_list(case=case).count()
    if consent is None:
        return {
            "enabled": False, "recorded": False, "consenter": None, "guardian_named": False,
            "guardian_relationship": "", "method": "", "consented_at": None, "explanation": "",
            "recorded_by": None, "withdrawn_at": None, "guardian_required": case.needs_guardian,
            "faces": faces,
        }  # fmt: skip
    return {
        "enabled": consent.enabled,
        "recorded": True,
        "consenter": consent.consenter,
        "guardian_named": bool(consent.guardian_name),
        "guardian_relationship": consent.guardian_relationship,
        "method": consent.method,
        "consented_at": consent.consented_at,
        "explanation": consent.explanation,
        "recorded_by": consent.recorded_by.username if consent.recorded_by else None,
        "withdrawn_at": consent.withdrawn_at,
        "guardian_required": case.needs_guardian,
        "faces": faces,
    }


@router.get(
    "cases/{int:case_id}/faces/consent/",
    response={200: FaceConsentOut, **ERRORS},
    summary="Face search: the consent record",
)
def face_consent_read(request: HttpRequest, case_id: int = CaseId) -> dict[str, Any]:
    case = get_case(request, case_id)
    audit(context(request), "api.case.faces_consent", case)
    return _consent_out(case, face_selectors.face_consent_for(case=case))


class FaceConsentIn(Body):
    consenter: Literal["person", "guardian"] = Field(
        description="Who consented: the person, or their legal guardian (required for a child under 14)."
    )
    guardian_name: StrictStr = Field("", max_length=200, description="Required when a guardian consented.")
    guardian_relationship: StrictStr = Field("", max_length=100)
    method: StrictStr = Field(
        min_length=1,
        max_length=200,
        description="How consent was given: signed form, in person, video call...",
    )
    consented_on: date = Field(description="The date of consent (not in the future).")
    explained: StrictBool = Field(
        description="Must be true: you explained what face search does and its limits "
        "(docs/faces.md, the web page's text), and the person agreed."
    )
    language: Literal["en", "ko"] | None = Field(
        None, description="The language of the explanation given; by default Accept-Language's."
    )


@router.post(
    "cases/{int:case_id}/faces/consent/",
    response={200: FaceConsentOut, **ERRORS},
    summary="Face search: record consent and turn it on",
)
def face_consent_record(
    request: HttpRequest, payload: FaceConsentIn, case_id: int = CaseId
) -> dict[str, Any]:
    """Records who consented, when and how, and which explanation they were given; the face stage is
    then on for this case. The same rules as the web form."""
    case = get_case(request, case_id)
    if not payload.explained:
        message = _("Explain what face search does and its limits, and record that the person agreed.")
        raise ApiError(400, "invalid", message, fields={"explained": [message]})
    try:
        consent = face_services.face_consent_grant(
            case=case,
            actor=context(request).user,
            consenter=payload.consenter,
            method=payload.method,
            consented_at=datetime.combine(payload.consented_on, time(12, 0), tzinfo=UTC),
            language=payload.language or (get_language() or "en")[:2],
            guardian_name=payload.guardian_name,
            guardian_relationship=payload.guardian_relationship,
        )
    except face_services.FaceInputError as exc:
        raise ApiError(400, "invalid", str(exc)) from None
    audit(context(request), "api.case.faces_consent_record", case, consenter=consent.consenter)
    return _consent_out(case, consent)


class FaceWithdrawOut(Schema):
    faces_erased: int
    consent: FaceConsentOut


@router.delete(
    "cases/{int:case_id}/faces/consent/",
    response={200: FaceWithdrawOut, **ERRORS},
    summary="Face search: withdraw consent and erase every face",
)
def face_consent_withdraw(request: HttpRequest, case_id: int = CaseId) -> dict[str, Any]:
    """Turns the face stage off and erases every face embedding of the case, every photo waiting for
    a choice and every possible deepfake found through them. The consent record stays, marked
    withdrawn."""
    case = get_case(request, case_id)
    removed = face_services.face_consent_withdraw(case=case, actor=context(request).user)
    audit(context(request), "api.case.faces_withdraw", case, faces_erased=removed)
    return {
        "faces_erased": removed,
        "consent": _consent_out(case, face_selectors.face_consent_for(case=case)),
    }


# ---- the person's faces ------------------------------------------------------------------------


class FaceOut(Schema):
    """One face of the person. Its embedding (biometric data) is never shown."""

    id: int
    label: str = Field(description="The photo's file name; the photo itself was not kept.")
    face_px: int = Field(description="The face's size in the photo, in pixels.")
    model_version: str
    created_at: datetime


class PendingPhotoOut(Schema):
    id: int
    label: str
    faces: int = Field(description="How many faces the photo showed.")
    expires_at: datetime = Field(description="Unpicked faces are deleted then.")
    pick_url: str = Field(description="The web page where a caseworker picks the person's face.")


class FacesOut(Schema):
    enabled: bool
    count: int
    few_faces: bool = Field(
        description="Fewer usable faces than recommended: ask for photos from other angles."
    )
    faces: list[FaceOut]
    pending: list[PendingPhotoOut] = Field(
        description="Photos with several faces, waiting for a caseworker to pick the person's."
    )


def _face_out(face: FaceEmbedding) -> dict[str, Any]:
    return {
        "id": face.pk,
        "label": face.label,
        "face_px": face.face_px,
        "model_version": face.model_version,
        "created_at": face.created_at,
    }


def _pending_out(request: HttpRequest, pending: PendingFaces) -> dict[str, Any]:
    from app.matching.faces import EMBEDDING_BYTES

    n = len(pending.sizes or []) or len(bytes(pending.embeddings or b"")) // EMBEDDING_BYTES
    return {
        "id": pending.pk,
        "label": pending.label,
        "faces": n,
        "expires_at": pending.created_at + timedelta(hours=face_services.PENDING_HOURS),
        "pick_url": request.build_absolute_uri(
            reverse("faces_page", args=[pending.case_id]) + f"#pick-{pending.pk}"
        ),
    }


def _faces_out(request: HttpRequest, case: Case) -> dict[str, Any]:
    faces = list(face_selectors.face_list(case=case))
    return {
        "enabled": face_services.face_stage_enabled(case),
        "count": len(faces),
        "few_faces": len(faces) < face_services.FEW_FACES,
        "faces": [_face_out(f) for f in faces],
        "pending": [
            _pending_out(request, p) for p in face_selectors.pending_list(case=case).defer("embeddings")
        ],
    }


@router.get("cases/{int:case_id}/faces/", response={200: FacesOut, **ERRORS}, summary="The person's faces")
def face_list(request: HttpRequest, case_id: int = CaseId) -> dict[str, Any]:
    case = get_case(request, case_id)
    audit(context(request), "api.case.faces", case)
    return _faces_out(request, case)


class FacePhotoResult(Schema):
    name: str
    result: Literal["added", "pick", "no_face", "error"] = Field(
        description="added: one face kept; pick: several faces, a caseworker picks the person's on the "
        "web page; no_face: no usable face found; error: see error."
    )
    faces_found: int
    error: str


class FacePhotosOut(Schema):
    added: int
    results: list[FacePhotoResult]
    faces: FacesOut


@router.post(
    "cases/{int:case_id}/faces/photos/",
    response={200: FacePhotosOut, **FACE_ERRORS},
    summary="Add photos of the person's face",
)
def face_photos_add(
    request: HttpRequest, case_id: int = CaseId, photos: list[UploadedFile] = File(...)
) -> dict[str, Any]:
    """Multipart ``photos``: ordinary photos of the person (not intimate ones). Each photo's face is
    kept as an encrypted embedding and the photo is deleted at once. A photo with several faces waits
    (at most 24 hours) for a caseworker to pick the person's face on the web page; in a child's case
    such photos are refused. Needs the person's consent first (409 ``face_stage_off``)."""
    case = get_case(request, case_id)
    if len(photos) > MAX_FILES:
        message = _("At most %(max)s at a time; you sent %(n)s.") % {"max": MAX_FILES, "n": len(photos)}
        raise ApiError(400, "too_many", message, fields={"photos": [message]})
    if not face_services.face_stage_enabled(case):
        raise _face_stage_off()
    results: list[dict[str, Any]] = []
    added = 0
    for upload in photos:
        name = (upload.name or "").replace("\x00", "")[:200]
        if upload.size is not None and upload.size > settings.REFERENCE_MAX_BYTES:
            results.append(
                {"name": name, "result": "error", "faces_found": 0, "error": _("The file is too large.")}
            )
            continue
        try:
            # One photo at a time, so each file gets its own answer.
            one = face_services.face_photos_add(
                case=case, actor=context(request).user, photos=[(name, upload.read())]
            )
        except face_services.FaceInputError:
            raise _face_stage_off() from None
        if one.added:
            added += one.added
            results.append({"name": name, "result": "added", "faces_found": 1, "error": ""})
        elif one.pending:
            found = len(one.pending[0].sizes or [])
            results.append({"name": name, "result": "pick", "faces_found": found, "error": ""})
        elif one.no_face:
            results.append({"name": name, "result": "no_face", "faces_found": 0, "error": ""})
        else:
            reason = one.errors[0][1] if one.errors else _("This file could not be read as an image.")
            results.append({"name": name, "result": "error", "faces_found": 0, "error": reason})
    audit(context(request), "api.case.faces_add", case, files=len(photos), added=added)
    return {"added": added, "results": results, "faces": _faces_out(request, case)}


@router.delete(
    "cases/{int:case_id}/faces/{int:face_id}/",
    response={204: None, **ERRORS},
    summary="Remove one of the person's faces",
)
def face_delete(request: HttpRequest, case_id: int = CaseId, face_id: int = FaceId) -> Status[Any]:
    """The face's embedding is erased, with every possible deepfake found through it."""
    case = get_case(request, case_id)
    face = face_selectors.face_get_for(case=case, face_id=face_id)
    face_services.face_embedding_delete(face=face, actor=context(request).user)
    audit(context(request), "api.case.face_delete", case, face_id=face_id)
    return Status(204, None)


# ---- possible deepfakes ------------------------------------------------------------------------


class FaceMatchOut(Schema):
    """A possible deepfake: a face near one of the person's, on a fetched image or video. Never goes
    into a notice until confirmed. No image is included."""

    id: int
    url_id: int
    page_url: str
    media_id: int
    media_url: str
    media_kind: str
    state: str = Field(description="pending (waiting for a person), confirmed, or rejected.")
    distance: float = Field(description="Embedding distance to the person's nearest face; smaller is closer.")
    threshold: float | None
    face_id: int
    face_label: str
    frame: int = Field(description="The video frame the face was found in (0 for an image).")
    faces_in_image: int | None
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime
    review_url: str = Field(description="The web page showing the face region (blurred until asked).")


class FaceMatchPage(PageMeta):
    results: list[FaceMatchOut]


def _match_out(request: HttpRequest, case: Case, m: FaceMatch) -> dict[str, Any]:
    details = m.details if isinstance(m.details, dict) else {}
    threshold = details.get("face_threshold")
    faces_in_image = details.get("faces_in_image")
    return {
        "id": m.pk,
        "url_id": m.reported_url_id,
        "page_url": m.reported_url.normalized_url,
        "media_id": m.media_item_id,
        "media_url": m.media_item.url,
        "media_kind": m.media_item.kind,
        "state": m.state,
        "distance": m.distance,
        "threshold": float(threshold) if isinstance(threshold, int | float) else None,
        "face_id": m.face_id,
        "face_label": m.face.label,
        "frame": m.frame,
        "faces_in_image": int(faces_in_image) if isinstance(faces_in_image, int) else None,
        "decided_by": m.decided_by.username if m.decided_by else None,
        "decided_at": m.decided_at,
        "created_at": m.created_at,
        "review_url": request.build_absolute_uri(
            reverse("faces_page", args=[case.pk]) + f"#face-match-{m.pk}"
        ),
    }


StateFilter = Literal["pending", "confirmed", "rejected"]


def _match_page(
    request: HttpRequest, case: Case, *, state: str | None, url_id: int | None, page: int
) -> dict[str, Any]:
    waiting_first = DbCase(When(state=FaceMatchState.PENDING, then=Value(0)), default=Value(1))
    qs = face_selectors.face_match_list(case=case, state=state).order_by(waiting_first, "distance", "id")
    if url_id is not None:
        qs = qs.filter(reported_url_id=url_id)
    current, meta = paginate(request, qs, page=page, per_page=MATCHES_PER_PAGE)
    return {**meta, "results": [_match_out(request, case, m) for m in current.object_list]}


@router.get(
    "cases/{int:case_id}/faces/matches/",
    response={200: FaceMatchPage, **ERRORS},
    summary="Possible deepfakes of the case",
)
def face_match_list(
    request: HttpRequest,
    case_id: int = CaseId,
    state: StateFilter | None = Query(None, description="Only this state."),
    page: int = Query(1, ge=1, le=MAX_ID),
) -> dict[str, Any]:
    """Waiting ones first, nearest first. Descriptions only: no image, no face embedding."""
    case = get_case(request, case_id)
    result = _match_page(request, case, state=state, url_id=None, page=page)
    audit(context(request), "api.case.face_matches", case, state=state or "", page=page)
    return result


@router.get(
    "cases/{int:case_id}/urls/{int:url_id}/faces/",
    response={200: FaceMatchPage, **ERRORS},
    summary="Possible deepfakes found at one URL",
)
def face_match_list_for_url(
    request: HttpRequest,
    case_id: int = CaseId,
    url_id: int = Path(..., ge=1, le=MAX_ID),
    state: StateFilter | None = Query(None, description="Only this state."),
    page: int = Query(1, ge=1, le=MAX_ID),
) -> dict[str, Any]:
    case = get_case(request, case_id)
    reported = case_selectors.reported_url_get_for(case=case, url_id=url_id)
    result = _match_page(request, case, state=state, url_id=reported.pk, page=page)
    audit(context(request), "api.url.face_matches", case, url_id=reported.pk, state=state or "")
    return result


class FaceDecisionIn(Body):
    decision: Literal["confirm", "reject"] = Field(
        description="confirm: it is the person's face (the address can then go into a notice, worded as "
        "a forgery); reject: someone else (it never goes into a notice)."
    )


@router.post(
    "cases/{int:case_id}/faces/matches/{int:match_id}/decision/",
    response={200: FaceMatchOut, **ERRORS},
    summary="Confirm or reject a possible deepfake",
)
def face_match_decide(
    request: HttpRequest, payload: FaceDecisionIn, case_id: int = CaseId, match_id: int = FaceMatchId
) -> dict[str, Any]:
    """A caseworker's verdict, recorded with who decided and when; it can be changed later."""
    case = get_case(request, case_id)
    match = face_selectors.face_match_get_for(case=case, match_id=match_id)
    face_services.face_match_decide(
        face_match=match, actor=context(request).user, confirm=payload.decision == "confirm"
    )
    fresh = face_selectors.face_match_list(case=case).get(pk=match.pk)
    audit(context(request), "api.case.face_decision", case, match_id=match.pk, decision=payload.decision)
    return _match_out(request, case, fresh)
