from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from app.accounts import selectors as account_selectors
from app.accounts.services import audit_record
from app.cases import selectors as case_selectors
from app.cases import services as case_services
from app.cases.models import Case, CaseStatus, UrlState
from app.cases.services import LETTER_MAX_BYTES
from app.core.uploads import upload_limit
from app.tracking import selectors as tracking_selectors
from app.web.decorators import admin_required, member_required, staff_required
from app.web.forms import (
    CaseAgeForm,
    CaseForm,
    CaseStatusForm,
    EraseForm,
    HashImportForm,
    HotlineReportForm,
    ReferenceUploadForm,
    UrlReportForm,
    VictimAccountForm,
    WhitelistForm,
)


def _actor(request: HttpRequest) -> User:
    """The logged-in person (every view here requires login)."""
    return cast(User, request.user)


URLS_PER_PAGE = 100
# The link filter for links with possible deepfakes (face matches) waiting for a check.
FACES_TO_CHECK = "faces"
RESULTS_PER_PAGE = 50
REVEAL_SESSION_KEY = "revealed_media"


def favicon(request: HttpRequest) -> FileResponse:
    """Browsers ask for /favicon.ico on every page; answer it instead of filling the log with 404s."""
    response = FileResponse(
        (settings.BASE_DIR / "static" / "favicon.ico").open("rb"), content_type="image/x-icon"
    )
    response["Cache-Control"] = "public, max-age=86400"
    return response


@csrf_exempt
def exit_page(request: HttpRequest) -> HttpResponse:
    """Quick exit: end the session here, on the server, then leave for a neutral site.

    Whoever picks up the device next and presses Back finds the login page, not the case.
    A GET ends the session too (no CSRF token): the button must work as a plain link, without
    JavaScript, and the worst another site could do with it is log someone out.
    """
    logout(request)
    target = settings.QUICK_EXIT_URL
    response = redirect(target) if target else render(request, "exit.html")
    # Drops this site's pages from the browser's caches, the back-forward cache included.
    response["Clear-Site-Data"] = '"cache"'
    response["Cache-Control"] = "no-store"
    return response


@member_required
def case_list(request: HttpRequest) -> HttpResponse:
    cases = case_selectors.case_list_for(user=request.user).order_by("-created_at")
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    if request.membership.role == "victim" and len(page.object_list) == 1:  # type: ignore[attr-defined]
        # The person we help has one case: take them straight to it.
        return redirect("case_detail", case_id=page.object_list[0].pk)
    follow_ups = tracking_selectors.case_follow_up_summaries(case_ids=[c.pk for c in page.object_list])
    for case in page.object_list:
        case.follow_up = follow_ups.get(case.pk)  # type: ignore[attr-defined]
    return render(request, "cases/list.html", {"page": page})


@upload_limit(request_bytes=LETTER_MAX_BYTES + 1024 * 1024, file_bytes=LETTER_MAX_BYTES)
@staff_required
def case_create(request: HttpRequest) -> HttpResponse:
    organization = request.membership.organization  # type: ignore[attr-defined]
    form = CaseForm(
        request.POST or None,
        request.FILES or None,
        organization=organization,
        initial={"language": "ko" if (get_language() or "").startswith("ko") else "en"},
    )
    if request.method == "POST" and form.is_valid():
        case = case_services.case_create(
            organization=organization,
            actor=_actor(request),
            **{k: v for k, v in form.case_fields().items() if v is not None},
        )
        assigned = [u.pk for u in form.cleaned_data["assigned_to"]]
        case_services.case_assign(case=case, actor=_actor(request), user_ids={_actor(request).pk, *assigned})
        _save_letter(request, case, form)
        if case.is_minor:
            messages.success(
                request,
                _(
                    "Case created as a young person's case: Jium keeps no images. Next: add the links, and report them to the hotline."
                ),
            )
        else:
            messages.success(request, _("Case created. Next: add the images you already have."))
        return redirect("case_detail", case_id=case.pk)
    return render(request, "cases/new.html", {"form": form})


def _save_letter(request: HttpRequest, case: Case, form: CaseForm) -> None:
    upload = form.cleaned_data.get("authorisation_letter_file")
    if upload:
        case_services.case_set_authorisation_letter(
            case=case,
            actor=_actor(request),
            data=upload.read(),
            filename=upload.name or "",
        )


@upload_limit(request_bytes=LETTER_MAX_BYTES + 1024 * 1024, file_bytes=LETTER_MAX_BYTES)
@staff_required
def case_edit(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    form = CaseForm(
        request.POST or None, request.FILES or None, instance=case, organization=case.organization
    )
    if request.method == "POST" and form.is_valid():
        fields = form.case_fields()
        # The ModelForm already set the new values on the instance; start the service from the stored row.
        case.refresh_from_db()
        case_services.case_update(case=case, actor=_actor(request), **fields)
        case_services.case_assign(
            case=case,
            actor=_actor(request),
            user_ids=[u.pk for u in form.cleaned_data["assigned_to"]],
        )
        _save_letter(request, case, form)
        if request.POST.get("remove_letter") and not form.cleaned_data.get("authorisation_letter_file"):
            case_services.case_remove_authorisation_letter(case=case, actor=_actor(request))
        messages.success(request, _("Changes saved."))
        return redirect("case_detail", case_id=case.pk)
    if case.real_name or case.contact:
        # The form shows the person's decrypted name and contact details: who saw them is logged.
        audit_record(
            organization=case.organization,
            actor=_actor(request),
            action="case.identity_view",
            case_id=case.pk,
        )
    return render(request, "cases/edit.html", {"case": case, "form": form})


@staff_required
def case_letter(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    if not case.authorisation_letter:
        raise Http404("No letter")
    audit_record(
        organization=case.organization, actor=_actor(request), action="case.letter_view", case_id=case.pk
    )
    response = HttpResponse(bytes(case.authorisation_letter), content_type="application/octet-stream")
    response["Content-Disposition"] = 'attachment; filename="authorisation-letter"'
    return response


@staff_required
def case_whitelist(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    initial = "\n".join(case.whitelist.order_by("value").values_list("value", flat=True))
    form = WhitelistForm(request.POST or None, initial={"values": initial})
    if request.method == "POST" and form.is_valid():
        entries = case_services.whitelist_set(
            case=case, actor=_actor(request), values=form.cleaned_data["values"]
        )
        messages.success(request, _("Saved: %(n)d addresses belong to the person.") % {"n": len(entries)})
        return redirect("case_detail", case_id=case.pk)
    return render(request, "cases/whitelist.html", {"case": case, "form": form})


@staff_required
def case_victim_account(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    form = VictimAccountForm(request.POST or None)
    created = None
    allowed = account_selectors.membership_may_create_victim_accounts(membership=request.membership)  # type: ignore[attr-defined]
    if request.method == "POST" and not allowed:
        # The organisation lets only its admins open a case to someone new.
        return render(
            request, "cases/victim_account.html", {"case": case, "form": form, "allowed": False}, status=403
        )
    if request.method == "POST" and case.victim_user_id is None and form.is_valid():
        try:
            user, password = case_services.case_victim_account_create(
                case=case,
                actor=_actor(request),
                username=form.cleaned_data["username"],
            )
        except case_services.CaseInputError as exc:
            form.add_error("username", str(exc))
        else:
            # Shown once, on this response only; never stored in clear.
            created = {"username": user.username, "password": password}
    return render(
        request,
        "cases/victim_account.html",
        {"case": case, "form": form, "created": created, "allowed": allowed},
    )


@require_POST
@staff_required
def case_status(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    form = CaseStatusForm(request.POST)
    if form.is_valid():
        case_services.case_set_status(case=case, actor=_actor(request), status=form.cleaned_data["status"])
        if case.status == CaseStatus.CLOSED:
            messages.success(request, _("The case is closed. You can reopen it, or erase it completely."))
        else:
            messages.success(request, _("The case is open again."))
    return redirect("case_detail", case_id=case.pk)


def _url_page(request: HttpRequest, case: Case) -> tuple[Any, list[Any], str | None]:
    from app.faces import selectors as face_selectors

    staff = request.membership.is_staff_role  # type: ignore[attr-defined]
    state = request.GET.get("state") or None
    if state == FACES_TO_CHECK and staff:
        # Possible deepfakes are for staff to check; the person's own account never sees them.
        urls = face_selectors.reported_urls_with_faces_to_check(case=case)
    else:
        if state not in UrlState.values:
            state = None
        urls = case_selectors.reported_url_list(case=case, state=state)
    page = Paginator(urls, URLS_PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    # Pending face matches are shown to staff only (the template checks); confirmed ones to all.
    faces = face_selectors.face_match_counts_by_url(url_ids=[u.pk for u in rows])
    for u in rows:
        u.faces = faces.get(u.pk)  # type: ignore[attr-defined]
    summaries = case_selectors.reported_url_match_summaries(url_ids=[u.pk for u in rows])
    codes = case_selectors.reported_url_error_codes(
        url_ids=[u.pk for u in rows if u.state == UrlState.FAILED]
    )
    follow_ups = tracking_selectors.url_follow_up_states(url_ids=[u.pk for u in rows])
    for u in rows:
        u.follow_up = follow_ups.get(u.pk)  # type: ignore[attr-defined]
        u.summary = summaries.get(u.pk)  # type: ignore[attr-defined]
        u.error_code = codes.get(u.pk, "")  # type: ignore[attr-defined]
    return page, rows, state


@member_required
def case_url_rows(request: HttpRequest, case_id: int) -> HttpResponse:
    """The rows of the link table, for live updates while links are being checked."""
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    _page, rows, state = _url_page(request, case)
    return render(request, "cases/_url_rows.html", {"case": case, "rows": rows, "state_filter": state})


@member_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    page, rows, state = _url_page(request, case)
    audit_record(
        organization=case.organization,
        actor=_actor(request),
        action="case.view",
        case_id=case.pk,
    )
    references = list(case.references.defer("fingerprint", "original").order_by("id"))
    routing = case_selectors.case_routing(case=case) if case.is_minor else []
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "page": page,
            "rows": rows,
            "state_filter": state,
            "states": UrlState.choices,
            "progress": case_selectors.case_progress(case=case),
            "references": references,
            "low_quality": sum(1 for r in references if r.pdq_quality < 50),
            "whitelist_count": case.whitelist.count(),
            "assigned": list(case.assigned_to.order_by("username")),
            "url_form": UrlReportForm(),
            "upload_form": ReferenceUploadForm(),
            "hash_form": HashImportForm(),
            "routing": routing,
            "hotline_form": HotlineReportForm(),
        },
    )


@member_required
def case_progress(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    return render(
        request, "cases/_progress.html", {"case": case, "progress": case_selectors.case_progress(case=case)}
    )


@require_POST
@staff_required
def case_urls_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    form = UrlReportForm(request.POST, request.FILES)
    if not form.is_valid():
        for error in form.non_field_errors():
            messages.error(request, str(error))
        return redirect("case_detail", case_id=case.pk)
    result = case_services.reported_urls_add(
        case=case, actor=_actor(request), urls=form.cleaned_data["lines"]
    )
    added = len(result.added)
    if added:
        messages.success(
            request,
            ngettext(
                "%(added)d link added. Jium is checking it now.",
                "%(added)d links added. Jium is checking them now.",
                added,
            )
            % {"added": added},
        )
    if result.duplicates:
        messages.info(
            request,
            ngettext(
                "%(dupes)d link was already on this case.",
                "%(dupes)d links were already on this case.",
                result.duplicates,
            )
            % {"dupes": result.duplicates},
        )
    if not added and not result.duplicates:
        # Nothing happened: a warning, not a success, and what to do instead.
        messages.warning(
            request,
            _("No link was added. Paste web addresses that start with http:// or https://, one per line."),
        )
    whitelisted = sum(1 for u in result.added if u.state == UrlState.WHITELISTED)
    if whitelisted:
        messages.info(
            request,
            _("%(n)d of them belong to the person and will never be reported.") % {"n": whitelisted},
        )
    for raw, _reason in result.invalid[:20]:
        messages.warning(request, _("Not a web address we can check: %(url)s") % {"url": raw})
    return redirect("case_detail", case_id=case.pk)


@require_POST
@staff_required
def case_urls_retry(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    n = case_services.reported_urls_requeue(case=case, actor=_actor(request), only_failed=True)
    if n:
        messages.success(
            request,
            ngettext("%(n)d link will be checked again.", "%(n)d links will be checked again.", n) % {"n": n},
        )
    else:
        messages.info(request, _("No link needed checking again."))
    return redirect("case_detail", case_id=case.pk)


@member_required
def case_url_detail(request: HttpRequest, case_id: int, url_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    reported = case_selectors.reported_url_get_for(case=case, url_id=url_id)
    evidence = case_selectors.reported_url_evidence(reported=reported)
    reported.error_code = getattr(evidence.fetch, "error_code", "")  # type: ignore[attr-defined]
    audit_record(
        organization=case.organization,
        actor=_actor(request),
        action="evidence.view",
        case_id=case.pk,
        object_type="reported_url",
        object_id=reported.pk,
    )
    return render(
        request,
        "cases/url_detail.html",
        {
            "case": case,
            "item": evidence,
            "revealed": set(request.session.get(REVEAL_SESSION_KEY, [])),
            "other_cases": _other_cases_on_page(request, evidence),
        },
    )


def _other_cases_on_page(request: HttpRequest, evidence: case_selectors.UrlEvidence) -> list[Case]:
    """Other cases (that this caseworker may see) whose images also appear on this page."""
    from app.matching.selectors import media_item_other_case_hits

    if evidence.fetch is None or not request.membership.is_staff_role:  # type: ignore[attr-defined]
        return []
    case_ids = {
        case_id
        for media in evidence.fetch.media.all()  # type: ignore[attr-defined]
        for _ref, case_id, _distance in media_item_other_case_hits(media_item=media, user=request.user)
    }
    return list(case_selectors.case_list_for(user=request.user).filter(pk__in=case_ids).order_by("alias"))


@member_required
def case_results(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    page = Paginator(case_selectors.matched_url_list(case=case), RESULTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    groups = case_selectors.case_matches_by_host(case=case, urls=list(page.object_list))
    audit_record(
        organization=case.organization, actor=_actor(request), action="evidence.list", case_id=case.pk
    )
    return render(
        request,
        "cases/results.html",
        {
            "case": case,
            "page": page,
            "groups": groups,
            "progress": case_selectors.case_progress(case=case),
            "revealed": set(request.session.get(REVEAL_SESSION_KEY, [])),
        },
    )


@require_POST
@staff_required
def case_hotline_report(request: HttpRequest, case_id: int) -> HttpResponse:
    """Record that a minor's case was reported to a hotline or the police (a caseworker's own record)."""
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    if not case.is_minor:
        raise Http404("Only for a young person's case")
    form = HotlineReportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the date and time of the report."))
        return redirect(f"{reverse('case_detail', args=[case.pk])}#routing")
    try:
        case_services.hotline_report_record(
            case=case,
            actor=_actor(request),
            hotline_id=form.cleaned_data["hotline"],
            reported_at=form.cleaned_data["reported_at"],
            reference=form.cleaned_data["reference"],
        )
    except case_services.CaseInputError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Saved: the report is recorded in this case."))
    return redirect(f"{reverse('case_detail', args=[case.pk])}#routing")


@admin_required
def case_age(request: HttpRequest, case_id: int) -> HttpResponse:
    """The one place the age recorded at intake can change: an admin, with an audit event."""
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    form = CaseAgeForm(request.POST or None, case=case, initial={"age_group": case.age_group})
    if request.method == "POST" and form.is_valid():
        try:
            purge = case_services.case_set_age_group(
                case=case, actor=_actor(request), age_group=form.cleaned_data["age_group"]
            )
        except case_services.CaseInputError as exc:
            form.add_error(None, str(exc))
        else:
            request.session.pop(REVEAL_SESSION_KEY, None)
            if case.is_minor:
                deleted = purge.originals + purge.page_copies + purge.media_copies
                messages.success(
                    request,
                    _(
                        "This is now a young person's case. %(n)d stored files were deleted; Jium keeps no images from now on."
                    )
                    % {"n": deleted},
                )
            else:
                messages.success(request, _("Saved: the person was an adult when the images were made."))
            return redirect("case_detail", case_id=case.pk)
    return render(request, "cases/age.html", {"case": case, "form": form})


@staff_required
def case_history(request: HttpRequest, case_id: int) -> HttpResponse:
    from app.accounts.selectors import audit_event_list

    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    page = Paginator(audit_event_list(organization=case.organization, case_id=case.pk), 100).get_page(
        request.GET.get("page")
    )
    return render(request, "cases/history.html", {"case": case, "page": page})


@staff_required
def case_erase(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    membership = request.membership  # type: ignore[attr-defined]
    allowed = account_selectors.membership_may_erase_cases(membership=membership)
    form = EraseForm(request.POST or None, case=case)
    if request.method == "POST" and not allowed:
        # Caseworkers whose organisation keeps erasure for admins ask an admin instead.
        if request.POST.get("request_erasure"):
            audit_record(
                organization=case.organization,
                actor=_actor(request),
                action="case.erase_request",
                case_id=case.pk,
            )
            messages.success(
                request, _("Your request to erase this case was sent to your organisation's admins.")
            )
            return redirect("case_detail", case_id=case.pk)
        return render(request, "cases/erase.html", {"case": case, "form": form, "allowed": False}, status=403)
    if request.method == "POST" and form.is_valid():
        case_services.case_erase(case=case, actor=_actor(request))
        request.session.pop(REVEAL_SESSION_KEY, None)
        messages.success(request, _("The case and everything in it has been erased."))
        return redirect("case_list")
    requests = account_selectors.case_erasure_requests(organization=case.organization, case_id=case.pk)
    return render(
        request,
        "cases/erase.html",
        {"case": case, "form": form, "allowed": allowed, "requests": requests[:5] if allowed else []},
    )
