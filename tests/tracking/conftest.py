"""A local site with one page per image, a local RDAP service and a local SMTP server, then a sent notice."""

from __future__ import annotations

import contextlib
import io
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from PIL import Image

from app.cases.models import Case, ReportedUrl
from app.cases.services import reference_add_image, reported_url_scan, reported_urls_add
from app.notices.models import Notice
from app.notices.services import notice_drafts_for_case, notice_send, notice_sign
from app.tracking.models import NoticeTracking
from app.tracking.services import notice_tracking_start
from tests.conftest import photo_paths
from tests.servers import SiteServer, page_with_images, serve

ABUSE_EMAIL = "abuse@hosting.test"


def jpeg(path, size: int = 480) -> bytes:  # type: ignore[no-untyped-def]
    img = Image.open(path).convert("RGB")
    img.thumbnail((size, size))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=75)
    return buf.getvalue()


def rdap_answer() -> bytes:
    return json.dumps(
        {
            "objectClassName": "ip network",
            "name": "LOCAL-HOSTING",
            "entities": [
                {"roles": ["registrant"], "vcardArray": ["vcard", [["fn", {}, "text", "Local Hosting Ltd"]]]},
                {"roles": ["abuse"], "vcardArray": ["vcard", [["email", {}, "text", ABUSE_EMAIL]]]},
            ],
        }
    ).encode()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(settings) -> Iterator[_Inbox]:  # type: ignore[no-untyped-def]
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield inbox
    finally:
        controller.stop()


@dataclass
class LocalWorld:
    site: SiteServer
    rdap: SiteServer
    case: Case
    urls: list[ReportedUrl]
    notice: Notice | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def remove_two(self) -> None:
        """The platform acts on two of three: one page is deleted, one shows a 'removed' page."""
        del self.site.files["/post/0"]
        self.site.files["/post/1"] = (
            b"<!doctype html><html><body><h1>Sorry</h1><p>This content has been removed.</p></body></html>",
            "text/html; charset=utf-8",
        )


@contextlib.contextmanager
def local_world(settings, case: Case, owner, *, scan: bool = True) -> Iterator[LocalWorld]:  # type: ignore[no-untyped-def]
    photos = photo_paths()[:3]
    for photo in photos:
        reference_add_image(case=case, actor=owner.user, data=photo.read_bytes(), filename=photo.name)
    files = {}
    for i, photo in enumerate(photos):
        files[f"/img/{i}.jpg"] = (jpeg(photo), "image/jpeg")
        files[f"/post/{i}"] = (page_with_images(f"/img/{i}.jpg"), "text/html; charset=utf-8")
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    settings.FETCH_RETRIES = 0
    with serve(files) as site, serve({"/ip/127.0.0.1": (rdap_answer(), "application/rdap+json")}) as rdap:
        settings.RDAP_BASE_URL = rdap.base
        added = reported_urls_add(
            case=case, actor=owner.user, urls=[f"{site.base}/post/{i}" for i in range(3)]
        ).added
        if scan:
            for reported in added:
                reported_url_scan(reported_url_id=reported.pk)
        yield LocalWorld(
            site=site, rdap=rdap, case=case, urls=[ReportedUrl.objects.get(pk=u.pk) for u in added]
        )


def send_notice(world: LocalWorld, owner, regime: str = "take-it-down") -> NoticeTracking:  # type: ignore[no-untyped-def]
    """Draft, sign and email the notice through the notices services; tracking then starts."""
    case = world.case
    case.authorised_on = case.created_at.date()
    case.authorisation_method = "signed letter"
    case.save()
    # Platforms reply to the organisation's address (a notice without one cannot be signed).
    case.organization.notice_sender_email = "replies@alpha-support.example"
    case.organization.save(update_fields=["notice_sender_email"])
    drafts = notice_drafts_for_case(case=case, actor=owner.user, regime=regime, with_pdf=False)
    notice = next(n for n in drafts if n.channel_address == ABUSE_EMAIL)
    notice_sign(notice=notice, actor=owner.user, signer_name="Alice Caseworker", signer_role="caseworker")
    notice = notice_send(notice=notice, actor=owner.user)
    world.notice = notice
    return notice_tracking_start(notice=notice, actor=owner.user)
