"""The face stage in the scan pipeline, and confirmation before any notice (real servers, real model)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from app.cases.models import ReportedUrl, UrlState
from app.cases.services import reference_add_image, reported_url_scan, reported_urls_add, url_key
from app.faces.models import FaceMatch, FaceMatchState
from app.faces.services import face_match_decide, face_photos_add
from app.fetching.models import FetchRecord, MediaItem
from app.lib.urls import normalize_url, url_host
from app.matching.models import Match
from app.notices.drafting import forgery_text
from app.notices.services import notice_drafts_for_case
from tests.faces.helpers import OTHER, PERSON, consent, face_photo
from tests.fetching.servers import (
    TEST_NETWORKS,
    Internet,
    internet,  # noqa: F401 - fixture
    photo_bytes,
    photo_names,
)


@pytest.fixture(autouse=True)
def _fetch_settings(settings):  # type: ignore[no-untyped-def]
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = list(TEST_NETWORKS)
    settings.FETCH_TOTAL_TIMEOUT = 4.0
    settings.FETCH_RETRIES = 0


def _page(internet: Internet) -> str:
    name = photo_names()[0]
    internet.site.file("/p/same-person.jpg", face_photo(PERSON, 2))
    internet.site.file("/p/someone-else.jpg", face_photo(OTHER, 1))
    internet.site.file("/p/reference-copy.jpg", photo_bytes(name))
    return internet.site.page(
        "/post/1",
        '<img src="/p/same-person.jpg"><img src="/p/someone-else.jpg"><img src="/p/reference-copy.jpg">',
    )


def _scan(case, owner, url: str) -> ReportedUrl:  # type: ignore[no-untyped-def]
    added = reported_urls_add(case=case, actor=owner.user, urls=[url]).added[0]
    result = reported_url_scan(reported_url_id=added.pk)
    assert result is not None
    return result


def test_scan_finds_the_face_only_with_consent_image_matches_first(internet: Internet, case, owner) -> None:  # type: ignore[no-untyped-def]
    url = _page(internet)
    # Face stage off (the default): no face work, no face match.
    reported = _scan(case, owner, url)
    assert reported.state == UrlState.NO_MATCH and not FaceMatch.objects.exists()

    reference_add_image(case=case, actor=owner.user, data=photo_bytes(photo_names()[0]), filename="ref.jpg")
    consent(case, owner.user)
    face_photos_add(case=case, actor=owner.user, photos=[("me.jpg", face_photo(PERSON, 1))])
    reported = _scan(case, owner, url + "?again")
    # The reference copy is an image match; the other photo of the person is a face match,
    # pending a person's check; someone else's face is nothing.
    assert reported.state == UrlState.MATCHED
    assert [m.media_item.url.rsplit("/", 1)[1] for m in Match.objects.filter(reported_url=reported)] == [
        "reference-copy.jpg"
    ]
    face = FaceMatch.objects.get(reported_url=reported)
    assert face.media_item.url.endswith("/same-person.jpg") and face.state == FaceMatchState.PENDING
    assert 0 < face.distance <= 0.47 and face.details["faces_in_image"] == 1
    assert face.face_crop and len(bytes(face.face_crop)) < 40_000  # the face region only

    # The case turns out to be a child's: every face picture goes at once, the match stays.
    from app.cases.services import case_set_age_group

    case_set_age_group(case=case, actor=owner.user, age_group="minor")
    face.refresh_from_db()
    assert face.face_crop is None and face.state == FaceMatchState.PENDING


def _face_only_url(case, url: str) -> FaceMatch:  # type: ignore[no-untyped-def]
    """A URL as the scan leaves it after a face match only: evidence kept, state "no match"."""
    from app.faces.models import FaceEmbedding
    from app.matching.faces import embedding_to_bytes

    normalized = normalize_url(url)
    reported = ReportedUrl.objects.create(
        case=case, url=url, normalized_url=normalized, url_key=url_key(normalized), host=url_host(normalized),
        state=UrlState.NO_MATCH, last_scanned_at=datetime(2026, 12, 1, 8, tzinfo=UTC),
    )  # fmt: skip
    record = FetchRecord.objects.create(
        reported_url=reported, requested_url=normalized, redirect_chain=[normalized], final_url=normalized,
        resolved_ip="198.51.100.20", http_status=200, fetched_at=datetime(2026, 12, 1, 8, tzinfo=UTC),
        sha256="cd" * 32, status="ok",
    )  # fmt: skip
    media = MediaItem.objects.create(
        fetch=record, url=normalized.rstrip("/") + "/fake.jpg", kind="image",
        sha256=hashlib.sha256(url.encode()).hexdigest(),
    )  # fmt: skip
    face = FaceEmbedding.objects.create(case=case, label="me.jpg", embedding=embedding_to_bytes([0.0] * 128))
    return FaceMatch.objects.create(reported_url=reported, media_item=media, face=face, distance=0.41)


@pytest.mark.parametrize(
    ("jurisdiction", "lang", "url", "words"),
    [
        ("US", "en", "https://x.com/someone/status/1790000000000000001", "digital forgery"),
        ("KR", "ko", "https://blog.naver.com/someone/223000000001", "제14조의2"),
    ],
)
def test_face_match_goes_into_a_notice_only_once_confirmed(
    case, owner, directory, jurisdiction, lang, url, words
) -> None:  # type: ignore[no-untyped-def]
    case.jurisdiction, case.language = jurisdiction, lang
    case.real_name, case.contact = "Kim", "kim@example.org"
    case.save()
    from app.notices.evidence import evidence_data

    match = _face_only_url(case, url)
    assert notice_drafts_for_case(case=case, actor=owner.user, with_pdf=False) == []
    assert not [m for u in evidence_data(case=case)["urls"] for m in u["matches"]]

    face_match_decide(face_match=match, actor=owner.user, confirm=True)
    drafts = notice_drafts_for_case(case=case, actor=owner.user, with_pdf=False)
    assert len(drafts) == 1
    body = drafts[0].body
    assert match.media_item.url in body
    assert forgery_text(drafts[0].regime, drafts[0].lang) in body and words in body
    (kept,) = [m for u in evidence_data(case=case)["urls"] for m in u["matches"]]
    assert kept["method"] == "face" and kept["details"]["confirmed_by"] == owner.user.username

    face_match_decide(face_match=match, actor=owner.user, confirm=False)  # changed their mind
    assert ReportedUrl.objects.get(pk=match.reported_url_id).state == UrlState.NO_MATCH
    assert notice_drafts_for_case(case=case, actor=owner.user, with_pdf=False) == []
