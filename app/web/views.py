from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from app.accounts.services import audit_record
from app.cases import selectors as case_selectors
from app.cases import services as case_services
from app.cases.models import UrlState
from app.web.decorators import member_required, staff_required
from app.web.forms import CaseForm, EraseForm, HashImportForm, ReferenceUploadForm, UrlReportForm

URLS_PER_PAGE = 100


def exit_page(request: HttpRequest) -> HttpResponse:
    """A neutral page for the quick-exit button, should the redirect to an outside site be blocked."""
    return render(request, "exit.html")


@member_required
def case_list(request: HttpRequest) -> HttpResponse:
    cases = case_selectors.case_list_for(user=request.user).order_by("-created_at")
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    return render(request, "cases/list.html", {"page": page})


@staff_required
def case_create(request: HttpRequest) -> HttpResponse:
    form = CaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        case = case_services.case_create(
            organization=request.membership.organization,  # type: ignore[attr-defined]
            actor=request.user,  # type: ignore[arg-type]
            **{k: v for k, v in form.cleaned_data.items() if v is not None},
        )
        messages.success(request, _("Case created. Next: add the images you already have."))
        return redirect("case_detail", case_id=case.pk)
    return render(request, "cases/new.html", {"form": form})


@member_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    state = request.GET.get("state") or None
    if state not in UrlState.values:
        state = None
    urls = case_selectors.reported_url_list(case=case, state=state)
    page = Paginator(urls, URLS_PER_PAGE).get_page(request.GET.get("page"))
    audit_record(
        organization=case.organization, actor=request.user, action="case.view", case_id=case.pk  # type: ignore[arg-type]
    )
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "page": page,
            "state_filter": state,
            "states": UrlState.choices,
            "progress": case_selectors.case_progress(case=case),
            "references": case.references.all(),
            "url_form": UrlReportForm(),
            "upload_form": ReferenceUploadForm(),
            "hash_form": HashImportForm(),
        },
    )


@member_required
def case_progress(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    return render(request, "cases/_progress.html", {"case": case, "progress": case_selectors.case_progress(case=case)})


@require_POST
@staff_required
def case_urls_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    form = UrlReportForm(request.POST, request.FILES)
    if not form.is_valid():
        for error in form.non_field_errors():
            messages.error(request, error)
        return redirect("case_detail", case_id=case.pk)
    result = case_services.reported_urls_add(case=case, actor=request.user, urls=form.cleaned_data["lines"])  # type: ignore[arg-type]
    messages.success(
        request,
        _("%(added)d addresses added and queued for checking. %(dupes)d were already on this case.")
        % {"added": len(result.added), "dupes": result.duplicates},
    )
    for raw, _reason in result.invalid[:20]:
        messages.warning(request, _("Not a web address we can check: %(url)s") % {"url": raw})
    return redirect("case_detail", case_id=case.pk)


@require_POST
@staff_required
def case_references_upload(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    form = ReferenceUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose one or more image files."))
        return redirect("case_detail", case_id=case.pk)
    added = 0
    for upload in form.cleaned_data["images"]:
        try:
            case_services.reference_add_image(
                case=case, actor=request.user, data=upload.read(), filename=upload.name or ""  # type: ignore[arg-type]
            )
            added += 1
        except case_services.CaseInputError as exc:
            messages.error(request, f"{upload.name}: {exc}")
    if added:
        if case.keep_originals:
            messages.success(request, _("%(n)d images added. The originals are kept encrypted.") % {"n": added})
        else:
            messages.success(request, _("%(n)d images added. We kept only their fingerprints; the files are deleted.") % {"n": added})
    return redirect("case_detail", case_id=case.pk)


@require_POST
@staff_required
def case_references_import(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    form = HashImportForm(request.POST, request.FILES)
    if not form.is_valid():
        for error in form.non_field_errors():
            messages.error(request, error)
        return redirect("case_detail", case_id=case.pk)
    try:
        created, errors = case_services.reference_import_hashes(case=case, actor=request.user, text=form.cleaned_data["text"])  # type: ignore[arg-type]
    except case_services.CaseInputError as exc:
        messages.error(request, str(exc))
        return redirect("case_detail", case_id=case.pk)
    messages.success(request, _("%(n)d hashes imported.") % {"n": len(created)})
    if errors:
        messages.warning(request, _("%(n)d lines were not PDQ hashes and were skipped.") % {"n": len(errors)})
    return redirect("case_detail", case_id=case.pk)


@staff_required
def case_erase(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    form = EraseForm(request.POST or None, case=case)
    if request.method == "POST" and form.is_valid():
        case_services.case_erase(case=case, actor=request.user)  # type: ignore[arg-type]
        messages.success(request, _("The case and everything in it has been erased."))
        return redirect("case_list")
    return render(request, "cases/erase.html", {"case": case, "form": form})
