"""References: upload images (multipart, the web's limits and discard rules), import and export hashes."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import File, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field, StrictStr

from app.api.http import MAX_BODY_BYTES, ApiError, context, no_store
from app.api.routes import ERRORS, MAX_ID, Body, audit
from app.api.routes.cases import CaseId, get_case
from app.cases import services as case_services
from app.cases.models import AgeGroup, Case, Reference
from app.cases.services import hashlists

router = Router(tags=["references"])

MAX_HASHES = 5000
MAX_FILES = 50
PDQ_HEX = re.compile(r"[0-9a-f]{64}")
NOT_A_PDQ_HASH = gettext_lazy("Not a PDQ hash: 64 hexadecimal characters expected.")


class ReferenceOut(Schema):
    id: int
    label: str
    source: str
    pdq_hex: str
    pdq_quality: int
    width: int | None
    height: int | None
    original_kept: bool
    created_at: datetime


def reference_out(r: Reference) -> dict[str, Any]:
    return {
        "id": r.pk,
        "label": r.label,
        "source": r.source,
        "pdq_hex": r.pdq_hex,
        "pdq_quality": r.pdq_quality,
        "width": r.width,
        "height": r.height,
        "original_kept": bool(getattr(r, "has_original", False)),
        "created_at": r.created_at,
    }


def _references(case_id: int) -> list[Reference]:
    from django.db.models import BooleanField, Value, When
    from django.db.models import Case as When_

    return list(
        Reference.objects.filter(case_id=case_id)
        .defer("fingerprint", "original")
        .annotate(
            has_original=When_(
                When(original__isnull=False, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("id")
    )


@router.get(
    "cases/{int:case_id}/references/", response={200: list[ReferenceOut], **ERRORS}, summary="List references"
)
def reference_list(request: HttpRequest, case_id: int = CaseId) -> list[dict[str, Any]]:
    case = get_case(request, case_id)
    audit(context(request), "api.case.references", case)
    return [reference_out(r) for r in _references(case.pk)]


class UploadResult(Schema):
    name: str
    reference: ReferenceOut | None
    already_present: bool
    error: str


class UploadOut(Schema):
    results: list[UploadResult]
    added: int


@router.post(
    "cases/{int:case_id}/references/",
    response={200: UploadOut, **ERRORS},
    summary="Upload reference images",
)
def reference_upload(
    request: HttpRequest, case_id: int = CaseId, images: list[UploadedFile] = File(...)
) -> dict[str, Any]:
    """Multipart ``images`` (one or more files). Each is fingerprinted; the original is kept (encrypted)
    only when the case asks for it, otherwise discarded at once — exactly as in the web."""
    case = get_case(request, case_id)
    if len(images) > MAX_FILES:
        message = _("At most %(max)s at a time; you sent %(n)s.") % {"max": MAX_FILES, "n": len(images)}
        raise ApiError(400, "too_many", message, fields={"images": [message]})
    before = set(case.references.values_list("pk", flat=True))
    results: list[dict[str, Any]] = []
    for upload in images:
        name = (upload.name or "").replace("\x00", "")[:200]
        if upload.size is not None and upload.size > settings.REFERENCE_MAX_BYTES:
            results.append(
                {
                    "name": name,
                    "reference": None,
                    "already_present": False,
                    "error": _("The file is too large."),
                }
            )
            continue
        try:
            reference = case_services.reference_add_image(
                case=case, actor=context(request).user, data=upload.read(), filename=name
            )
        except case_services.CaseInputError as exc:
            results.append({"name": name, "reference": None, "already_present": False, "error": str(exc)})
            continue
        reference.has_original = reference.original is not None  # type: ignore[attr-defined]
        results.append(
            {
                "name": name,
                "reference": reference_out(reference),
                "already_present": reference.pk in before,
                "error": "",
            }
        )
        before.add(reference.pk)
    added = sum(1 for r in results if r["reference"] is not None and not r["already_present"])
    audit(context(request), "api.case.references_upload", case, files=len(images), added=added)
    return {"results": results, "added": added}


@router.delete(
    "cases/{int:case_id}/references/{int:reference_id}/",
    response={204: None, **ERRORS},
    summary="Delete a reference",
)
def reference_delete(
    request: HttpRequest, case_id: int = CaseId, reference_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status[Any]:
    case = get_case(request, case_id)
    reference = Reference.objects.filter(case=case, pk=reference_id).defer("fingerprint", "original").first()
    if reference is None:
        raise ApiError(404, "not_found", _("Not found."))
    case_services.reference_delete(reference=reference, actor=context(request).user)
    audit(context(request), "api.case.reference_delete", case, reference_id=reference_id)
    return Status(204, None)


# ---- hash import and export --------------------------------------------------------------------


class HashesIn(Body):
    hashes: list[StrictStr] = Field(
        min_length=1, max_length=MAX_HASHES, description="PDQ hashes, 64 hex each."
    )


class CreatedHash(Schema):
    id: int
    pdq_hex: str


class InvalidHash(Schema):
    index: int
    value: str
    reason: str


class HashesImported(Schema):
    created: list[CreatedHash]
    already_present: int
    invalid: list[InvalidHash]


@router.post(
    "cases/{int:case_id}/references/hashes/",
    response={200: HashesImported, **ERRORS},
    url_name="case_references_hashes",
    summary="Import PDQ hashes",
)
def reference_hashes_import(request: HttpRequest, payload: HashesIn, case_id: int = CaseId) -> dict[str, Any]:
    """Hashes made elsewhere (on the person's device, or from a hash list) become references that match
    and are erased like any other."""
    case = get_case(request, case_id)
    valid: list[str] = []
    invalid = []
    for index, value in enumerate(payload.hashes):
        cleaned = value.strip().lower()
        if PDQ_HEX.fullmatch(cleaned):
            valid.append(cleaned)
        else:
            invalid.append({"index": index, "value": value[:80], "reason": str(NOT_A_PDQ_HASH)})
    if not valid:
        raise ApiError(400, "invalid", str(NOT_A_PDQ_HASH), fields={"hashes": [str(NOT_A_PDQ_HASH)]})
    unique = list(dict.fromkeys(valid))
    created, _errors = case_services.reference_import_hashes(
        case=case, actor=context(request).user, text=json.dumps(unique)
    )
    audit(context(request), "api.case.references_import", case, created=len(created), invalid=len(invalid))
    return {
        "created": [{"id": r.pk, "pdq_hex": r.pdq_hex} for r in created],
        "already_present": len(unique) - len(created),
        "invalid": invalid,
    }


ExportFormat = Literal["pdq", "csv", "json", "stopncii", "te", "te_csv", "hma"]
EXPORT_DESCRIPTION = (
    "``pdq``: one hex hash per line (what ``threatexchange match --hashes`` reads); ``csv``: "
    '``pdq_hex,quality``; ``json``: ``{"hashes": [{"pdq", "quality"}]}`` (what the hash import '
    "reads); ``stopncii``: ImagePDQ signals; ``te``: ``pdq <hash>`` per line (``threatexchange hash`` / "
    "``dataset -P -S``); ``te_csv``: ``signal_type,signal_str,collab,category,tags`` (``threatexchange "
    "dataset -P --csv``); ``hma``: a JSON array of Hasher-Matcher-Actioner bank signals, each the body "
    'of ``POST /c/bank/<bank>/signal`` (``{"pdq": hash}``). ``te``, ``te_csv`` and ``hma`` also carry '
    "the vPDQ hashes of the reference videos (signal type ``vpdq``, one frame a second)."
)
EXPORT_CONTENT = {
    "text/plain": {"schema": {"type": "string"}},
    "text/csv": {"schema": {"type": "string"}},
    "application/json": {"schema": {}},
}


@router.get(
    "cases/{int:case_id}/references/hashes/",
    response={200: None, **ERRORS, 409: ERRORS[400]},  # 409: StopNCII signals of a minor's case
    summary="Export the case's hashes",
    openapi_extra={
        "responses": {200: {"description": "The hashes in the chosen format.", "content": EXPORT_CONTENT}}
    },
)
def reference_hashes_export(
    request: HttpRequest,
    case_id: int = CaseId,
    format: ExportFormat = Query("pdq", description=EXPORT_DESCRIPTION),
) -> HttpResponse:
    """PDQ hashes only, never keypoint features, images or anything about the person."""
    case = get_case(request, case_id)
    if format == "stopncii" and case.is_minor:
        # StopNCII is for adults; a young person's hashes go to NCMEC's Take It Down instead.
        raise ApiError(409, "minor_case", str(MINOR_NOT_STOPNCII))
    rows = list(Reference.objects.filter(case=case).order_by("id").values_list("pdq_hex", "pdq_quality"))
    videos = _video_signals(Case.objects.filter(pk=case.pk), format)
    audit(
        context(request),
        "api.case.references_export",
        case,
        format=format,
        count=len(rows),
        videos=len(videos),
    )
    return hash_list_response(rows, format, f"case-{case.pk}-hashes", videos=videos)


def _video_signals(cases: QuerySet[Case], format: str) -> list[str]:
    """The cases' vPDQ hashes as signal strings, for the formats with a ``vpdq`` signal type."""
    from app.matching.videos import video_hashes_export

    if format not in hashlists.VIDEO_FORMATS:
        return []
    return list(dict.fromkeys(v.signal for v in video_hashes_export(cases=cases)))


def hash_list_response(
    rows: list[tuple[str, int]], format: str, stem: str, *, videos: list[str] | None = None
) -> HttpResponse:
    """PDQ hashes (and vPDQ signals) in an exchange format; no features, no images."""
    body, content_type, extension = hashlists.hash_list_render(
        rows, format, collab="jium", videos=videos or []
    )
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{stem}.{extension}"'
    return no_store(response)


MINOR_NOT_STOPNCII = gettext_lazy(
    "A minor's hashes are not exported as StopNCII signals: StopNCII is for adults. "
    "For a young person, use NCMEC's Take It Down, which hashes on their own device."
)


@router.get(
    "hashes/",
    response={200: None, **ERRORS},
    summary="Export the organisation's hashes",
    openapi_extra={
        "responses": {
            200: {
                "description": "Every PDQ hash of the adults' cases you may see, in the chosen format.",
                "content": EXPORT_CONTENT,
            }
        }
    },
)
def organisation_hashes_export(
    request: HttpRequest,
    format: ExportFormat = Query("pdq", description=EXPORT_DESCRIPTION),
) -> HttpResponse:
    """For sharing with a hash-matching partner (Hasher-Matcher-Actioner, ThreatExchange, StopNCII):
    each distinct PDQ hash of an adult's case once, with its best quality. Never keypoint features,
    images, or a minor's case."""
    from django.db.models import Max

    from app.cases.selectors import case_list_for

    api = context(request)
    # Only adults' cases: an NGO-wide list is for sharing with adult-only partners (StopNCII, HMA
    # banks); a minor's hashes go through the hotlines (Take It Down, NCMEC) instead.
    rows = list(
        Reference.objects.filter(case__in=case_list_for(user=api.user), case__age_group=AgeGroup.ADULT)
        .values("pdq_hex")
        .annotate(quality=Max("pdq_quality"))
        .order_by("pdq_hex")
        .values_list("pdq_hex", "quality")
    )
    videos = _video_signals(case_list_for(user=api.user).filter(age_group=AgeGroup.ADULT), format)
    audit(api, "api.hashes.export", None, format=format, count=len(rows), videos=len(videos))
    return hash_list_response(rows, format, "jium-hashes", videos=videos)


class Signal(Body):
    signalType: StrictStr = Field(
        description="ImagePDQ (imported) or VideoMD5 (not matched by Jium: reported as skipped)."
    )
    hashValue: StrictStr = Field(max_length=200)
    quality: int | None = Field(None, ge=0, le=100)


ImportFormat = Literal["pdq", "csv", "stopncii", "te", "te_csv", "hma"]


class HashListIn(Body):
    format: ImportFormat = Field(
        description="pdq: one hex hash per line; csv: hash,quality rows (a header is allowed); "
        "stopncii: signals with signalType and hashValue; te: 'signal_type signal' per line "
        "(threatexchange hash / dataset -P); te_csv: threatexchange dataset --csv "
        "(signal_type,signal_str,collab,category,tags); hma: Hasher-Matcher-Actioner bank content, "
        "a JSON array of POST /c/bank/<bank>/signal bodies or of bank content records with signals. "
        "In te, te_csv and hma, vpdq signals (video hashes) become reference videos."
    )
    content: StrictStr | None = Field(
        None, max_length=MAX_BODY_BYTES, description="The list, for every format but stopncii."
    )
    signals: list[Signal] | None = Field(None, max_length=MAX_HASHES, description="For stopncii.")


class HashListImported(Schema):
    created: list[CreatedHash]
    already_present: int
    skipped: list[str]


def _parse_list(payload: HashListIn) -> hashlists.ParsedList:
    """The PDQ hashes of the list, whichever format; a 400 when there is none at all."""
    field = "signals" if payload.format == "stopncii" else "content"
    no_hashes = _("No PDQ hashes were found in this file.")
    if payload.format == "stopncii":
        # Read like a StopNCII file, so the reasons are the same translated sentences.
        parsed = hashlists.hash_list_signals_read(
            hashlists.ParsedList(), signals=[signal.model_dump() for signal in payload.signals or []]
        )
    elif payload.format in ("pdq", "csv"):
        parsed = hashlists.ParsedList()
        text = payload.content or ""
        if text.strip():
            try:
                parsed = hashlists.hash_list_parse_simple(content=text)
            except case_services.CaseInputError as exc:
                raise ApiError(400, "invalid", str(exc), fields={field: [str(exc)]}) from None
            parsed.skipped = [f"{NOT_A_PDQ_HASH}: {e[:80]}" for e in parsed.skipped]
    else:
        try:
            parsed = hashlists.hash_list_parse(format=payload.format, content=payload.content or "")
        except case_services.CaseInputError as exc:
            raise ApiError(400, "invalid", str(exc), fields={field: [str(exc)]}) from None
    if not parsed.hashes and not parsed.skipped and not parsed.videos:
        raise ApiError(400, "invalid", no_hashes, fields={field: [no_hashes]})
    return parsed


@router.post(
    "cases/{int:case_id}/references/hashlist/",
    response={200: HashListImported, **ERRORS},
    summary="Import a hash list (HMA, ThreatExchange or StopNCII formats)",
)
def reference_hashlist_import(
    request: HttpRequest, payload: HashListIn, case_id: int = CaseId
) -> dict[str, Any]:
    """Hash lists from the matching ecosystem become references of the case that match and are erased
    like hashes made in Jium; ``vpdq`` signals become reference videos, matched frame by frame
    against fetched videos. Signals Jium does not match (video MD5, and any other type) and video
    hashes that cannot be read are listed under ``skipped``: Jium matches video by its frames' PDQ
    hashes, not by file MD5."""
    case = get_case(request, case_id)
    parsed = _parse_list(payload)
    result = hashlists.case_hash_list_import(case=case, actor=context(request).user, parsed=parsed)
    audit(
        context(request),
        "api.case.hashlist_import",
        case,
        format=payload.format,
        count=len(result.created),
        skipped=len(result.skipped),
    )
    return {
        "created": [{"id": r.pk, "pdq_hex": r.pdq_hex} for r in result.created],
        "already_present": result.already_present,
        "skipped": result.skipped,
    }


class OrgHashListIn(HashListIn):
    name: StrictStr = Field(
        min_length=1,
        max_length=100,
        description="The list's name: the case that holds the list for the organisation is called this.",
    )
    age_group: Literal["adult", "minor"] = Field(
        "adult",
        description="minor: the list is of young people's images; it is then never part of the "
        "organisation's hash export (which goes to adult-only partners).",
    )


class OrgHashListImported(HashListImported):
    case_id: int = Field(description="The case that now holds the list.")
    case_url: str


@router.post(
    "hashes/",
    response={201: OrgHashListImported, **ERRORS},
    summary="Import a hash list for the whole organisation",
)
def organisation_hashes_import(
    request: HttpRequest, response: HttpResponse, payload: OrgHashListIn
) -> Status[Any]:
    """A partner's list (HMA bank, ThreatExchange dataset, StopNCII signals, PDQ per line) becomes a
    case of its own named ``name``: its hashes are references like any other, so they are found in
    the organisation-wide index (shown on other cases' evidence), URLs reported to that case are
    checked against the whole list, and erasing the case erases the list. Add later versions of the
    list with ``POST /cases/{case_id}/references/hashlist/``. Nothing is created when the list holds
    no PDQ hash and no readable vPDQ hash."""
    from django.urls import reverse

    api = context(request)
    parsed = _parse_list(payload)
    if not parsed.hashes and not parsed.videos:
        # Never an empty list case: say why each entry was left out.
        no_hashes = _("No PDQ hashes were found in this file.")
        field = "signals" if payload.format == "stopncii" else "content"
        raise ApiError(400, "invalid", no_hashes, fields={field: [no_hashes, *parsed.skipped[:20]]})
    alias = payload.name.replace("\x00", "").strip()
    if not alias:
        message = _("Give the list a name.")
        raise ApiError(400, "invalid", message, fields={"name": [message]})
    try:
        case, result = hashlists.organization_hash_list_import(
            organization=api.membership.organization,
            actor=api.user,
            name=alias,
            parsed=parsed,
            age_group=AgeGroup.ADULT if payload.age_group == "adult" else AgeGroup.MINOR,
        )
    except case_services.CaseInputError as exc:
        field = "signals" if payload.format == "stopncii" else "content"
        raise ApiError(400, "invalid", str(exc), fields={field: [str(exc)]}) from None
    audit(api, "api.hashes.import", case, format=payload.format, count=len(result.created))
    url = request.build_absolute_uri(reverse("api:case_detail", args=[case.pk]))
    response["Location"] = url
    return Status(
        201,
        {
            "case_id": case.pk,
            "case_url": url,
            "created": [{"id": r.pk, "pdq_hex": r.pdq_hex} for r in result.created],
            "already_present": result.already_present,
            "skipped": result.skipped,
        },
    )


# ---- fingerprint documents made on the person's device (issue 14) ------------------------------


class FingerprintsImported(Schema):
    created: list[ReferenceOut]
    upgraded: int = Field(
        description="References that had a hash only and now have shape features too, or had shape "
        "features and now have band hashes too (sent again from the newer page)."
    )
    already_present: int
    skipped: list[str] = Field(description="One short reason per fingerprint that could not be used.")


@router.post(
    "cases/{int:case_id}/references/fingerprints/",
    response={200: FingerprintsImported, **ERRORS},
    summary="Import a fingerprint file made on the person's device",
    openapi_extra={
        "requestBody": {
            "description": "The document the /fingerprint/ page downloads or sends "
            '({"format": "jium-fingerprints", "version": 1, "fingerprints": [...]}), as the JSON body, or '
            "as a multipart file field named document (up to 16 MB).",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"document": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
    },
)
def reference_fingerprints_import(request: HttpRequest, case_id: int = CaseId) -> dict[str, Any]:
    """Fingerprints made in the person's browser (PDQ, and shape features when they chose them): stored
    encrypted like server-made ones, never in hash exports, erased with the case. No image is involved."""
    from django.core.exceptions import RequestDataTooBig

    from app.matching.document import MAX_DOCUMENT_BYTES

    case = get_case(request, case_id)
    too_large = _("The fingerprint file is too large.")
    try:
        multipart = request.content_type == "multipart/form-data"
        upload = request.FILES.get("document") if multipart else None
        if multipart and upload is None:
            missing = _("Send one fingerprint file of at most 16 MB.")
            raise ApiError(400, "invalid", str(missing), fields={"document": [str(missing)]})
        if upload is not None:
            if upload.size is not None and upload.size > MAX_DOCUMENT_BYTES:
                raise ApiError(400, "too_large", str(too_large), fields={"document": [str(too_large)]})
            document: bytes = upload.read()
        else:
            document = request.body
    except RequestDataTooBig:
        raise ApiError(400, "too_large", str(too_large), fields={"document": [str(too_large)]}) from None
    try:
        result = case_services.reference_fingerprints_import(
            case=case, actor=context(request).user, document=document, via="api"
        )
    except case_services.CaseInputError as exc:
        raise ApiError(400, "invalid", str(exc), fields={"document": [str(exc)]}) from exc
    audit(
        context(request),
        "api.case.references_fingerprints",
        case,
        count=len(result.created) + len(result.upgraded),
        created=len(result.created),
        skipped=len(result.skipped),
    )
    for reference in result.created:
        reference.has_original = False  # type: ignore[attr-defined]
    return {
        "created": [reference_out(r) for r in result.created],
        "upgraded": len(result.upgraded),
        "already_present": result.duplicates,
        "skipped": result.skipped,
    }
