"""The evidence package for police and lawyers: a chain of custody per case, never any image."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

from django.utils import timezone

from app.cases.models import Case
from app.fetching.models import FetchRecord
from app.matching.models import Match
from app.notices.models import Notice
from app.notices.pdf import render_pdf
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


def evidence_pdf(*, case: Case, lang: str = "en", data: dict[str, Any] | None = None) -> bytes:
    data = data or evidence_data(case=case)
    ko = lang == "ko"
    rows = []
    for u in data["urls"]:
        last = u["fetches"][-1] if u["fetches"] else {}
        rows.append(
            {
                "id": u["id"], "url": u["url"], "final_url": last.get("final_url", ""),
                "redirect_chain": last.get("redirect_chain", []), "state": u["state"], "error": u["error"],
                "fetched_at": last.get("fetched_at"), "http_status": last.get("http_status"),
                "resolved_ip": last.get("resolved_ip", ""), "page_sha256": last.get("sha256", ""),
                "matches": u["matches"], "platform": u["platform"],
            }
        )  # fmt: skip
    c = data["case"]
    summary = [
        ("사건 번호" if ko else "Case", f"{c['id']} ({c['alias']})"),
        ("기관" if ko else "Organisation", c["organization"]),
        ("관할" if ko else "Jurisdiction", c["jurisdiction"]),
        ("사건 개시" if ko else "Opened", c["opened_at"]),
        ("위임" if ko else "Authorisation", f"{c['authorised_on'] or '-'} {c['authorisation_method']}"),
        ("기준 이미지(해시만 보관)" if ko else "Reference images (hashes only)", str(len(c["references"]))),
        ("신고 URL" if ko else "Reported URLs", str(len(data["urls"]))),
        ("작성 일시" if ko else "Generated", data["generated_at"]),
    ]
    return render_pdf(
        "notices/pdf/evidence.html",
        {
            "lang": lang,
            "title": "증거 자료(보관 연속성 기록)" if ko else "Evidence package (chain of custody)",
            "summary": summary,
            "urls_heading": "URL별 수집 기록" if ko else "Every URL, as fetched",
            "url_columns": ["#", "URL", "상태" if ko else "State", "확인 일시" if ko else "Fetched",
                            "SHA-256", "일치" if ko else "Match (method / distance / reference)", "플랫폼" if ko else "Platform"],
            "urls": rows,
            "notices_heading": "요청서" if ko else "Notices",
            "notice_columns": ["#", "수신" if ko else "Recipient", "근거" if ko else "Regime", "경로" if ko else "Channel",
                               "상태" if ko else "State", "서명/발송" if ko else "Signed / sent", "PDF SHA-256", "URL"],
            "notices": data["notices"],
            "routing_heading": "아동·청소년 사건 신고처" if ko else "Where this young person's case is reported",
            "routing_columns": ["신고처" if ko else "Hotline", "연락처" if ko else "Address or phone",
                                "확인일 / 출처" if ko else "Checked on / source", "신고 기록" if ko else "Reported (caseworker's record)"],
            "routing": [{**r, "display_name": r["name_ko"] if ko else r["name"]} for r in data.get("routing", [])],
            "footer": "이 문서에는 이미지가 포함되어 있지 않습니다." if ko else "This document contains no images.",
        },
    )  # fmt: skip


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
