"""Every web URL pattern that names an object refuses another organisation's admin.

A sweep, not a list: the patterns come from the URL resolver, so a view added later is covered
without anybody remembering to write its access test. Each id is filled with a real object of the
victim's organisation; the outsider (an admin elsewhere) must get 404 (or 405) for GET and POST,
and no page may carry the case's alias.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.urls import URLPattern, URLResolver, get_resolver

from app.accounts.models import Membership
from app.api.models import WebhookEndpoint
from app.api.services import api_token_create
from app.api.webhooks import webhook_endpoint_create
from app.faces.models import FaceEmbedding, FaceMatch, PendingFaces
from app.fetching.models import MediaItem
from app.tracking.models import Escalation, EscalationKind, UrlTracking, Watch
from tests.tracking.helpers import seed_notice
from tests.web.helpers import make_evidence


def _patterns(resolvers: list, prefix: str = "") -> list[str]:  # type: ignore[type-arg]
    found: list[str] = []
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            found += _patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append(prefix + str(entry.pattern))
    return found


def _victims_objects(case, owner) -> dict[str, object]:  # type: ignore[no-untyped-def]
    reported, media, _match = make_evidence(case)
    tracking = seed_notice(case, platform="Reddit", regime="take-it-down", status="open")
    face = FaceEmbedding.objects.create(case=case, embedding=b"\0" * 512, model_version="test")
    face_match = FaceMatch.objects.create(
        reported_url=reported, media_item=media, face=face, distance=0.3, box=[0, 0, 10, 10]
    )
    pending = PendingFaces.objects.create(case=case, embeddings=b"\0" * 1024, sizes=[40, 40])
    watch = Watch.objects.create(
        case=case, url="https://pics.example/w", normalized_url="https://pics.example/w"
    )
    escalation = Escalation.objects.create(
        tracking=tracking, kind=EscalationKind.REMINDER, lang="en", recipient_name="Reddit",
        created_at=datetime.now(UTC),
    )  # fmt: skip
    token, _raw = api_token_create(user=owner.user, name="sweep")
    webhook = webhook_endpoint_create(
        organization=case.organization,
        actor=owner.user,
        url="https://ngo.example/hook",
        events=["url.matched"],
    )
    return {
        "case_id": case.pk,
        "url_id": reported.pk,
        "media_id": media.pk,
        "reference_id": case.references.first().pk,
        "notice_id": tracking.notice_id,
        "tracking_id": tracking.pk,  # notice tracking; the URL-tracking routes get theirs below
        "escalation_id": escalation.pk,
        "watch_id": watch.pk,
        "face_id": face.pk,
        "match_id": face_match.pk,
        "pending_id": pending.pk,
        "index": 0,
        "membership_id": Membership.objects.get(user=owner.user).pk,
        "token_id": token.pk,
        "webhook_id": webhook.pk,
        "fmt": "json",
    }


def test_no_web_url_gives_another_organisations_admin_anything(client, case, owner, outsider):
    ids = _victims_objects(case, owner)
    url_tracking_id = UrlTracking.objects.filter(case=case).values_list("pk", flat=True).first()
    outsider.organization.require_two_factor = False
    outsider.organization.save()
    client.force_login(outsider.user)
    swept, leaks = [], []
    for pattern in _patterns(get_resolver().url_patterns):
        names = re.findall(r"<(?:\w+:)?(\w+)>", pattern)
        if pattern.startswith("api/") or not set(names) - {"fmt", "token", "index", "path"}:
            continue  # the API has its own sweep (schemathesis); formats and tokens name no object
        values = dict(ids)
        if "/tracking/urls/" in pattern:
            values["tracking_id"] = url_tracking_id
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), pattern)  # noqa: B023
        swept.append(path)
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            body = response.content.decode(errors="replace")
            if response.status_code not in (404, 405) or case.alias in body:
                leaks.append(f"{method.upper()} {path} -> {response.status_code}")
    assert MediaItem.objects.filter(pk=ids["media_id"]).exists()  # nothing was erased on the way
    assert WebhookEndpoint.objects.filter(pk=ids["webhook_id"], active=True).exists()
    assert leaks == [], leaks
    assert len(swept) >= 60, len(swept)
    print(f"{len(swept)} object URLs swept, GET and POST")
