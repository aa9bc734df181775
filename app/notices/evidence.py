"""The evidence package for police and lawyers: a chain of custody per case, never any image."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from app.cases.models import Case, Jurisdiction, UrlState
from app.fetching.messages import fetch_error_text
from app.fetching.models import FetchRecord
from app.matching.labels import describe_match
from app.matching.models import Match
from app.notices.models import Notice, NoticeState
from app.notices.pdf import render_pdf
from app.platforms.models import ChannelKind, Regime
from app.platforms.resolve import resolve_url


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def routing_data(*, case: Case) -> list[dict[str, Any]]:
    """Where a minor's case is reported (directory data), with the caseworker's records; [] for adults."""
    from app.cases.selectors import case_routing

    if not case.is_minor:
        return []
    return [
        {
            "name": row.hotline.name_en,
            "name_ko": row.hotline.name_ko,
            "kind": row.hotline.kind,
            "url_or_phone": row.hotline.url_or_phone,
            "country": row.hotline.country,
            "verified_on": _iso(row.hotline.verified_on),
            "source": row.hotline.source,
            "reported": [{"at": _iso(r.reported_at), "reference": r.reference} for r in row.reports],
        }
        for row in case_routing(case=case)
    ]


def _confirmed_face_matches(reported: Any) -> list[dict[str, Any]]:
    """Face matches a caseworker confirmed (possible deepfakes are evidence only once confirmed)."""
    from app.faces.models import FaceMatch, FaceMatchState

    rows = (
        FaceMatch.objects.filter(reported_url=reported, state=FaceMatchState.CONFIRMED)
        .select_related("media_item", "decided_by")
        .defer("face_crop", "media_item__content", "media_item__fingerprint")
        .order_by("id")
    )
    return [
        {
            "media_url": m.media_item.url,
            "media_sha256": m.media_item.sha256,
            "media_kind": m.media_item.kind,
            "reference_id": None,
            "method": "face",
            "distance": m.distance,
            "details": {
                **m.details,
                "face_id": m.face_id,
                "confirmed_by": m.decided_by.username if m.decided_by else None,
                "confirmed_at": _iso(m.decided_at),
            },
            "found_at": _iso(m.created_at),
        }
        for m in rows
    ]


def evidence_data(*, case: Case) -> dict[str, Any]:
    urls = []
    for reported in case.urls.order_by("id"):
        fetches = [
            {
                "id": f.pk,
                "purpose": f.purpose,
                "requested_url": f.requested_url,
                "redirect_chain": f.redirect_chain,
                "final_url": f.final_url,
                "resolved_ip": f.resolved_ip,
                "http_status": f.http_status,
                "fetched_at": _iso(f.fetched_at),
                "size": f.size,
                "sha256": f.sha256,
                "status": f.status,
                "error": f.error,
                "error_code": f.error_code,
                # No request of its own: another case of the organisation fetched the address
                # (at fetched_at) and this case's references were matched against that fetch.
                "reused": f.reused,
            }
            for f in FetchRecord.objects.filter(reported_url=reported).order_by("fetched_at", "id")
        ]
        matches = [
            {
                "media_url": m.media_item.url,
                "media_sha256": m.media_item.sha256,
                "media_kind": m.media_item.kind,
                "reference_id": m.reference_id,
                "method": m.method,
                "distance": m.distance,
                "details": m.details,
                "found_at": _iso(m.created_at),
            }
            for m in Match.objects.filter(reported_url=reported).select_related("media_item").order_by("id")
        ]
        matches += _confirmed_face_matches(reported)
        chain = fetches[-1]["redirect_chain"] if fetches else []
        platform = resolve_url(
            reported.normalized_url, redirect_chain=chain or None, follow_short_links=False
        ).platform
        urls.append(
            {
                "id": reported.pk,
                "url": reported.url,
                "normalized_url": reported.normalized_url,
                "state": reported.state,
                "error": reported.error,
                "reported_at": _iso(reported.created_at),
                "platform": platform.name if platform else "",
                "fetches": fetches,
                "matches": matches,
            }
        )
    notices = [
        {
            "id": n.pk,
            "recipient": n.recipient_name,
            "regime": n.regime,
            "lang": n.lang,
            "channel": {"kind": n.channel_kind, "address_or_url": n.channel_address},
            "state": n.state,
            "signer": n.signer_name,
            "signed_at": _iso(n.signed_at),
            "sent_at": _iso(n.sent_at),
            "submitted_at": _iso(n.submitted_at),
            "deadline_at": _iso(n.deadline_at),
            "pdf_sha256": n.pdf_sha256,
            "urls": [i.reported_url.url for i in n.items.select_related("reported_url")],
        }
        for n in Notice.objects.filter(case=case).order_by("id")
    ]
    return {
        "generated_at": timezone.now().isoformat(),
        "routing": routing_data(case=case),
        "case": {
            "id": case.pk,
            "alias": case.alias,
            "organization": case.organization.name,
            "jurisdiction": case.jurisdiction,
            "age_group": case.age_group,
            "opened_at": _iso(case.created_at),
            "authorised_on": _iso(case.authorised_on),
            "authorisation_method": case.authorisation_method,
            "references": [
                {
                    "id": r.pk,
                    "source": r.source,
                    "sha256": r.sha256,
                    "pdq": r.pdq_hex,
                    "added_at": _iso(r.created_at),
                }
                for r in case.references.all()
            ],
        },
        "urls": urls,
        "notices": notices,
    }


def _when(value: Any, zone: ZoneInfo, lang: str) -> str:
    """A moment in the organisation's zone, to the second, with the zone named (police read it)."""
    if not value:
        return "-"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):  # a date (e.g. the authorisation date)
        return moment.isoformat()
    local = moment.astimezone(zone)
    clock = local.strftime("%H:%M:%S")
    name = f"{local.tzname()}, {zone.key}" if local.tzname() != zone.key else zone.key
    if lang == "ko":
        return f"{local.year}. {local.month}. {local.day}. {clock} ({name})"
    return f"{local.day} {local.strftime('%b')} {local.year}, {clock} ({name})"


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def evidence_pdf(*, case: Case, lang: str = "en", data: dict[str, Any] | None = None) -> bytes:
    """The evidence package as a PDF in one language: every word translated, every time in the
    organisation's zone with the zone named, no table row split over a page break."""
    data = data or evidence_data(case=case)
    lang = "ko" if lang == "ko" else "en"
    with translation.override(lang):
        context = _evidence_context(case=case, data=data, lang=lang)
    return render_pdf("notices/pdf/evidence.html", context)


def _evidence_context(*, case: Case, data: dict[str, Any], lang: str) -> dict[str, Any]:
    zone = case.organization.zone
    ko = lang == "ko"
    reference_n = {r["id"]: n for n, r in enumerate(data["case"]["references"], start=1)}
    regimes = {r.code: (r.name_ko if ko else r.name_en) for r in Regime.objects.all()}
    languages = {"ko": _("Korean"), "en": _("English")}
    rows = []
    for u in data["urls"]:
        last = u["fetches"][-1] if u["fetches"] else {}
        error = u["error"]
        if error and ko:
            error = str(fetch_error_text(str(last.get("error_code") or ""))) or str(
                _("The link could not be checked.")
            )
        matches = []
        for m in u["matches"]:
            d = describe_match(str(m["method"]), m.get("distance"), m.get("details") or {})
            matches.append(
                {
                    "url": m["media_url"],
                    "sha256": m["media_sha256"],
                    "what": str(d.what),
                    "how_sure": str(d.how_sure),
                    "reference": _("reference image no. %(n)s")
                    % {"n": reference_n.get(m["reference_id"], "?")},
                }
            )
        rows.append(
            {
                "id": u["id"], "url": u["url"], "final_url": last.get("final_url", ""),
                "redirect_chain": last.get("redirect_chain", []), "state": _label(UrlState, u["state"]),
                "error": error, "fetched_at": _when(last.get("fetched_at"), zone, lang),
                "http_status": last.get("http_status"), "resolved_ip": last.get("resolved_ip", ""),
                "page_sha256": last.get("sha256", ""), "matches": matches, "platform": u["platform"],
            }
        )  # fmt: skip
    notices = [
        {
            "id": n["id"],
            "recipient": n["recipient"],
            "regime": regimes.get(n["regime"], n["regime"]),
            "lang": languages.get(n["lang"], n["lang"]),
            "channel": _label(ChannelKind, n["channel"]["kind"]),
            "address": n["channel"]["address_or_url"],
            "state": _label(NoticeState, n["state"]),
            "signed_at": _when(n["signed_at"], zone, lang) if n["signed_at"] else "",
            "sent_at": _when(n["sent_at"] or n["submitted_at"], zone, lang)
            if (n["sent_at"] or n["submitted_at"])
            else "",
            "pdf_sha256": n["pdf_sha256"],
            "urls": len(n["urls"]),
        }
        for n in data["notices"]
    ]
    c = data["case"]
    authorisation = " · ".join(x for x in (c["authorised_on"] or "", c["authorisation_method"]) if x) or "-"
    summary = [
        (_("Case"), f"{c['id']} ({c['alias']})"),
        (_("Organisation"), c["organization"]),
        (_("Where the person lives"), _label(Jurisdiction, c["jurisdiction"])),
        (_("Case opened"), _when(c["opened_at"], zone, lang)),
        (_("Authorisation"), authorisation),
        (_("Reference images (fingerprints only)"), str(len(c["references"]))),
        (_("Reported links"), str(len(data["urls"]))),
        (_("Generated"), _when(data["generated_at"], zone, lang)),
        (_("Times are shown in"), zone.key),
    ]
    routing = [
        {
            **r,
            "display_name": r["name_ko"] if ko else r["name"],
            "reported": [{**rep, "at": _when(rep["at"], zone, lang)} for rep in r["reported"]],
        }
        for r in data.get("routing", [])
    ]
    return {
        "lang": lang,
        "title": _("Evidence package (chain of custody)"),
        "summary": [(str(k), str(v)) for k, v in summary],
        "urls_heading": _("Every link, as Jium checked it"),
        "url_columns": ["#", _("Link"), _("Result"), _("Checked"), _("Page fingerprint (SHA-256)"),
                        _("How the copy was identified"), _("Platform")],
        "urls": rows,
        "notices_heading": _("Notices"),
        "notice_columns": ["#", _("Recipient"), _("Legal basis / language"), _("How it is sent"),
                           _("State"), _("Signed / sent or submitted"), _("Notice PDF fingerprint (SHA-256)"),
                           _("Links")],
        "notices": notices,
        "routing_heading": _("Where this young person's case is reported"),
        "routing_columns": [_("Hotline"), _("Address or phone"), _("Checked on / source"),
                            _("Reported (caseworker's record)")],
        "routing": routing,
        "http_label": _("HTTP status"),
        "footer": _("This document contains no images."),
    }  # fmt: skip


def evidence_zip(*, case: Case, lang: str = "en") -> bytes:
    data = evidence_data(case=case)
    files = {
        "case.json": json.dumps(data["case"], ensure_ascii=False, indent=2).encode(),
        "urls.json": json.dumps(data["urls"], ensure_ascii=False, indent=2).encode(),
        "notices.json": json.dumps(data["notices"], ensure_ascii=False, indent=2).encode(),
        **(
            {"routing.json": json.dumps(data["routing"], ensure_ascii=False, indent=2).encode()}
            if data["routing"]
            else {}
        ),
        "evidence.pdf": evidence_pdf(case=case, lang=lang, data=data),
    }
    manifest = {
        "generated_at": data["generated_at"],
        "files": {name: hashlib.sha256(body).hexdigest() for name, body in files.items()},
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in files.items():
            zf.writestr(name, body)
        zf.writestr("manifest.json", json.dumps(manifest, indent=2))
    return buffer.getvalue()
