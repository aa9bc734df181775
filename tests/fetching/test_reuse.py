"""Fetch once per organisation and re-check window (issue 17.4): a local site counts the requests."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from app.cases.models import AgeGroup, ReportedUrl, UrlState
from app.cases.services import (
    case_create,
    case_erase,
    case_set_age_group,
    reference_add_image,
    reference_fingerprints_import,
    reported_url_scan,
    reported_urls_add,
)
from app.fetching.models import FetchRecord, MediaItem, SharedFetch
from app.fetching.reuse import shared_fetches_expire
from app.fetching.scan import outcome_from_bytes
from app.fetching.services import reported_url_fetch_and_match
from app.matching.decode import decode_media
from app.matching.fingerprint import fingerprint_reference
from app.matching.models import Match
from tests.fetching.servers import (
    PHOTOS,
    TEST_NETWORKS,
    Internet,
    internet,  # noqa: F401 - fixture
    photo_bytes,
    photo_names,
)

NAMES = photo_names()
FACES = PHOTOS.parent / "faces-dev" / "people"
PAGE = "/post/shared"


@pytest.fixture(autouse=True)
def _fetch_settings(settings):  # type: ignore[no-untyped-def]
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = list(TEST_NETWORKS)
    settings.FETCH_TOTAL_TIMEOUT = 4.0
    settings.FETCH_RETRIES = 0
    settings.FETCH_REUSE_WINDOW_HOURS = 6.0


def _site(internet: Internet) -> str:
    """A page showing photo 0, photo 1 and an unrelated photo 2."""
    return internet.site.page(
        PAGE, "".join(f'<img src="/photos/{name}">' for name in (NAMES[0], NAMES[1], NAMES[2]))
    )


def _case(org, actor, alias: str, *, ref: int | None, **kwargs):  # type: ignore[no-untyped-def]
    case = case_create(organization=org, actor=actor, alias=alias, jurisdiction="KR", **kwargs)
    if ref is not None:
        # A minor's case is fingerprinted on the operator's own machine (the takedown command).
        reference_add_image(
            case=case,
            actor=actor,
            data=photo_bytes(NAMES[ref]),
            filename=f"ref{ref}.jpg",
            operator_local=True,
        )
    return case


def _add(case, actor, url: str) -> ReportedUrl:  # type: ignore[no-untyped-def]
    return reported_urls_add(case=case, actor=actor, urls=[url]).added[0]


def _scan(case, actor, url: str) -> ReportedUrl:  # type: ignore[no-untyped-def]
    added = ReportedUrl.objects.filter(case=case, url=url).first() or _add(case, actor, url)
    result = reported_url_scan(reported_url_id=added.pk)
    assert result is not None
    return result


def _requests(internet: Internet) -> int:
    """Requests for the page and its three photos."""
    return internet.site.hits(PAGE) + sum(internet.site.hits(f"/photos/{n}") for n in NAMES[:3])


def _matched_refs(reported: ReportedUrl) -> set[str]:
    return set(Match.objects.filter(reported_url=reported).values_list("reference__label", flat=True))


def _record(reported: ReportedUrl) -> FetchRecord:
    return FetchRecord.objects.filter(reported_url=reported).latest("id")


def test_two_cases_of_one_organisation_fetch_once_and_match_their_own_references(
    internet: Internet, org, owner
) -> None:  # type: ignore[no-untyped-def]
    url = _site(internet)
    first = _case(org, owner.user, "A", ref=0)
    second = _case(org, owner.user, "B", ref=1)
    _add(second, owner.user, url)
    a = _scan(first, owner.user, url)
    assert _requests(internet) == 4
    b = _scan(second, owner.user, url)
    assert _requests(internet) == 4, "the second case made no request"

    assert a.state == b.state == UrlState.MATCHED
    ra, rb = _record(a), _record(b)
    assert not ra.reused and rb.reused and ra.shared_fetch_id == rb.shared_fetch_id is not None
    # Same evidence: what was asked, where it led, when, from which address, what came back.
    for name in ("requested_url", "final_url", "resolved_ip", "http_status", "fetched_at", "sha256", "size"):
        assert getattr(ra, name) == getattr(rb, name), name
    media_a = list(MediaItem.objects.filter(fetch=ra).values_list("url", "sha256", "final_url", "fetched_at"))
    media_b = list(MediaItem.objects.filter(fetch=rb).values_list("url", "sha256", "final_url", "fetched_at"))
    assert media_a == media_b and len(media_a) == 3
    # Each case matched its own reference, and only its own.
    ref_a = first.references.get()
    ref_b = second.references.get()
    assert set(Match.objects.filter(reported_url=a).values_list("reference_id", flat=True)) == {ref_a.pk}
    assert set(Match.objects.filter(reported_url=b).values_list("reference_id", flat=True)) == {ref_b.pk}
    from app.notices.evidence import evidence_data

    (fetch_b,) = evidence_data(case=second)["urls"][0]["fetches"]
    assert fetch_b["reused"] is True and fetch_b["sha256"] == ra.sha256
    matched_b = Match.objects.get(reported_url=b).media_item
    assert matched_b.url.endswith(NAMES[1]) and matched_b.fingerprint, "evidence fingerprint of the match"


def test_another_organisation_never_sees_the_shared_fetch(
    internet: Internet, org, other_org, owner, outsider
) -> None:  # type: ignore[no-untyped-def]
    url = _site(internet)
    ours = [_case(org, owner.user, f"A{n}", ref=0) for n in range(2)]
    theirs = [_case(other_org, outsider.user, f"X{n}", ref=0) for n in range(2)]
    for case in ours:
        _add(case, owner.user, url)
    for case in theirs:
        _add(case, outsider.user, url)
    _scan(ours[0], owner.user, url)
    x = _scan(theirs[0], outsider.user, url)
    assert internet.site.hits(PAGE) == 2
    assert not _record(x).reused
    assert SharedFetch.objects.filter(organization=other_org).count() == 1
    assert SharedFetch.objects.filter(organization=org).count() == 1
    # Each organisation's second case reuses its own organisation's fetch.
    assert _record(_scan(ours[1], owner.user, url)).reused
    assert _record(_scan(theirs[1], outsider.user, url)).reused
    assert internet.site.hits(PAGE) == 2


def test_an_address_no_other_case_reports_is_not_kept(internet: Internet, org, owner) -> None:  # type: ignore[no-untyped-def]
    url = _site(internet)
    _scan(_case(org, owner.user, "A", ref=0), owner.user, url)
    assert not SharedFetch.objects.exists()
    # Once a second case reports it, that case's fetch is shared.
    _scan(_case(org, owner.user, "B", ref=1), owner.user, url)
    assert SharedFetch.objects.count() == 1 and internet.site.hits(PAGE) == 2
    assert _record(_scan(_case(org, owner.user, "C", ref=1), owner.user, url)).reused


def test_after_the_window_and_on_the_same_url_again_it_is_fetched_again(
    internet: Internet, org, owner
) -> None:  # type: ignore[no-untyped-def]
    url = _site(internet)
    first = _case(org, owner.user, "A", ref=0)
    second = _case(org, owner.user, "B", ref=1)
    _add(second, owner.user, url)
    a = _scan(first, owner.user, url)
    # The same URL's own re-check learns something new: never its own earlier fetch.
    reported_url_fetch_and_match(reported_url=a, purpose="recheck")
    assert internet.site.hits(PAGE) == 2
    with time_machine.travel(timezone.now() + timedelta(hours=6, minutes=5)):
        b = _scan(second, owner.user, url)
        assert internet.site.hits(PAGE) == 3 and not _record(b).reused
        # ...and the fresh fetch is what the other case's re-check now reuses.
        reported_url_fetch_and_match(reported_url=a, purpose="recheck")
        assert internet.site.hits(PAGE) == 3 and _record(a).reused
        assert Match.objects.filter(reported_url=a, media_item__fetch=_record(a)).count() == 1


def test_reuse_is_off_when_the_window_is_zero(internet: Internet, org, owner, settings) -> None:  # type: ignore[no-untyped-def]
    settings.FETCH_REUSE_WINDOW_HOURS = 0
    url = _site(internet)
    _scan(_case(org, owner.user, "A", ref=0), owner.user, url)
    _scan(_case(org, owner.user, "B", ref=1), owner.user, url)
    assert internet.site.hits(PAGE) == 2 and not SharedFetch.objects.exists()


def test_a_failure_is_shared_only_briefly(internet: Internet, org, owner) -> None:  # type: ignore[no-untyped-def]
    url = internet.site.url("/missing")
    second = _case(org, owner.user, "B", ref=1)
    _add(second, owner.user, url)
    _scan(_case(org, owner.user, "A", ref=0), owner.user, url)
    b = _scan(second, owner.user, url)
    assert internet.site.hits("/missing") == 1 and b.state == UrlState.FAILED and _record(b).reused
    entry = SharedFetch.objects.get()
    assert entry.expires_at - entry.fetched_at == timedelta(minutes=10)


def test_erasing_the_case_that_fetched_keeps_the_other_cases_evidence(internet: Internet, org, owner) -> None:  # type: ignore[no-untyped-def]
    url = _site(internet)
    first = _case(org, owner.user, "A", ref=0)
    second = _case(org, owner.user, "B", ref=1)
    _add(second, owner.user, url)
    _scan(first, owner.user, url)
    b = _scan(second, owner.user, url)
    evidence = list(
        MediaItem.objects.filter(fetch__reported_url=b).values_list("id", "sha256", "fingerprint")
    )
    case_erase(case=first, actor=owner.user)
    assert not SharedFetch.objects.exists(), "features of what the erased case found are gone"
    record = _record(b)
    assert record.reused and record.shared_fetch_id is None and record.http_status == 200
    assert (
        list(MediaItem.objects.filter(fetch__reported_url=b).values_list("id", "sha256", "fingerprint"))
        == evidence
    )
    assert Match.objects.filter(reported_url=b).count() == 1
    # A third case now fetches for itself.
    _scan(_case(org, owner.user, "C", ref=0), owner.user, url)
    assert internet.site.hits(PAGE) == 2


def test_expiry_deletes_the_features(internet: Internet, org, owner) -> None:  # type: ignore[no-untyped-def]
    url = _site(internet)
    second = _case(org, owner.user, "B", ref=1)
    _add(second, owner.user, url)
    _scan(_case(org, owner.user, "A", ref=0), owner.user, url)
    b = _scan(second, owner.user, url)
    assert _record(b).reused
    assert shared_fetches_expire(now=timezone.now()) == 0
    assert shared_fetches_expire(now=timezone.now() + timedelta(hours=7)) == 1
    assert not SharedFetch.objects.exists() and Match.objects.filter(reported_url=b).count() == 1


def test_shared_features_are_encrypted_at_rest_and_hold_no_bytes(internet: Internet, org, owner) -> None:  # type: ignore[no-untyped-def]
    url = _site(internet)
    _add(_case(org, owner.user, "B", ref=1), owner.user, url)
    _scan(_case(org, owner.user, "A", ref=0), owner.user, url)
    entry = SharedFetch.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM fetching_sharedfetch WHERE id = %s", [entry.pk])
        raw = bytes(cursor.fetchone()[0])
    assert raw and url.encode() not in raw and NAMES[0].encode() not in raw
    outcome = outcome_from_bytes(bytes(entry.data or b""))
    assert [m.url.rsplit("/", 1)[-1] for m in outcome.media] == NAMES[:3]
    assert all(m.content is None and m.match is None and m.fingerprints for m in outcome.media)
    assert all(m.fingerprints[0].has_features for m in outcome.media), "local features for stage 2"
    plain = bytes(entry.data or b"")
    assert all(photo_bytes(n)[200:264] not in plain for n in NAMES[:3])


def test_a_minors_case_stores_nothing_shared_but_may_reuse(internet: Internet, org, owner) -> None:  # type: ignore[no-untyped-def]
    url = _site(internet)
    minor = _case(org, owner.user, "M", ref=0, age_group=AgeGroup.MINOR)
    m = _scan(minor, owner.user, url)
    assert m.state == UrlState.MATCHED and not SharedFetch.objects.exists()
    adult = _case(org, owner.user, "A", ref=1, keep_evidence=True)
    # Keeping evidence copies needs the bytes: that case fetches for itself and stores a shared fetch.
    a = _scan(adult, owner.user, url)
    assert internet.site.hits(PAGE) == 2 and not _record(a).reused
    assert MediaItem.objects.filter(fetch__reported_url=a).exclude(content=None).count() == 3
    minor2 = _case(org, owner.user, "M2", ref=0, age_group=AgeGroup.MINOR)
    m2 = _scan(minor2, owner.user, url)
    assert internet.site.hits(PAGE) == 2 and _record(m2).reused and m2.state == UrlState.MATCHED
    assert not MediaItem.objects.filter(fetch__reported_url=m2).exclude(content=None).exists()
    # The adult case turns out to be a minor's: what its scans shared goes with its media.
    case_set_age_group(case=adult, actor=owner.user, age_group=AgeGroup.MINOR)
    assert not SharedFetch.objects.exists()
    assert _record(m2).shared_fetch_id is None and Match.objects.filter(reported_url=m2).count() == 1


def _device_made_case(org, actor, alias: str, portrait: str):  # type: ignore[no-untyped-def]
    """A case whose one reference was fingerprinted on the person's device: the page's features,
    and nobody looked for faces (the device has no face detector)."""
    fp = fingerprint_reference(decode_media((FACES / portrait).read_bytes()).frames[0])
    device = replace(fp, face_boxes=[], faces_checked=False)
    case = case_create(organization=org, actor=actor, alias=alias, jurisdiction="KR")
    document = {
        "format": "jium-fingerprints",
        "version": 1,
        "fingerprints": [{"fingerprint": base64.b64encode(device.to_bytes()).decode(), "name": "photo"}],
    }
    assert reference_fingerprints_import(case=case, actor=actor, document=document).created
    return case


def test_a_fit_only_the_pictures_faces_can_decide_is_fetched_again(internet: Internet, org, owner) -> None:  # type: ignore[no-untyped-def]
    # The page shows another photo of the person whose device-made reference case B holds. Case
    # A's scan kept the page's features without anyone's faces; B's fit of the two photos covers
    # only the face, which the stored features cannot tell from a copy: B fetches again, finds
    # the candidate's face and refuses it. B's fresh fetch, kept with the face found, then
    # decides case C's the same way without a request.
    internet.site.file("/photos/other.jpg", (FACES / "Kate_Winslet" / "4.jpg").read_bytes())
    url = internet.site.page("/post/faces", '<img src="/photos/other.jpg">')
    first = _case(org, owner.user, "A", ref=0)
    second = _device_made_case(org, owner.user, "B", "Kate_Winslet/2.jpg")
    third = _device_made_case(org, owner.user, "C", "Kate_Winslet/2.jpg")
    _add(second, owner.user, url)
    _add(third, owner.user, url)
    a = _scan(first, owner.user, url)
    assert a.state == UrlState.NO_MATCH and internet.site.hits("/post/faces") == 1
    b = _scan(second, owner.user, url)
    assert internet.site.hits("/post/faces") == 2 and not _record(b).reused
    assert b.state == UrlState.NO_MATCH and not Match.objects.filter(reported_url=b).exists()
    c = _scan(third, owner.user, url)
    assert internet.site.hits("/post/faces") == 2 and _record(c).reused
    assert c.state == UrlState.NO_MATCH
