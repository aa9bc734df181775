"""Who gets a notice, under which law, in which language, and the words of it.

A notice's language is a property of the notice (the platform's language, else the caseworker's
choice), not of the interface, so letters are per-language templates
(``templates/notices/letters/<regime>.<lang>.txt``) rather than gettext strings. Legal citations
and authority names come from the editable ``Regime`` rows, never from the templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from app.cases.models import Case, ReportedUrl
from app.cases.selectors import reported_url_matches_per_file
from app.fetching.models import FetchRecord
from app.lib.http import FetchPolicy
from app.matching.labels import describe_match
from app.platforms.models import Channel, Platform, PlatformKind, Regime
from app.platforms.rdap import abuse_contact_for, registrable_domain
from app.platforms.resolve import resolve_url

JURISDICTION_REGIME = {"KR": "kr", "US": "take-it-down", "EU": "dsa", "UK": "uk"}
REGIMES = ("take-it-down", "dsa", "dmca", "kr", "uk", "platform")
LANGS = ("ko", "en")
DELISTING_PLATFORMS = ("google-search",)
# A minor's case uses the child-protection version of each regime (its own rows and letters).
# DMCA never fits a minor's case: copyright is not the ground for removing abuse material.
MINOR_REGIMES = {
    "kr": "kr-minor",
    "take-it-down": "take-it-down-minor",
    "dsa": "dsa-minor",
    "uk": "uk-minor",
    "platform": "platform-minor",
}


def minor_regime(*, regime: str, jurisdiction: str) -> str:
    """The child-protection regime that replaces ``regime`` in a minor's case."""
    if regime in MINOR_REGIMES.values():
        return regime
    if regime in MINOR_REGIMES:
        return MINOR_REGIMES[regime]
    own = JURISDICTION_REGIME.get(jurisdiction, "platform")
    return MINOR_REGIMES.get(own, "platform-minor")


def choose_regime(*, jurisdiction: str, accepted: list[str], override: str = "auto") -> str:
    """The victim's own law when the platform takes it, else the platform's preferred one.

    DMCA is never chosen automatically: it needs the victim to own the copyright.
    """
    if override and override != "auto":
        return override
    own = JURISDICTION_REGIME.get(jurisdiction)
    if own and (not accepted or own in accepted):
        return own
    for code in accepted:
        if code != "dmca":
            return code
    return own or "platform"


def choose_lang(*, platform_languages: list[str], preferred: str) -> str:
    langs = [lang for lang in platform_languages if lang in LANGS]
    if not langs or preferred in langs:
        return preferred if preferred in LANGS else "en"
    return langs[0]


def choose_channel(platform: Platform, regime: str) -> Channel | None:
    channels = list(platform.channels.all())
    for channel in channels:
        if not channel.regimes or regime in channel.regimes:
            return channel
    return channels[0] if channels else None


@dataclass
class UrlEvidence:
    reported_url: ReportedUrl
    url: str
    final_url: str = ""
    redirect_chain: list[str] = field(default_factory=list)
    resolved_ip: str = ""
    fetched_at: datetime | None = None
    http_status: int | None = None
    page_sha256: str = ""
    page_title: str = ""
    matches: list[dict[str, Any]] = field(default_factory=list)


def url_evidence(reported_url: ReportedUrl) -> UrlEvidence:
    record = (
        FetchRecord.objects.filter(reported_url=reported_url, purpose="scan")
        .order_by("-fetched_at", "-id")
        .first()
    )
    evidence = UrlEvidence(reported_url=reported_url, url=reported_url.normalized_url)
    if record is not None:
        evidence.final_url = record.final_url
        evidence.redirect_chain = list(record.redirect_chain or [])
        evidence.resolved_ip = record.resolved_ip
        evidence.fetched_at = record.fetched_at
        evidence.http_status = record.http_status
        evidence.page_sha256 = record.sha256
        evidence.page_title = str(record.page_title or "")
    for match in reported_url_matches_per_file(reported_url=reported_url):
        evidence.matches.append(
            {
                "media_url": match.media_item.url,
                "media_sha256": match.media_item.sha256,
                "reference_id": match.reference_id,
                "method": match.method,
                "distance": match.distance,
                "details": match.details if isinstance(match.details, dict) else {},
                "media_fetch_id": match.media_item.fetch_id,
            }
        )
    evidence.matches.extend(
        _confirmed_face_matches(reported_url, seen={m["media_url"] for m in evidence.matches})
    )
    return evidence


def _confirmed_face_matches(reported_url: ReportedUrl, *, seen: set[str]) -> list[dict[str, Any]]:
    """Face matches a caseworker confirmed (never unconfirmed ones): the person's face on another
    picture, worded as a forgery in the letter."""
    from app.faces.models import FaceMatch, FaceMatchState

    rows = (
        FaceMatch.objects.filter(reported_url=reported_url, state=FaceMatchState.CONFIRMED)
        .select_related("media_item")
        .defer("face_crop", "media_item__content", "media_item__fingerprint")
        .order_by("id")
    )
    return [
        {
            "media_url": fm.media_item.url,
            "media_sha256": fm.media_item.sha256,
            "reference_id": None,
            "method": "face",
            "distance": fm.distance,
            "media_fetch_id": fm.media_item.fetch_id,
        }
        for fm in rows
        if fm.media_item.url not in seen
    ]


# Each regime's words for a deepfake made from the person's face (confirmed face matches).
FORGERY_TEXT: dict[str, dict[str, str]] = {
    "take-it-down": {
        "en": "Material marked as a face match is a digital forgery: an intimate visual depiction of the "
        "identifiable individual created with software or artificial intelligence (a face swap). The Act "
        "covers digital forgeries as it covers authentic images.",
        "ko": "얼굴 일치로 표시된 게시물은 디지털 위조물(digital forgery), 즉 소프트웨어나 인공지능으로 "
        "식별 가능한 개인의 얼굴을 합성해 만든 성적 영상물입니다. 이 법은 실제 촬영물과 똑같이 디지털 "
        "위조물에도 적용됩니다.",
    },
    "kr": {
        "ko": "얼굴 일치로 표시된 게시물은 피해자의 얼굴을 합성한 허위영상물로, 「성폭력범죄의 처벌 등에 "
        "관한 특례법」 제14조의2(허위영상물 등의 반포등)에 해당합니다.",
        "en": "Material marked as a face match is false video material made from the victim's face (a "
        "sexual deepfake) under Article 14-2 of the Act on Special Cases Concerning the Punishment of "
        "Sexual Crimes.",
    },
    "dsa": {
        "en": "Material marked as a face match is a manipulated image (a sexual deepfake) that shows the "
        "person's face on someone else's body; sharing it without consent is illegal in the same way.",
        "ko": "얼굴 일치로 표시된 게시물은 당사자의 얼굴을 다른 사람의 몸에 합성한 조작 이미지(성적 "
        "딥페이크)이며, 동의 없이 유포하는 것은 똑같이 불법입니다.",
    },
    "uk": {
        "en": "Material marked as a face match is a deepfake: an image that appears to show the person, made "
        "by putting their face on someone else's body. Sharing it without consent is an offence under "
        "section 66B of the Sexual Offences Act 2003, as for a real photograph.",
        "ko": "얼굴 일치로 표시된 게시물은 당사자의 얼굴을 다른 사람의 몸에 합성해 당사자인 것처럼 보이게 "
        "만든 딥페이크입니다. 동의 없는 공유는 실제 사진과 마찬가지로 2003년 성범죄법 제66B조 위반입니다.",
    },
}
FORGERY_DEFAULT = {
    "en": "Material marked as a face match is a sexual deepfake: the person's face put on someone else's body.",
    "ko": "얼굴 일치로 표시된 게시물은 당사자의 얼굴을 다른 사람의 몸에 합성한 성적 딥페이크입니다.",
}


def forgery_text(regime_code: str, lang: str) -> str:
    texts = FORGERY_TEXT.get(regime_code, FORGERY_DEFAULT)
    return texts.get(lang) or texts["en"]


@dataclass
class Recipient:
    key: str
    name: str
    platform: Platform | None
    channel_kind: str
    channel_address: str
    channel_confirmed: bool
    regime: str
    lang: str
    via_rdap: bool = False


def recipient_for(
    evidence: UrlEvidence,
    *,
    case: Case,
    regime_override: str,
    preferred_lang: str,
    policy: FetchPolicy | None,
) -> tuple[Recipient, Platform | None]:
    """The recipient for one URL, and the platform it was resolved to (None: unknown host)."""
    resolution = resolve_url(evidence.url, policy=policy, redirect_chain=evidence.redirect_chain or None)
    platform = resolution.platform
    accepted = list(platform.regimes) if platform else []
    regime = choose_regime(jurisdiction=case.jurisdiction, accepted=accepted, override=regime_override)
    if case.is_minor:
        regime = minor_regime(regime=regime, jurisdiction=case.jurisdiction)
    lang = choose_lang(
        platform_languages=list(platform.languages) if platform else [], preferred=preferred_lang
    )
    if platform is not None:
        channel = choose_channel(platform, regime)
        if channel is not None:
            return Recipient(
                key=platform.slug, name=platform.name, platform=platform, channel_kind=channel.kind,
                channel_address=channel.address, channel_confirmed=channel.confirmed, regime=regime, lang=lang,
            ), platform  # fmt: skip
    host = resolution.host
    ip = evidence.resolved_ip if (not resolution.short_link or not evidence.redirect_chain) else ""
    contact = abuse_contact_for(host=host, ip=ip, policy=policy)
    site = platform.name if platform else registrable_domain(host) if host else evidence.url
    if contact is not None:
        holder = contact.holder or contact.email.split("@")[-1]
        # The name goes into the letter, so it follows the notice's language like the letter does.
        name = f"{holder} ({site} 신고 창구)" if lang == "ko" else f"{holder} (abuse contact for {site})"
        return Recipient(
            key=contact.key, name=name, platform=platform,
            channel_kind="email", channel_address=contact.email, channel_confirmed=False,
            regime=regime, lang=lang, via_rdap=True,
        ), platform  # fmt: skip
    return Recipient(
        key=f"host:{registrable_domain(host) if host else evidence.url}", name=site, platform=platform,
        channel_kind="email", channel_address="", channel_confirmed=False, regime=regime, lang=lang, via_rdap=True,
    ), platform  # fmt: skip


def _tz(lang: str) -> ZoneInfo:
    return ZoneInfo(getattr(settings, "LANGUAGE_TIME_ZONES", {}).get(lang, "UTC"))


def format_time(value: datetime | None, lang: str, zone: ZoneInfo | None = None) -> str:
    """A time in the letter, with its zone named: the organisation's zone when known, so the same
    notice in Korean and in English gives the same clock."""
    if value is None:
        return "-"
    local = value.astimezone(zone or _tz(lang))
    return local.strftime("%Y-%m-%d %H:%M %Z")


def format_date(value: datetime, lang: str, zone: ZoneInfo | None = None) -> str:
    local = value.astimezone(zone or _tz(lang))
    if lang == "ko":
        return f"{local.year}년 {local.month}월 {local.day}일"
    return local.strftime("%-d %B %Y")


@dataclass
class LetterInput:
    regime: Regime
    lang: str
    recipient_name: str
    channel_address: str
    victim_name: str
    contact_email: str
    acting_for: bool
    org_name: str
    authorised_on: str
    authorisation_method: str
    items: list[UrlEvidence]
    reference_numbers: dict[int, int]
    statement: str
    signer_name: str
    signer_role: str
    signed_at: datetime | None
    now: datetime
    delisting: bool = False
    zone: ZoneInfo | None = None  # the organisation's time zone
    titles: dict[int, str] = field(default_factory=dict)


def _plain_match(match: dict[str, Any]) -> dict[str, str]:
    """How a copy was identified, in the active language's plain words (no matcher numbers)."""
    d = describe_match(str(match["method"]), match.get("distance"), match.get("details") or {})
    return {"what": str(d.what), "how_sure": str(d.how_sure), "how_found": str(d.how_found)}


def render_letter(data: LetterInput) -> tuple[str, str]:
    """(subject, plain-text body) of a notice.

    A search engine gets its own delisting letter whatever the regime: it is asked to drop results,
    not to delete or block content it does not host.
    """
    lang = data.lang if data.lang in LANGS else "en"
    with translation.override(lang):
        return _render_letter(data, lang)


def _render_letter(data: LetterInput, lang: str) -> tuple[str, str]:
    items = []
    for n, ev in enumerate(data.items, start=1):
        items.append(
            {
                "n": n,
                "url": ev.url,
                "final_url": ev.final_url,
                "fetched_at": format_time(ev.fetched_at, lang, data.zone),
                "http_status": ev.http_status,
                "page_sha256": ev.page_sha256,
                "title": data.titles.get(ev.reported_url.pk, ""),
                "media": [
                    {
                        "url": m["media_url"],
                        "sha256": m["media_sha256"],
                        "reference_n": data.reference_numbers.get(m["reference_id"], "?"),
                        "face": m["method"] == "face",
                        **_plain_match(m),
                    }
                    for m in ev.matches
                ],
            }
        )
    has_forgery = any(m["method"] == "face" for ev in data.items for m in ev.matches)
    context = {
        "lang": lang,
        "recipient_name": data.recipient_name,
        "channel_address": data.channel_address if "@" in data.channel_address else "",
        "today": format_date(data.now, lang, data.zone),
        "citation": data.regime.text("citation", lang),
        "ground": data.regime.text("ground", lang),
        "escalation": data.regime.text("escalation", lang),
        "preservation": data.regime.text("preservation", lang),
        "deadline_hours": data.regime.deadline_hours,
        "victim_name": data.victim_name,
        "contact_email": data.contact_email,
        "acting_for": data.acting_for,
        "org_name": data.org_name,
        "authorised_on": data.authorised_on,
        "authorisation_method": data.authorisation_method,
        "items": items,
        "count": len(items),
        "statement": data.statement.strip(),
        "signed": bool(data.signed_at and data.signer_name),
        "signer_name": data.signer_name,
        "signer_role": data.signer_role,
        "signed_at": format_time(data.signed_at, lang, data.zone),
        "delisting": data.delisting,
        "forgery_text": forgery_text(data.regime.code, lang) if has_forgery else "",
    }
    letter = "delisting" if data.delisting else data.regime.code
    text = render_to_string(f"notices/letters/{letter}.{lang}.txt", context)
    lines = [line.rstrip() for line in text.strip().splitlines()]
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    subject, _, body = cleaned.partition("\n")
    return subject.strip(), body.strip() + "\n"


def is_delisting(platform: Platform | None) -> bool:
    return platform is not None and platform.kind == PlatformKind.SEARCH
