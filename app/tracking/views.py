from __future__ import annotations

import json
from typing import cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from app.accounts.services import audit_record
from app.cases.selectors import case_get_for
from app.lib.spreadsheet import csv_text
from app.tracking import selectors
from app.tracking import services as tracking_services
from app.tracking.forms import DeadlineForm, EscalationDecisionForm, NoticeStatusForm, ReplyForm, WatchForm
from app.tracking.stats import EXPORT_FIELDS, Bar, Stats, bar_chart_svg, stats_compute
from app.web.decorators import admin_required, member_required, staff_required


def _actor(request: HttpRequest) -> User:
    # The decorators guarantee a logged-in member.
    return cast(User, request.user)


def _back(case_id: int) -> HttpResponse:
    return redirect("tracking_case", case_id=case_id)


@member_required
def case_tracking(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get_for(user=request.user, case_id=case_id)
    data = selectors.case_tracking(case=case)
    staff = request.membership.is_staff_role  # type: ignore[attr-defined]
    audit_record(
        organization=case.organization,
        actor=_actor(request),
        action="tracking.view",
        case_id=case.pk,
    )
    return render(
        request,
        "tracking/case.html",
        {
            "case": case, "data": data, "staff": staff, "reply_form": ReplyForm(), "status_form": NoticeStatusForm(),
            "watch_form": WatchForm(), "now": timezone.now(),
        },
    )  # fmt: skip


@staff_required
@require_POST
def notice_reply(request: HttpRequest, case_id: int, tracking_id: int) -> HttpResponse:
    case = case_get_for(user=request.user, case_id=case_id)
    tracking = selectors.notice_tracking_get_for(case=case, tracking_id=tracking_id)
    form = ReplyForm(request.POST)
    if form.is_valid():
        tracking_services.platform_reply_record(
            tracking=tracking, actor=_actor(request), kind=form.cleaned_data["kind"],
            text=form.cleaned_data["text"], received_at=form.cleaned_data["received_at"],
        )  # fmt: skip
        messages.success(request, _("The reply was saved."))
    else:
        messages.error(
            request, _("The reply could not be saved. Please paste the text and choose what they said.")
        )
    return _back(case.pk)


@staff_required
@require_POST
def notice_status(request: HttpRequest, case_id: int, tracking_id: int) -> HttpResponse:
    case = case_get_for(user=request.user, case_id=case_id)
    tracking = selectors.notice_tracking_get_for(case=case, tracking_id=tracking_id)
    form = NoticeStatusForm(request.POST)
    if form.is_valid():
        tracking_services.notice_set_status(
            tracking=tracking, actor=_actor(request), status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
        )  # fmt: skip
        messages.success(request, _("Saved."))
    else:
        messages.error(request, _("Choose a status."))
    return _back(case.pk)


@staff_required
@require_POST
def url_removed(request: HttpRequest, case_id: int, tracking_id: int) -> HttpResponse:
    case = case_get_for(user=request.user, case_id=case_id)
    tracking = selectors.url_tracking_get_for(case=case, tracking_id=tracking_id)
    tracking_services.url_mark_removed(tracking=tracking, actor=_actor(request))
    messages.success(
        request, _("Marked as removed. Jium will still look now and then in case it comes back.")
    )
    return _back(case.pk)


@staff_required
@require_POST
def url_clear_flag(request: HttpRequest, case_id: int, tracking_id: int) -> HttpResponse:
    case = case_get_for(user=request.user, case_id=case_id)
    tracking = selectors.url_tracking_get_for(case=case, tracking_id=tracking_id)
    tracking_services.url_clear_flag(tracking=tracking, actor=_actor(request))
    return _back(case.pk)


@staff_required
@require_POST
def recheck_now(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get_for(user=request.user, case_id=case_id)
    ids = list(case.url_trackings.values_list("pk", flat=True))
    transaction.on_commit(lambda: tracking_services._enqueue_rechecks(ids))
    audit_record(
        organization=case.organization, actor=_actor(request), action="tracking.recheck_now", case_id=case.pk,
        detail={"count": len(ids)},
    )  # fmt: skip
    messages.success(request, _("The links will be checked again in the next few minutes."))
    return _back(case.pk)


@staff_required
@require_POST
def watch_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get_for(user=request.user, case_id=case_id)
    form = WatchForm(request.POST)
    if form.is_valid():
        try:
            tracking_services.watch_add(
                case=case, actor=_actor(request), url=form.cleaned_data["url"],
                interval_hours=form.cleaned_data["interval_hours"],
            )  # fmt: skip
            messages.success(request, _("Jium will check this page for new copies."))
        except tracking_services.TrackingError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, _("Enter the address of a page to watch."))
    return _back(case.pk)


@staff_required
@require_POST
def watch_remove(request: HttpRequest, case_id: int, watch_id: int) -> HttpResponse:
    case = case_get_for(user=request.user, case_id=case_id)
    watch = selectors.watch_get_for(case=case, watch_id=watch_id)
    tracking_services.watch_remove(watch=watch, actor=_actor(request))
    messages.success(request, _("This page is no longer watched."))
    return _back(case.pk)


@staff_required
def escalation_detail(request: HttpRequest, case_id: int, escalation_id: int) -> HttpResponse:
    case = case_get_for(user=request.user, case_id=case_id)
    escalation = selectors.escalation_get_for(case=case, escalation_id=escalation_id)
    if request.method == "POST":
        form = EscalationDecisionForm(request.POST)
        if form.is_valid():
            tracking_services.escalation_decide(
                escalation=escalation,
                actor=_actor(request),
                state=form.cleaned_data["state"],
            )
            messages.success(request, _("Saved."))
            return _back(case.pk)
    audit_record(
        organization=case.organization, actor=_actor(request), action="tracking.escalation_view", case_id=case.pk,
        object_type="escalation", object_id=escalation.pk,
    )  # fmt: skip
    return render(request, "tracking/escalation.html", {"case": case, "escalation": escalation})


@staff_required
def escalation_pdf(request: HttpRequest, case_id: int, escalation_id: int) -> HttpResponse:
    case = case_get_for(user=request.user, case_id=case_id)
    escalation = selectors.escalation_get_for(case=case, escalation_id=escalation_id)
    if not escalation.evidence_pdf:
        raise Http404("No evidence file")
    audit_record(
        organization=case.organization, actor=_actor(request), action="tracking.evidence_download", case_id=case.pk,
        object_type="escalation", object_id=escalation.pk,
    )  # fmt: skip
    response = HttpResponse(bytes(escalation.evidence_pdf), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="checks-{case.pk}-{escalation.tracking.notice_id}.pdf"'
    )
    return response


@staff_required
def overdue(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    items = [(t, selectors.countdown(t, now)) for t in selectors.overdue_for(user=request.user)[:500]]
    flagged = list(selectors.flagged_for(user=request.user)[:200])
    return render(request, "tracking/overdue.html", {"items": items, "flagged": flagged})


def _charts(stats: Stats) -> list[str]:
    from app.platforms.names import platform_name, regime_name

    platforms = [r for r in stats.by_platform if r.sent]
    share = bar_chart_svg(
        title=_("Share removed within the deadline, per platform"),
        series=[_("removed in time")],
        max_value=100,
        bars=[
            Bar(
                label=platform_name(r.platform),
                values=[100 * (r.share_within_deadline or 0)],
                texts=[
                    _("%(pct)s%% of %(n)s")
                    % {"pct": round(100 * (r.share_within_deadline or 0)), "n": r.sent}
                ],
            )
            for r in platforms
        ],
    )
    timed = [r for r in platforms if r.hours]
    longest = max((r.p90_hours or 0 for r in timed), default=0)
    hours = bar_chart_svg(
        title=_("Hours to removal, per platform"),
        series=[_("median"), _("90th percentile")],
        max_value=longest,
        bars=[
            Bar(
                label=platform_name(r.platform),
                values=[r.median_hours, r.p90_hours],
                texts=[
                    _("%(h)s h") % {"h": round(r.median_hours or 0, 1)},
                    _("%(h)s h") % {"h": round(r.p90_hours or 0, 1)},
                ],
            )
            for r in timed
        ],
    )
    regimes = [r for r in stats.by_regime if r.sent]
    by_regime = bar_chart_svg(
        title=_("Requests sent, removed in time and refused, per legal basis"),
        series=[_("sent"), _("removed in time"), _("refused")],
        max_value=max((r.sent for r in regimes), default=0),
        bars=[
            Bar(
                label=regime_name(r.regime),
                values=[r.sent, r.removed_within_deadline, r.refused],
                texts=[str(r.sent), str(r.removed_within_deadline), str(r.refused)],
            )
            for r in regimes
        ],
    )
    return [share, hours, by_regime]


@staff_required
def stats(request: HttpRequest) -> HttpResponse:
    organization = request.membership.organization  # type: ignore[attr-defined]
    data = stats_compute(organization=organization)
    return render(request, "tracking/stats.html", {"stats": data, "charts": _charts(data)})


@staff_required
def stats_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """Aggregates an organisation can publish: per platform and legal basis, no case or person data."""
    organization = request.membership.organization  # type: ignore[attr-defined]
    data = stats_compute(organization=organization)
    rows = [r.export() for r in data.by_platform_regime]
    audit_record(
        organization=organization,
        actor=_actor(request),
        action="tracking.stats_export",
        detail={"format": fmt},
    )
    if fmt == "json":
        payload = {
            "generated_at": timezone.now().isoformat(),
            "rows": rows,
            "by_platform": [r.export() for r in data.by_platform],
            "by_regime": [r.export() for r in data.by_regime],
            "total": data.total.export(),
        }
        return HttpResponse(
            json.dumps(payload, ensure_ascii=False, indent=2), content_type="application/json"
        )
    if fmt != "csv":
        raise Http404("Unknown format")
    response = HttpResponse(
        csv_text(fieldnames=EXPORT_FIELDS, rows=rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="jium-takedown-statistics.csv"'
    return response


@admin_required
def deadlines(request: HttpRequest) -> HttpResponse:
    from app.notices.models import RegimeCode
    from app.tracking.models import DeadlineOverride

    organization = request.membership.organization  # type: ignore[attr-defined]
    current = dict(DeadlineOverride.objects.filter(organization=organization).values_list("regime", "hours"))
    regimes = []
    for code, label in RegimeCode.choices:
        default = selectors.deadline_default_hours(regime=code)
        regimes.append((code, str(label), default))
    form = DeadlineForm(request.POST or None, regimes=regimes, initial=current)
    if request.method == "POST" and form.is_valid():
        for code, _label, _default in regimes:
            if form.cleaned_data.get(code) != current.get(code):
                tracking_services.deadline_override_set(
                    organization=organization,
                    actor=_actor(request),
                    regime=code,
                    hours=form.cleaned_data.get(code),
                )
        messages.success(request, _("Deadlines saved. They apply to requests sent from now on."))
        return redirect("tracking_deadlines")
    return render(request, "tracking/deadlines.html", {"form": form})
