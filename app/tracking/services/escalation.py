"""Deadlines passing: overdue notices and escalation drafts to regulators, hotlines and hosts."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from app.accounts.models import Organization
from app.accounts.services import audit_record
from app.cases.models import Case
from app.fetching.models import FetchRecord
from app.tracking.models import (
    AlertKind,
    Escalation,
    EscalationKind,
    EscalationState,
    NoticeStatus,
    NoticeTracking,
    Regulator,
    UrlStatus,
    UrlTracking,
)
from app.tracking.services.alerts import _alert
from app.tracking.services.base import TrackingError, _now
from app.tracking.services.starting import _set_notice_status, notices_tracking_sync

log = logging.getLogger(__name__)


# ---- deadlines passing: overdue, escalation --------------------------------------------------------


def _enqueue_escalation(tracking_id: int) -> None:
    from app.tracking.tasks import escalate_notice

    escalate_notice.delay(tracking_id)


def tracking_sweep(*, now: datetime | None = None, enqueue: bool = True, limit: int = 500) -> int:
    """Start tracking newly sent notices, and act on every deadline that passed since the last sweep."""
    now = now or _now()
    notices_tracking_sync()
    due = list(
        NoticeTracking.objects.filter(deadline_at__lte=now, overdue_notified_at__isnull=True)
        .exclude(status=NoticeStatus.REMOVED)
        .select_related("notice", "case")
        .order_by("deadline_at")[:limit]
    )
    for tracking in due:
        with transaction.atomic():
            if tracking.status in (NoticeStatus.SENT, NoticeStatus.SUBMITTED):
                _set_notice_status(
                    tracking,
                    NoticeStatus.NO_RESPONSE,
                    actor=None,
                    at=now,
                    note=gettext_noop("deadline passed"),
                )
            NoticeTracking.objects.filter(pk=tracking.pk).update(overdue_notified_at=now)
            _alert(case=tracking.case, kind=AlertKind.OVERDUE, notice=tracking.notice)
            from app.api.webhooks import webhooks_emit

            webhooks_emit(
                organization_id=tracking.organization_id,
                event="deadline.passed",
                data={"case_id": tracking.case_id, "notice_id": tracking.notice_id,
                      "deadline_at": tracking.deadline_at.isoformat() if tracking.deadline_at else None},
            )  # fmt: skip
        if enqueue:
            transaction.on_commit(partial(_enqueue_escalation, tracking.pk))
        else:
            notice_escalate(tracking_id=tracking.pk)
    return len(due)


def overdue_list(*, organization: Organization, now: datetime | None = None):
    now = now or _now()
    return (
        NoticeTracking.objects.filter(organization=organization, deadline_at__lte=now)
        .exclude(status=NoticeStatus.REMOVED)
        .select_related("case", "notice")
        .order_by("deadline_at", "id")
    )


def _open_urls(tracking: NoticeTracking) -> list[UrlTracking]:
    return list(
        UrlTracking.objects.filter(reported_url__notice_items__notice_id=tracking.notice_id)
        .exclude(status=UrlStatus.REMOVED)
        .select_related("reported_url")
        .order_by("reported_url_id")
    )


def _regulator_for(tracking: NoticeTracking) -> Regulator | None:
    for regulator in Regulator.objects.all():
        if tracking.regime in (regulator.regimes or []):
            return regulator
    for regulator in Regulator.objects.all():
        if tracking.case.jurisdiction in (regulator.jurisdictions or []):
            return regulator
    return None


def _evidence_pdf(tracking: NoticeTracking, urls: list[UrlTracking], lang: str) -> bytes:
    from app.notices.pdf import render_pdf

    rows = []
    for url in urls:
        checks = list(url.checks.select_related("fetch").order_by("checked_at", "id"))
        rows.append(
            {"url": url.reported_url.normalized_url, "status": url.get_status_display(), "checks": checks}
        )
    with translation.override(lang):
        return render_pdf(
            "tracking/pdf/evidence.html",
            {
                "lang": lang,
                "tracking": tracking,
                "notice": tracking.notice,
                "rows": rows,
                "generated_at": _now(),
            },
        )


def _letter(kind: str, lang: str, context: dict[str, object]) -> tuple[str, str]:
    text = render_to_string(f"tracking/escalation/{kind}.{lang}.txt", context)
    lines = [line.rstrip() for line in text.strip().splitlines()]
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    subject, _sep, body = cleaned.partition("\n")
    return subject.strip(), body.strip() + "\n"


def notice_escalate(*, tracking_id: int, actor: User | None = None) -> list[Escalation]:
    """Draft the next steps for a notice whose deadline passed (or that was refused), for review.

    A reminder to the platform, the hosting provider's abuse contact, a search-engine delisting
    request and a complaint to the regulator that fits; the re-check evidence is attached as a PDF.
    """
    from app.notices.drafting import choose_channel
    from app.platforms.models import Platform, Regime

    tracking = (
        NoticeTracking.objects.select_related("notice__platform", "case__organization")
        .filter(pk=tracking_id)
        .first()
    )
    if tracking is None or tracking.status == NoticeStatus.REMOVED:
        return []
    urls = _open_urls(tracking)
    if not urls:
        return []
    notice = tracking.notice
    lang = notice.lang if notice.lang in ("en", "ko") else "en"
    regime = Regime.objects.filter(code=tracking.regime).first()
    org = tracking.case.organization
    pdf = _evidence_pdf(tracking, urls, lang)
    base = {
        "lang": lang, "notice": notice, "tracking": tracking, "urls": urls,
        "regime_name": regime.text("name", lang) if regime else tracking.regime,
        "regime_citation": regime.text("citation", lang) if regime else "",
        "org_name": org.notice_sender_name or org.name, "sent_at": tracking.sent_at,
        "deadline_at": tracking.deadline_at, "refused": tracking.status == NoticeStatus.REFUSED,
        "minor": tracking.case.is_minor,
    }  # fmt: skip
    targets: list[tuple[str, str, str, Regulator | None, dict[str, object]]] = []
    if tracking.case.is_minor:
        # Child sexual abuse material: the hotline and the police before anything else.
        targets.extend(_hotline_targets(tracking.case, lang))
    targets.append((EscalationKind.REMINDER, notice.recipient_name, notice.channel_address, None, {}))
    if not notice.recipient_key.startswith("abuse:"):
        targets.extend(_hosting_targets(urls))
    if not (notice.platform and notice.platform.kind == "search"):
        for slug in getattr(settings, "TRACKING_DELISTING_PLATFORMS", ("google-search", "bing")):
            engine = Platform.objects.filter(slug=slug, active=True).first()
            if engine is None:
                continue
            channel = choose_channel(engine, tracking.regime)
            targets.append(
                (EscalationKind.DELISTING, engine.name, channel.address if channel else "", None, {})
            )
    regulator = _regulator_for(tracking)
    if regulator is not None:
        address = regulator.complaint_url or regulator.email
        targets.append(
            (
                EscalationKind.REGULATOR,
                regulator.name(lang),
                address,
                regulator,
                {"regulator_notes": regulator.notes(lang)},
            )
        )
    created: list[Escalation] = []
    now = _now()
    for kind, name, address, reg, extra in targets:
        if Escalation.objects.filter(tracking=tracking, kind=kind, recipient_address=address[:500]).exists():
            continue  # one draft (or one sent) per target is enough
        subject, body = _letter(
            kind, lang, {**base, "recipient_name": name, "recipient_address": address, **extra}
        )
        escalation = Escalation.objects.create(
            tracking=tracking, kind=kind, lang=lang, recipient_name=name[:300], recipient_address=address[:500],
            regulator=reg, subject=subject, body=body, evidence_pdf=pdf,
            evidence_sha256=hashlib.sha256(pdf).hexdigest(), created_at=now,
        )  # fmt: skip
        created.append(escalation)
    NoticeTracking.objects.filter(pk=tracking.pk).update(escalated_at=now)
    audit_record(
        organization=org, actor=actor, action="tracking.escalate", case_id=tracking.case_id, object_type="notice",
        object_id=tracking.notice_id, detail={"drafts": [e.pk for e in created]},
    )  # fmt: skip
    return created


def _hotline_targets(
    case: Case, lang: str
) -> list[tuple[str, str, str, Regulator | None, dict[str, object]]]:
    from app.cases.selectors import hotlines_for_case
    from app.platforms.models import HotlineKind

    hotlines = [h for h in hotlines_for_case(case=case) if h.escalate]
    ordered = [h for h in hotlines if h.kind == HotlineKind.HOTLINE] + [
        h for h in hotlines if h.kind == HotlineKind.POLICE
    ]
    return [
        (
            EscalationKind.POLICE if h.kind == HotlineKind.POLICE else EscalationKind.HOTLINE,
            h.name(lang),
            h.url_or_phone,
            None,
            {"hotline_notes": h.description(lang)},
        )
        for h in ordered
    ]


def _hosting_targets(
    urls: list[UrlTracking],
) -> list[tuple[str, str, str, Regulator | None, dict[str, object]]]:
    from app.platforms.rdap import abuse_contact_for

    out: list[tuple[str, str, str, Regulator | None, dict[str, object]]] = []
    seen: set[str] = set()
    for url in urls:
        reported = url.reported_url
        ip = (
            FetchRecord.objects.filter(reported_url=reported).exclude(resolved_ip="").order_by("-id")
            .values_list("resolved_ip", flat=True).first() or ""
        )  # fmt: skip
        try:
            contact = abuse_contact_for(host=reported.host, ip=ip)
        except Exception:  # an RDAP outage must not stop the other drafts
            log.exception("abuse contact lookup failed for %s", reported.host)
            contact = None
        if contact is None or contact.email.lower() in seen:
            continue
        seen.add(contact.email.lower())
        out.append((EscalationKind.HOSTING, contact.holder or contact.email, contact.email, None, {}))
    return out


def escalation_decide(*, escalation: Escalation, actor: User | None, state: str) -> Escalation:
    if state not in (EscalationState.DONE, EscalationState.DISMISSED):
        raise TrackingError(_("Unknown choice."))
    escalation.state = state
    escalation.decided_at = _now()
    escalation.decided_by = actor
    escalation.save(update_fields=["state", "decided_at", "decided_by"])
    audit_record(
        organization=escalation.tracking.organization, actor=actor, action=f"tracking.escalation_{state}",
        case_id=escalation.tracking.case_id, object_type="escalation", object_id=escalation.pk,
    )  # fmt: skip
    return escalation
