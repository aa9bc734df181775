"""vPDQ video hashes in the hash-list exchange (``te``, ``te_csv``, ``hma``): exported beside the
PDQ hashes, imported as reference videos that match fetched videos and are erased with their case
(PostgreSQL, local servers serving real videos, the real matcher)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.utils import translation

from app.cases.models import AgeGroup, Case, Reference, UrlState
from app.cases.services import case_create, case_erase, reported_url_scan, reported_urls_add
from app.cases.services.hashlists import hash_list_parse, hash_list_sniff
from app.matching.models import Match, VideoHash
from app.matching.videos import video_hash_features
from app.matching.vpdq import vpdq_from_signal, vpdq_hash_video, vpdq_to_signal
from tests.fetching.servers import (
    TEST_NETWORKS,
    Internet,
    internet,  # noqa: F401 - fixture
)
from tests.matching.test_videos import SCENES, _best_scene, _img, _video


@pytest.fixture(autouse=True)
def _fetch_settings(settings):  # type: ignore[no-untyped-def]
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = list(TEST_NETWORKS)
    settings.FETCH_TOTAL_TIMEOUT = 6.0
    settings.FETCH_RETRIES = 0


def _video_entries(fmt: str, exported: str) -> tuple[list[str], str]:
    """The vPDQ signals of an exported list, and the list cut down to its video entries only."""
    if fmt == "te":
        lines = [line for line in exported.splitlines() if line.startswith("vpdq ")]
        return [line.split(" ", 1)[1] for line in lines], "\n".join(lines)
    if fmt == "te_csv":
        rows = list(csv.reader(io.StringIO(exported)))
        kept = [rows[0]] + [r for r in rows[1:] if r[0] == "vpdq"]
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(kept)
        return [r[1] for r in kept[1:]], out.getvalue()
    items = [i for i in json.loads(exported) if "vpdq" in i]
    return [i["vpdq"] for i in items], json.dumps(items)


@pytest.mark.parametrize("fmt", ["te", "te_csv", "hma"])
def test_video_hash_round_trip_matches_a_fetched_video_and_is_erased(
    internet: Internet, api_for, client, case, owner, fmt
):  # type: ignore[no-untyped-def]
    from app.cases.services import reference_add_image

    data = _video([_img(n) for n in SCENES], fade_in=True)
    uploaded = reference_add_image(case=case, actor=owner.user, data=data, filename="clip.mp4")
    api = api_for(owner)
    response = api.get(f"/api/v1/cases/{case.pk}/references/hashes/", {"format": fmt})
    assert response.status_code == 200
    exported = response.content.decode()
    assert uploaded.pdq_hex in exported  # the video's keyframe PDQ, as before
    signals, video_only = _video_entries(fmt, exported)
    # Only Meta's one-a-second frames, never the frames hashed between them.
    assert len(signals) == 1
    assert [(f.pdq, f.quality) for f in vpdq_from_signal(signals[0])] == [
        (f.pdq, f.quality) for f in vpdq_hash_video(data)
    ]
    assert len(vpdq_from_signal(signals[0])) == 13  # 1 s fade + 6 scenes of 2 s, one a second

    # Into another case, from the video hash alone: no keyframe fingerprint, no PDQ line.
    other = case_create(organization=case.organization, actor=owner.user, alias="Other", jurisdiction="KR")
    imported = api.post(
        f"/api/v1/cases/{other.pk}/references/hashlist/", {"format": fmt, "content": video_only}
    )
    assert imported.status_code == 200, imported.content
    body = imported.json()
    assert len(body["created"]) == 1 and body["skipped"] == [] and body["already_present"] == 0
    reference = Reference.objects.get(case=other)
    assert reference.pk == body["created"][0]["id"]
    row = VideoHash.objects.get(reference=reference)
    assert [(f.pdq, f.quality) for f in video_hash_features(video_hash=row)] == [
        (f.pdq, f.quality) for f in vpdq_hash_video(data)
    ]
    assert not row.between  # a list carries no in-between frames
    # Importing it again adds nothing.
    again = api.post(f"/api/v1/cases/{other.pk}/references/hashlist/", {"format": fmt, "content": video_only})
    assert again.json()["created"] == [] and again.json()["already_present"] == 1

    # A fetched cut that leaves out the best frames of both cases' references: only vPDQ finds it.
    best = {_best_scene(uploaded), _best_scene(reference)}
    others = [i for i in range(len(SCENES)) if i not in best]
    cut = _video([_img(SCENES[others[0]]), _img(SCENES[others[1]])], fps=8)
    internet.site.file("/cut.mp4", cut, content_type="video/mp4")
    page = internet.site.page("/post/cut", '<html><body><video src="/cut.mp4"></video></body></html>')
    added = reported_urls_add(case=other, actor=owner.user, urls=[page]).added[0]
    scanned = reported_url_scan(reported_url_id=added.pk)
    assert scanned is not None and scanned.state == UrlState.MATCHED
    match = Match.objects.get(reported_url=scanned)
    assert match.method == "vpdq" and match.reference_id == reference.pk
    assert match.details["candidate_percent"] == 100.0
    # Its evidence page reads like an uploaded video's match (the reference has no keyframe features).
    client.force_login(owner.user)
    with translation.override("en"):
        html = client.get(f"/cases/{other.pk}/urls/{scanned.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert html.status_code == 200 and "Same video" in html.content.decode()

    # Erasing the case erases the imported video hash (and the fetched video's), not the other case's.
    case_erase(case=other, actor=owner.user)
    assert not Reference.objects.filter(case_id=other.pk).exists()
    assert list(VideoHash.objects.values_list("reference_id", flat=True)) == [uploaded.pk]


def test_organisation_export_has_adults_video_hashes_only(api_for, case, owner):  # type: ignore[no-untyped-def]
    from app.cases.services import reference_add_image

    data = _video([_img(n) for n in SCENES[:2]])
    reference_add_image(case=case, actor=owner.user, data=data, filename="clip.mp4")
    api = api_for(owner)
    signal = vpdq_to_signal(vpdq_hash_video(data))
    hma = api.get("/api/v1/hashes/", {"format": "hma"}).json()
    assert [i["vpdq"] for i in hma if "vpdq" in i] == [signal]
    te = api.get("/api/v1/hashes/", {"format": "te"}).content.decode()
    assert f"vpdq {signal}\n" in te
    # The formats without a video signal type carry the PDQ hashes only.
    for fmt in ("pdq", "csv", "json", "stopncii"):
        assert "vpdq" not in api.get("/api/v1/hashes/", {"format": fmt}).content.decode()
    # A minor's case stays out of the organisation's list, its videos too.
    Case.objects.filter(pk=case.pk).update(age_group=AgeGroup.MINOR)
    assert not [i for i in api.get("/api/v1/hashes/", {"format": "hma"}).json() if "vpdq" in i]
    # The case's own list still has it (the same rules as its image hashes).
    own = api.get(f"/api/v1/cases/{case.pk}/references/hashes/", {"format": "hma"}).json()
    assert [i["vpdq"] for i in own if "vpdq" in i] == [signal]


def test_threatexchange_printed_vpdq_lines_and_bad_video_hashes(api_for, case, owner):  # type: ignore[no-untyped-def]
    frames = [f"{'0123456789abcdef' * 4},100,{n}.000" for n in range(3)]
    printed = "vpdq " + json.dumps(frames)  # JSON's spaces, as `threatexchange hash` prints it
    # `dataset -P` without -S: the collaboration and metadata follow the signal.
    with_meta = printed + " jium-collab {'tags': []}"
    assert hash_list_sniff(printed) == "te"
    parsed = hash_list_parse(format="te", content=f"{printed}\n{with_meta}\n")
    assert [s for _w, s in parsed.videos] == [json.dumps(frames)] * 2
    api = api_for(owner)
    path = f"/api/v1/cases/{case.pk}/references/hashlist/"
    content = "\n".join([with_meta, 'vpdq ["nothex,100,0"]', "vpdq [", "video_md5 " + "d" * 32])
    with translation.override("en"):
        response = api.post(path, {"format": "te", "content": content})
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["created"]) == 1
    assert [s.split(":")[0] for s in body["skipped"]] == ["line 4", "line 2", "line 3"]
    assert "video_md5 is not a signal type" in body["skipped"][0]
    assert "vPDQ" in body["skipped"][1] and "vPDQ" in body["skipped"][2]
    # In Korean too.
    # (The request leaves Korean active in this thread; give later tests back the language they had.)
    with translation.override(translation.get_language()):
        response = api.client.post(
            path,
            json.dumps({"format": "hma", "content": json.dumps([{"vpdq": "[1]"}])}),
            content_type="application/json",
            headers={**api._headers(), "Accept-Language": "ko"},
        )
    assert response.status_code == 200
    [reason] = response.json()["skipped"]
    assert "영상" in reason, reason
    # An organisation list whose only video hash cannot be read makes no case.
    before = Case.objects.count()
    refused = api.post("/api/v1/hashes/", {"format": "hma", "content": '[{"vpdq": "[1]"}]', "name": "Bad"})
    assert refused.status_code == 400 and Case.objects.count() == before
    # A list with only a good video hash makes one.
    made = api.post("/api/v1/hashes/", {"format": "te", "content": printed, "name": "Videos"})
    assert made.status_code == 201, made.content
    assert VideoHash.objects.filter(reference__case_id=made.json()["case_id"]).count() == 1
