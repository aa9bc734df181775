"""Fetch once per organisation, with real Celery worker processes scanning at the same time."""

from __future__ import annotations

import pytest

from app.accounts.services import organization_create
from app.cases.models import ReportedUrl, UrlState
from app.cases.services import case_create, reference_add_image, reported_urls_add
from app.fetching.models import FetchRecord
from app.matching.models import Match
from tests.conftest import photo_paths, wait_until
from tests.servers import page_with_images, serve


@pytest.mark.slow
def test_concurrent_scans_of_one_address_in_one_organisation_make_one_request(workers, org, owner) -> None:  # type: ignore[no-untyped-def]
    photos = photo_paths()
    files = {f"/img/{i}.jpg": (photos[i].read_bytes(), "image/jpeg") for i in (0, 1, 12)}
    files["/post"] = (page_with_images("/img/0.jpg", "/img/1.jpg", "/img/12.jpg"), "text/html; charset=utf-8")
    other_org = organization_create(name="Another NGO")
    cases = []
    for n, (organization, ref) in enumerate([(org, 0), (org, 1), (org, 0), (other_org, 1)]):
        case = case_create(organization=organization, actor=None, alias=f"case {n}", jurisdiction="KR")
        reference_add_image(case=case, actor=None, data=photos[ref].read_bytes(), filename=f"ref{n}")
        cases.append(case)
    # Every request takes a second: the scans overlap, and only the lock can make them one.
    with serve(files, delay=1.0) as site:
        # Every case reports the address before any worker runs: a scan shares its fetch only when
        # another case reports the address at the time it stores it, so adding one by one while
        # scans run made the count depend on how fast this process adds (3 requests under load).
        for case in cases:
            reported_urls_add(case=case, actor=None, urls=[f"{site.base}/post"])
        workers.start(concurrency=4)
        wait_until(
            lambda: ReportedUrl.objects.filter(state=UrlState.MATCHED).count() == 4,
            timeout=120,
            message=workers.output,
        )
        page_requests = site.hits.count("/post")
    assert page_requests == 2, "one request per organisation"
    for case, ref in zip(cases, [0, 1, 0, 1], strict=True):
        matched = Match.objects.select_related("media_item").get(reported_url__case=case)
        assert matched.reference.case_id == case.pk and matched.media_item.url.endswith(f"/img/{ref}.jpg")
    org_records = FetchRecord.objects.filter(reported_url__case__organization=org)
    assert sorted(org_records.values_list("reused", flat=True)) == [False, True, True]
    assert len(set(org_records.values_list("shared_fetch_id", flat=True))) == 1
    assert not FetchRecord.objects.get(reported_url__case__organization=other_org).reused
