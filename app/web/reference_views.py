"""The case's references on the web: uploading images or videos, importing hashes, deleting one."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from app.cases import selectors as case_selectors
from app.cases import services as case_services
from app.cases.services.hashlists import hash_list_import_text
from app.web.decorators import staff_required
from app.web.forms import (
    HashImportForm,
    ReferenceUploadForm,
)
from app.web.views import _actor


@require_POST
@staff_required
def case_references_upload(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    if case.is_minor:
        # The control does not exist for a minor's case; neither does the address.
        raise Http404("No uploads in this case")
    form = ReferenceUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose one or more image files."))
        return redirect("case_detail", case_id=case.pk)
    added = 0
    before = case.references.count()
    for upload in form.cleaned_data["images"]:
        try:
            case_services.reference_add_image(
                case=case,
                actor=_actor(request),
                data=upload.read(),
                filename=upload.name or "",
            )
            added += 1
        except case_services.CaseInputError as exc:
            messages.error(request, f"{upload.name}: {exc}")
    new = case.references.count() - before
    if added:
        if case.keep_originals:
            messages.success(request, _("%(n)d images added. The originals are kept encrypted.") % {"n": new})
        else:
            messages.success(
                request,
                _("%(n)d images added. We kept only their fingerprints; the files are deleted.") % {"n": new},
            )
        if added > new:
            messages.info(request, _("%(n)d of the images were already on this case.") % {"n": added - new})
    return redirect("case_detail", case_id=case.pk)


@require_POST
@staff_required
def case_references_import(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    form = HashImportForm(request.POST, request.FILES)
    if not form.is_valid():
        for error in form.non_field_errors():
            messages.error(request, str(error))
        return redirect("case_detail", case_id=case.pk)
    from app.matching.document import is_document

    if is_document(form.cleaned_data["text"]):
        # A document from the /fingerprint/ page: full fingerprints made on the person's device.
        try:
            result = case_services.reference_fingerprints_import(
                case=case, actor=_actor(request), document=form.cleaned_data["text"]
            )
        except case_services.CaseInputError as exc:
            messages.error(request, str(exc))
            return redirect("case_detail", case_id=case.pk)
        messages.success(
            request,
            _("%(n)d fingerprints made on the person's device were added.")
            % {"n": len(result.created) + len(result.upgraded)},
        )
        if result.duplicates:
            messages.info(request, _("%(n)d of them were already on this case.") % {"n": result.duplicates})
        if result.skipped:
            messages.warning(
                request,
                _("%(n)d fingerprints could not be read and were skipped.") % {"n": len(result.skipped)},
            )
        return redirect("case_detail", case_id=case.pk)
    try:
        # ThreatExchange and Hasher-Matcher-Actioner lists are recognised by their shape.
        created, errors = hash_list_import_text(
            case=case, actor=_actor(request), text=form.cleaned_data["text"]
        )
    except case_services.CaseInputError as exc:
        messages.error(request, str(exc))
        return redirect("case_detail", case_id=case.pk)
    messages.success(request, _("%(n)d hashes imported.") % {"n": len(created)})
    if errors:
        messages.warning(request, _("%(n)d lines were not PDQ hashes and were skipped.") % {"n": len(errors)})
    return redirect("case_detail", case_id=case.pk)


@require_POST
@staff_required
def case_reference_delete(request: HttpRequest, case_id: int, reference_id: int) -> HttpResponse:
    case = case_selectors.case_get_for(user=request.user, case_id=case_id)
    reference = case.references.filter(pk=reference_id).first()
    if reference is None:
        raise Http404("No such reference")
    case_services.reference_delete(reference=reference, actor=_actor(request))
    messages.success(request, _("The image fingerprint was removed."))
    return redirect("case_detail", case_id=case.pk)
