"""Reads of the face stage. Every lookup goes through a case the caller already may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from app.cases.models import Case, ReportedUrl
from app.faces.models import FaceConsent, FaceEmbedding, FaceMatch, FaceMatchState, PendingFaces
from app.lib.lru import BuiltCache

if TYPE_CHECKING:
    from app.matching.faces import FaceMatcher

_matchers: BuiltCache[FaceMatcher] = BuiltCache(32)


def face_consent_for(*, case: Case) -> FaceConsent | None:
    return FaceConsent.objects.filter(case=case).select_related("recorded_by").first()


def face_matcher_for_case(*, case: Case) -> FaceMatcher | None:
    """The case's face matcher, or None when the face stage is off or has no faces: then the
    pipeline spends nothing on faces. Cached per worker while the case's faces stay the same."""
    from app.matching.faces import FaceMatcher, embedding_from_bytes

    if not FaceConsent.objects.filter(case=case, enabled=True).exists():
        return None
    ids = tuple(FaceEmbedding.objects.filter(case=case).order_by("id").values_list("id", flat=True))
    if not ids:
        return None

    def build() -> FaceMatcher:
        faces = FaceEmbedding.objects.filter(id__in=ids)
        return FaceMatcher([(f.pk, embedding_from_bytes(bytes(f.embedding))) for f in faces])

    return _matchers.get_or_build((case.pk, ids), build)


def face_list(*, case: Case) -> QuerySet[FaceEmbedding]:
    return FaceEmbedding.objects.filter(case=case).defer("embedding").order_by("id")


def pending_list(*, case: Case) -> QuerySet[PendingFaces]:
    return PendingFaces.objects.filter(case=case).defer("embeddings").order_by("id")


def pending_get_for(*, case: Case, pending_id: int) -> PendingFaces:
    pending = PendingFaces.objects.filter(case=case, pk=pending_id).first()
    if pending is None:
        raise Http404("No such photo")
    return pending


def face_get_for(*, case: Case, face_id: int) -> FaceEmbedding:
    face = FaceEmbedding.objects.filter(case=case, pk=face_id).first()
    if face is None:
        raise Http404("No such face")
    return face


def face_match_list(*, case: Case, state: str | None = None) -> QuerySet[FaceMatch]:
    qs = (
        FaceMatch.objects.filter(reported_url__case=case)
        .select_related("reported_url", "media_item", "face", "decided_by")
        .defer("face_crop", "face__embedding", "media_item__content", "media_item__fingerprint")
        .order_by("state", "distance", "id")
    )
    return qs.filter(state=state) if state else qs


def face_match_get_for(*, case: Case, match_id: int) -> FaceMatch:
    match = (
        FaceMatch.objects.filter(reported_url__case=case, pk=match_id).select_related("reported_url").first()
    )
    if match is None:
        raise Http404("No such face match")
    return match


def face_match_counts(*, case: Case) -> dict[str, int]:
    counts = dict.fromkeys(FaceMatchState.values, 0)
    for state in FaceMatch.objects.filter(reported_url__case=case).values_list("state", flat=True):
        counts[state] += 1
    return counts


@dataclass(frozen=True)
class UrlFaceCounts:
    """A link's possible deepfakes: waiting for a person, confirmed, rejected."""

    pending: int = 0
    confirmed: int = 0
    rejected: int = 0


def face_match_counts_by_url(*, url_ids: list[int]) -> dict[int, UrlFaceCounts]:
    """Face matches of each listed link by state (links without any are left out), for link rows."""
    rows = (
        FaceMatch.objects.filter(reported_url_id__in=url_ids)
        .values("reported_url_id")
        .annotate(
            pending=Count("id", filter=Q(state=FaceMatchState.PENDING)),
            confirmed=Count("id", filter=Q(state=FaceMatchState.CONFIRMED)),
            rejected=Count("id", filter=Q(state=FaceMatchState.REJECTED)),
        )
        .order_by()
    )
    return {
        r["reported_url_id"]: UrlFaceCounts(
            pending=r["pending"], confirmed=r["confirmed"], rejected=r["rejected"]
        )
        for r in rows
    }


def reported_urls_with_faces_to_check(*, case: Case) -> QuerySet[ReportedUrl]:
    """The case's links with at least one possible deepfake waiting for a person's check."""
    pending = FaceMatch.objects.filter(reported_url__case=case, state=FaceMatchState.PENDING)
    return ReportedUrl.objects.filter(case=case, pk__in=pending.values("reported_url_id")).order_by("id")


def reported_urls_with_faces_to_check_count(*, case: Case) -> int:
    """How many of the case's links have a possible deepfake waiting for a check.

    Counted from the face matches alone: counting the links query above made PostgreSQL pick a plan
    that grew with the square of the case's links when table statistics were stale (614 ms at 500
    links on the case page).
    """
    pending = FaceMatch.objects.filter(reported_url__case=case, state=FaceMatchState.PENDING)
    return pending.values("reported_url_id").distinct().count()
