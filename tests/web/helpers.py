"""Access-test helpers: every view is checked with owner, teammate, outsider and victim users."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from PIL import Image

from tests.conftest import photo_paths


def assert_not_found_for_outsider(client, outsider, url: str, method: str = "get", data=None) -> None:
    client.force_login(outsider.user)
    response = getattr(client, method)(url, data or {})
    assert response.status_code == 404, (
        f"{method.upper()} {url} gave {response.status_code} to another organisation"
    )


def status_for(client, membership, url: str, method: str = "get", data=None) -> int:
    client.force_login(membership.user)
    response = getattr(client, method)(url, data or {})
    client.logout()
    return response.status_code


def photo_bytes(index: int = 0) -> bytes:
    return photo_paths()[index].read_bytes()


def small_jpeg(index: int = 0, size: int = 320) -> bytes:
    img = Image.open(photo_paths()[index]).convert("RGB")
    img.thumbnail((size, size))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=85)
    return out.getvalue()


def make_evidence(
    case, *, url: str = "https://pics.example/p/1", content: bytes | None = None, index: int = 0
):
    """A scanned link with one matched image, written the way the fetch pipeline writes it."""
    import hashlib

    from app.cases.models import ReportedUrl, UrlState
    from app.cases.services import reference_add_image, url_key
    from app.fetching.models import FetchRecord, FetchStatus, MediaItem
    from app.matching.models import Match

    reference = reference_add_image(case=case, actor=None, data=small_jpeg(index), filename=f"ref{index}.jpg")
    reported = ReportedUrl.objects.create(
        case=case,
        url=url,
        normalized_url=url,
        url_key=url_key(url),
        host=url.split("/")[2],
        state=UrlState.MATCHED,
        last_scanned_at=datetime.now(UTC),
    )
    record = FetchRecord.objects.create(
        reported_url=reported,
        requested_url=url,
        redirect_chain=[url + "?r=1"],
        final_url=url,
        resolved_ip="203.0.113.9",
        http_status=200,
        fetched_at=datetime.now(UTC),
        sha256="ab" * 32,
        status=FetchStatus.OK,
    )
    data = content if content is not None else small_jpeg(index)
    media = MediaItem.objects.create(
        fetch=record,
        url=url + "/img.jpg",
        kind="image",
        mime="image/jpeg",
        sha256=hashlib.sha256(data).hexdigest(),
        width=320,
        height=240,
        size=len(data),
        content=data if case.keep_evidence else None,
    )
    match = Match.objects.create(
        reported_url=reported,
        media_item=media,
        reference=reference,
        method="orb-homography",
        distance=31.5,
        details={"inliers": 57},
    )
    return reported, media, match
