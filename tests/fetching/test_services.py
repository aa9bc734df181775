"""Evidence kept in the database for a scanned reported URL (real servers, real matcher)."""

from __future__ import annotations

import pytest
from django.db import connection

from app.cases.models import ReportedUrl, UrlState
from app.cases.services import reference_add_image, reported_url_scan, reported_urls_add
from app.fetching.models import FetchRecord, MediaItem
from app.fetching.selectors import fetch_record_latest, media_item_content, media_items_for
from app.matching.fingerprint import Fingerprint
from app.matching.models import Match
from tests.fetching.servers import (
    SITE_HOST,
    TEST_NETWORKS,
    Internet,
    internet,  # noqa: F401 - fixture
    photo_bytes,
    photo_names,
    sha256,
    truncated_jpeg,
    video_from_photos,
)

NAMES = photo_names()


@pytest.fixture(autouse=True)
def _fetch_settings(settings):  # type: ignore[no-untyped-def]
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = list(TEST_NETWORKS)
    settings.FETCH_TOTAL_TIMEOUT = 4.0
    settings.FETCH_RETRIES = 0


def _scan(case, owner, url: str) -> ReportedUrl:  # type: ignore[no-untyped-def]
    added = reported_urls_add(case=case, actor=owner.user, urls=[url]).added[0]
    result = reported_url_scan(reported_url_id=added.pk)
    assert result is not None
    return result


def _gallery(internet: Internet) -> str:
    internet.site.file(
        "/clip.mp4", video_from_photos((NAMES[30], NAMES[1], NAMES[31])), content_type="video/mp4"
    )
    internet.site.file("/broken.jpg", truncated_jpeg())
    return internet.site.page(
        "/post/1",
        f"""<html><head><meta property="og:image" content="{internet.cdn.url("/photos/" + NAMES[0])}"></head>
        <body><img src="/photos/{NAMES[5]}"><video src="/clip.mp4"></video><img src="/broken.jpg"></body></html>""",
    )


def test_scan_records_page_and_media_evidence_and_matches(internet: Internet, case, owner) -> None:  # type: ignore[no-untyped-def]
    refs = {
        name: reference_add_image(case=case, actor=owner.user, data=photo_bytes(name), filename=name)
        for name in NAMES[:2]
    }
    reported = _scan(case, owner, _gallery(internet))
    assert reported.state == UrlState.MATCHED and reported.error == ""

    record = fetch_record_latest(reported_url=reported)
    assert record is not None and record.status == "ok" and record.purpose == "scan"
    assert record.http_status == 200 and record.resolved_ip == SITE_HOST
    assert record.final_url == record.requested_url == reported.normalized_url
    assert record.redirect_chain == [reported.normalized_url]
    assert record.headers["content-type"].startswith("text/html")
    assert record.page_kind == "html" and record.links_found == 4 and not record.truncated
    assert len(record.sha256) == 64 and record.size and record.fetched_at.utcoffset().total_seconds() == 0
    assert record.content is None  # the case did not opt in

    items = list(media_items_for(fetch=record))
    assert [(m.source, m.kind, m.status) for m in items] == [
        ("og:image", "image", "ok"),
        ("img", "image", "ok"),
        ("video", "video", "ok"),
        ("img", "image", "error"),
    ]
    og, photo, video, broken = items
    assert (
        og.sha256 == sha256(photo_bytes(NAMES[0])) and og.resolved_ip == "127.0.0.3" and og.http_status == 200
    )
    assert og.final_url == internet.cdn.url("/photos/" + NAMES[0]) and og.fetched_at is not None
    assert og.width and og.height and og.mime == "image/jpeg" and og.size == len(photo_bytes(NAMES[0]))
    stored = Fingerprint.from_bytes(bytes(MediaItem.objects.get(pk=og.pk).fingerprint))
    assert stored.pdq.hex() == og.pdq_hex and stored.has_features  # a match keeps its full evidence
    unmatched = Fingerprint.from_bytes(bytes(MediaItem.objects.get(pk=photo.pk).fingerprint))
    assert unmatched.pdq.hex() == photo.pdq_hex and not unmatched.has_features
    assert og.hash_versions and "pdq" in og.hash_versions
    assert photo.content is None
    assert len(video.frame_hashes) >= 3 and video.match_frame is not None
    assert (
        broken.error_code == "decode_truncated" and "truncated" in broken.error and broken.fingerprint is None
    )

    matches = {(m.media_item_id, m.reference_id) for m in Match.objects.filter(reported_url=reported)}
    assert matches == {(og.pk, refs[NAMES[0]].pk), (video.pk, refs[NAMES[1]].pk)}


def test_scanning_again_replaces_the_previous_attempt(internet: Internet, case, owner) -> None:  # type: ignore[no-untyped-def]
    reference_add_image(case=case, actor=owner.user, data=photo_bytes(NAMES[0]), filename="a")
    url = _gallery(internet)
    reported = _scan(case, owner, url)
    # A redelivered task after a worker died mid-way: the URL is back to "fetching".
    ReportedUrl.objects.filter(pk=reported.pk).update(state=UrlState.FETCHING, last_scanned_at=None)
    again = reported_url_scan(reported_url_id=reported.pk)
    assert again is not None and again.state == UrlState.MATCHED
    assert FetchRecord.objects.filter(reported_url=reported, purpose="scan").count() == 1
    assert Match.objects.filter(reported_url=reported).count() == 1


def test_kept_evidence_is_encrypted_at_rest(internet: Internet, case, owner) -> None:  # type: ignore[no-untyped-def]
    case.keep_evidence = True
    case.save(update_fields=["keep_evidence"])
    reference_add_image(case=case, actor=owner.user, data=photo_bytes(NAMES[0]), filename="a")
    reported = _scan(case, owner, internet.site.page("/p", f'<img src="/photos/{NAMES[0]}">'))
    record = fetch_record_latest(reported_url=reported)
    assert record is not None
    item = media_items_for(fetch=record).get()
    assert media_item_content(media_item=item) == photo_bytes(NAMES[0])
    assert FetchRecord.objects.get(pk=record.pk).content == b'<img src="/photos/' + NAMES[0].encode() + b'">'
    with connection.cursor() as cursor:
        cursor.execute("SELECT content FROM fetching_mediaitem WHERE id = %s", [item.pk])
        raw = bytes(cursor.fetchone()[0])
    assert raw and photo_bytes(NAMES[0])[:64] not in raw


@pytest.mark.parametrize(
    ("path", "state", "status", "code"),
    [
        ("refused", UrlState.FAILED, "refused", "private_address"),
        ("/missing", UrlState.FAILED, "error", "http_status"),
        ("/truncated.jpg", UrlState.FAILED, "error", "decode_truncated"),
        ("/no-images", UrlState.NO_MATCH, "ok", ""),
    ],
)
def test_failures_are_recorded_with_a_reason(
    internet: Internet, case, owner, path, state, status, code
) -> None:  # type: ignore[no-untyped-def]
    reference_add_image(case=case, actor=owner.user, data=photo_bytes(NAMES[0]), filename="a")
    internet.site.file("/truncated.jpg", truncated_jpeg())
    internet.site.page("/no-images", "<p>nothing to see</p>")
    url = internet.refused_spellings()[1][1] if path == "refused" else internet.site.url(path)
    reported = _scan(case, owner, url)
    assert reported.state == state
    record = fetch_record_latest(reported_url=reported)
    assert record is not None and (record.status, record.error_code) == (status, code)
    assert bool(record.error) == (status != "ok") and (reported.error == record.error)
    assert internet.canary_contacts() == 0
