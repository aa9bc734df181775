"""Reference videos and fetched videos with vPDQ hashes, through the services the web and API use
(PostgreSQL, local servers for the fetched pages, the real matcher)."""

from __future__ import annotations

import io

import av
import pytest
from django.utils import translation
from PIL import Image

from app.cases.models import Reference, ReferenceSource, UrlState
from app.cases.services import (
    CaseInputError,
    case_erase,
    reference_add_image,
    reported_url_scan,
    reported_urls_add,
)
from app.cases.services.videos import reference_import_video_hash
from app.fetching.models import MediaItem
from app.matching.fingerprint import pdq_hash
from app.matching.labels import CERTAIN, SAME_VIDEO, describe_match
from app.matching.models import Match, VideoHash
from app.matching.videos import case_video_hashes_export, case_video_matcher, video_hash_features
from app.matching.vpdq import (
    vpdq_from_bytes,
    vpdq_from_signal,
    vpdq_from_text,
    vpdq_hash_video,
    vpdq_to_signal,
    vpdq_to_text,
)
from tests.fetching.servers import (
    TEST_NETWORKS,
    Internet,
    internet,  # noqa: F401 - fixture
    photo_bytes,
    photo_names,
)

NAMES = photo_names()
SCENES = [NAMES[i] for i in (2, 12, 22, 32, 42, 52)]


@pytest.fixture(autouse=True)
def _fetch_settings(settings):  # type: ignore[no-untyped-def]
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = list(TEST_NETWORKS)
    settings.FETCH_TOTAL_TIMEOUT = 6.0
    settings.FETCH_RETRIES = 0


def _img(name: str) -> Image.Image:
    return Image.open(io.BytesIO(photo_bytes(name))).convert("RGB").resize((320, 240))


def _video(images: list[Image.Image], *, fps: int = 5, seconds_each: int = 2, fade_in: bool = False) -> bytes:
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        frames = [img for img in images for _ in range(fps * seconds_each)]
        if fade_in:  # a second rising from black, as many videos open
            frames = [
                Image.blend(Image.new("RGB", (320, 240)), images[0], i / fps) for i in range(fps)
            ] + frames
        for img in frames:
            for packet in stream.encode(av.VideoFrame.from_image(img)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def _scan(case, owner, url: str):  # type: ignore[no-untyped-def]
    added = reported_urls_add(case=case, actor=owner.user, urls=[url]).added[0]
    result = reported_url_scan(reported_url_id=added.pk)
    assert result is not None
    return result


def _best_scene(reference: Reference) -> int:
    """Which scene's picture the reference's own PDQ hash was made from."""
    target = int(reference.pdq_hex, 16)
    return min(
        range(len(SCENES)), key=lambda i: bin(int(pdq_hash(_img(SCENES[i]))[0].hex(), 16) ^ target).count("1")
    )


def test_reference_video_gets_a_vpdq_hash_and_its_best_frame(case, owner) -> None:  # type: ignore[no-untyped-def]
    data = _video([_img(n) for n in SCENES], fade_in=True)
    reference = reference_add_image(case=case, actor=owner.user, data=data, filename="clip.mp4")
    # Not the black first frame: the most detailed keyframe stands for the video in the image stages.
    assert reference.pdq_quality >= 50 and "vpdq" in reference.hash_versions
    row = VideoHash.objects.get(reference=reference)
    features = video_hash_features(video_hash=row)
    assert row.frames == len(features) == 13 and row.seconds == 12.0  # 1 s fade + 6 scenes of 2 s
    assert features == vpdq_hash_video(data)
    # And the frames between those (5 a second in all), compared with but never exported.
    assert row.between and len(vpdq_from_bytes(bytes(row.between))) == 4 * 13
    # Uploading the same video again adds nothing.
    assert (
        reference_add_image(case=case, actor=owner.user, data=data, filename="again.mp4").pk == reference.pk
    )
    assert VideoHash.objects.count() == 1
    # An image gets no video hash.
    photo = reference_add_image(case=case, actor=owner.user, data=photo_bytes(NAMES[70]), filename="p.jpg")
    assert not VideoHash.objects.filter(reference=photo).exists()
    matcher = case_video_matcher(case=case)
    assert matcher is not None and len(matcher) == 1


@pytest.mark.parametrize("cut", [slice(0, 900), slice(0, 48)])
def test_unreadable_reference_video_stores_nothing(case, owner, cut: slice) -> None:  # type: ignore[no-untyped-def]
    data = _video([_img(n) for n in SCENES[:2]])[cut]
    with pytest.raises(CaseInputError):
        reference_add_image(case=case, actor=owner.user, data=data, filename="broken.mp4")
    assert not Reference.objects.filter(case=case).exists() and not VideoHash.objects.exists()


def test_fetched_cut_of_a_reference_video_matches_by_vpdq(internet: Internet, case, owner) -> None:  # type: ignore[no-untyped-def]
    reference = reference_add_image(
        case=case, actor=owner.user, data=_video([_img(n) for n in SCENES], fade_in=True), filename="clip.mp4"
    )
    best = _best_scene(reference)
    # A cut of two scenes that leaves out the reference's best frame: no keyframe can match it.
    others = [i for i in range(len(SCENES)) if i != best]
    cut = _video([_img(SCENES[others[1]]), _img(SCENES[others[2]])], fps=8)
    internet.site.file("/cut.mp4", cut, content_type="video/mp4")
    page = internet.site.page("/post/cut", '<html><body><video src="/cut.mp4"></video></body></html>')
    reported = _scan(case, owner, page)
    assert reported.state == UrlState.MATCHED
    match = Match.objects.get(reported_url=reported)
    assert match.method == "vpdq" and match.reference_id == reference.pk
    assert match.details["candidate_percent"] == 100.0 and match.details["reference_percent"] < 50
    # Identical frames count once (a still scene is one picture): two pictures, from 0 s to 2 s.
    assert match.details["frames_matched"] == 2 and match.details["to_seconds"] == 2.0
    assert match.distance <= 31
    described = describe_match(match.method, match.distance, match.details)
    assert described.kind == SAME_VIDEO and described.certainty == CERTAIN
    video = MediaItem.objects.get(pk=match.media_item_id)
    assert video.kind == "video" and video.match_frame is None
    assert video_hash_features(video_hash=VideoHash.objects.get(media_item=video)) == vpdq_hash_video(cut)


def test_keyframe_match_is_backed_by_vpdq_and_unrelated_video_is_not_matched(
    internet: Internet, case, owner
) -> None:  # type: ignore[no-untyped-def]
    frames = [_img(n) for n in SCENES[:3]]
    reference = reference_add_image(case=case, actor=owner.user, data=_video(frames), filename="clip.mp4")
    internet.site.file("/same.mp4", _video(frames, fps=10), content_type="video/mp4")
    internet.site.file("/other.mp4", _video([_img(NAMES[i]) for i in (5, 15, 25)]), content_type="video/mp4")
    same = _scan(case, owner, internet.site.page("/a", '<video src="/same.mp4"></video>'))
    match = Match.objects.get(reported_url=same)
    assert match.method.startswith("pdq") and match.details["vpdq"]["reference"] == reference.pk
    assert match.details["vpdq"]["candidate_percent"] == match.details["vpdq"]["reference_percent"] == 100.0
    other = _scan(case, owner, internet.site.page("/b", '<video src="/other.mp4"></video>'))
    assert other.state == UrlState.NO_MATCH and not Match.objects.filter(reported_url=other).exists()
    # The fetched video's hash is kept, to match against reference videos added later.
    assert VideoHash.objects.filter(media_item__fetch__reported_url=other).count() == 1


def test_without_reference_videos_fetched_videos_are_not_hashed_again(
    internet: Internet, case, owner
) -> None:  # type: ignore[no-untyped-def]
    reference_add_image(case=case, actor=owner.user, data=photo_bytes(SCENES[0]), filename="p.jpg")
    assert case_video_matcher(case=case) is None
    internet.site.file("/v.mp4", _video([_img(n) for n in SCENES[:2]]), content_type="video/mp4")
    reported = _scan(case, owner, internet.site.page("/v", '<video src="/v.mp4"></video>'))
    assert reported.state == UrlState.MATCHED  # by its keyframes, as before
    assert Match.objects.get(reported_url=reported).method.startswith("pdq")
    assert not VideoHash.objects.exists()


def test_import_and_export_of_video_hash_lists(case, owner, other_org) -> None:  # type: ignore[no-untyped-def]
    data = _video([_img(n) for n in SCENES[:3]], fade_in=True)
    features = vpdq_hash_video(data)
    reference, created = reference_import_video_hash(
        case=case, actor=owner.user, text=vpdq_to_text(features), label="from HMA"
    )
    assert created and reference.source == ReferenceSource.HASH_IMPORT and reference.label == "from HMA"
    best = max(features, key=lambda f: f.quality)
    assert reference.pdq_hex == best.pdq_hex and reference.pdq_quality == best.quality
    assert video_hash_features(video_hash=VideoHash.objects.get(reference=reference)) == features
    # The same video as an HMA signal: attached to the same reference, not a second one.
    again, created = reference_import_video_hash(case=case, actor=owner.user, text=vpdq_to_signal(features))
    assert again.pk == reference.pk and not created and VideoHash.objects.count() == 1

    [exported] = case_video_hashes_export(case=case)
    assert exported.reference_id == reference.pk and exported.frames == len(features)
    assert vpdq_from_text(exported.text) == features
    assert [(f.pdq, f.quality) for f in vpdq_from_signal(exported.signal)] == [
        (f.pdq, f.quality) for f in features
    ]

    with translation.override("en"):  # the messages are checked in English
        for bad, needle in (
            ("", "empty"),
            ("0,100,abc,0\n", "line 1"),
            ("[1]", "line 1"),
            ("{", "vPDQ"),
            ("x" * 1_000_001, "large"),
        ):
            with pytest.raises(CaseInputError) as exc:
                reference_import_video_hash(case=case, actor=owner.user, text=bad)
            assert needle in str(exc.value), (bad[:20], str(exc.value))
    assert Reference.objects.filter(case=case).count() == 1


def test_erasing_a_case_erases_its_video_hashes(internet: Internet, case, owner) -> None:  # type: ignore[no-untyped-def]
    data = _video([_img(n) for n in SCENES[:2]])
    reference_add_image(case=case, actor=owner.user, data=data, filename="clip.mp4")
    internet.site.file("/v.mp4", data, content_type="video/mp4")
    _scan(case, owner, internet.site.page("/v", '<video src="/v.mp4"></video>'))
    assert VideoHash.objects.count() == 2  # the reference's and the fetched video's
    case_erase(case=case, actor=owner.user)
    assert not VideoHash.objects.exists()
