"""Review, sign and send notices; the submit helper; evidence downloads."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from app.accounts.services import audit_record
from app.cases.models import UrlState
from app.cases.selectors import case_get_for
from app.notices import services
from app.notices.evidence import evidence_pdf, evidence_zip
from app.notices.forms import DraftForm, EditForm, NameChoiceForm, SignForm, SubmittedForm
from app.notices.models import NoticeState
from app.notices.selectors import notice_get_for, notice_list
from app.platforms.models import ChannelKind
from app.web.decorators import member_required, staff_required


def _actor(request: HttpRequest) -> User:
    # Every view here is behind member_required, so the user is a logged-in User.
    return cast(User, request.user)


def _download(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@member_required
def case_notices(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get_for(user=request.user, case_id=case_id)
    audit_record(organization=case.organization, actor=_actor(request), action="notice.list", case_id=case.pk)
    return render(
        request,
        "notices/list.html",
        {
            "case": case,
            "notices": notice_list(case=case),
            # The empty table says what to do when there is already something to draft.
            "matched": case.urls.filter(state=UrlState.MATCHED).count(),
            "draft_form": DraftForm(initial={"lang": case.language}),
        },
    )


@require_POST
@staff_required
def case_notices_draft(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get_for(user=request.user, case_id=case_id)
    form = DraftForm(request.POST)
    if form.is_valid():
        drafts = services.notice_drafts_for_case(
            case=case,
            actor=_actor(request),
            regime=form.cleaned_data["regime"],
            lang=form.cleaned_data["lang"],
        )
        if drafts:
            messages.success(
                request,
                ngettext(
                    "%(n)d notice drafted. Review it before signing.",
                    "%(n)d notices drafted. Review each one before signing.",
                    len(drafts),
                )
                % {"n": len(drafts)},
            )
        else:
            messages.warning(request, _("No notice was drafted: no link shows a match that still needs one."))
    return redirect("case_notices", case_id=case.pk)


@member_required
def notice_detail(request: HttpRequest, case_id: int, notice_id: int) -> HttpResponse:
    notice = notice_get_for(user=request.user, case_id=case_id, notice_id=notice_id)
    audit_record(
        organization=notice.case.organization, actor=_actor(request), action="notice.view",
        case_id=notice.case_id, object_type="notice", object_id=notice.pk,
    )  # fmt: skip
    case = notice.case
    needs_authorisation = not (case.authorised_on or case.authorisation_method)
    contact, contact_source = services.notice_contact(notice)
    can_email = notice.channel_kind == ChannelKind.EMAIL and "@" in notice.channel_address
    send_failure = services.send_failure_text(notice.send_error) if notice.send_error else None
    return render(
        request,
        "notices/detail.html",
        {
            "case": case,
            "notice": notice,
            "edit_form": EditForm(
                by_email=notice.channel_kind == ChannelKind.EMAIL,
                person_email=services.person_email(case),
                initial={
                    "statement": notice.statement,
                    "regime": notice.regime,
                    "lang": notice.lang,
                    "channel_address": notice.channel_address,
                    "contact_email": notice.contact_email
                    if contact_source == services.CONTACT_CHOSEN
                    else "",
                    "use_person_contact": contact_source == services.CONTACT_PERSON,
                },
            ),
            "sign_form": SignForm(),
            "name_form": NameChoiceForm(initial={"notice_name": case.notice_name}),
            "submitted_form": _submitted_form(notice),
            "disclosure": services.notice_disclosure(notice=notice),
            "contact_missing": not services.usable_email(contact),
            "needs_authorisation": needs_authorisation,
            "is_open": notice.state in (NoticeState.DRAFT, NoticeState.SIGNED),
            "can_email": can_email,
            "mail_ok": services.mail_server_available()
            if can_email and notice.state == NoticeState.SIGNED
            else True,
            "send_failure": send_failure,
            "send_error_detail": notice.send_error.split(": ", 1)[-1] if notice.send_error else "",
        },
    )


def _submitted_form(notice: object, data: object = None) -> SubmittedForm:
    form = SubmittedForm(data, initial={"channel": getattr(notice, "channel_kind", "")})  # type: ignore[arg-type]
    form.fields["submitted_on"].help_text = _("In the time zone %(zone)s. Leave empty for now.") % {
        "zone": timezone.get_current_timezone_name()
    }
    return form


@require_POST
@staff_required
def notice_edit(request: HttpRequest, case_id: int, notice_id: int) -> HttpResponse:
    notice = notice_get_for(user=request.user, case_id=case_id, notice_id=notice_id)
    form = EditForm(
        request.POST,
        by_email=notice.channel_kind == ChannelKind.EMAIL,
        person_email=services.person_email(notice.case),
    )
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    else:
        was_signed = notice.signed_at is not None
        try:
            services.notice_edit(notice=notice, actor=_actor(request), **form.cleaned_data)
            # "Sign again" only makes sense to someone who signed it before.
            messages.success(
                request, _("Saved. The notice must be signed again.") if was_signed else _("Saved.")
            )
        except services.NoticeError as exc:
            messages.error(request, str(exc))
    return redirect("notice_detail", case_id=case_id, notice_id=notice.pk)


@require_POST
@staff_required
def notice_sign(request: HttpRequest, case_id: int, notice_id: int) -> HttpResponse:
    notice = notice_get_for(user=request.user, case_id=case_id, notice_id=notice_id)
    form = SignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Type your name and confirm you have read the notice."))
    else:
        data = form.cleaned_data
        try:
            services.notice_sign(
                notice=notice, actor=_actor(request), signer_name=data["signer_name"], signer_role=data["signer_role"],
                authorised_on=data["authorised_on"], authorisation_method=data["authorisation_method"],
            )  # fmt: skip
            messages.success(request, _("Signed. Nothing has been sent yet."))
        except services.NoticeError as exc:
            messages.error(request, str(exc))
    return redirect("notice_detail", case_id=case_id, notice_id=notice.pk)


@require_POST
@staff_required
def notice_send(request: HttpRequest, case_id: int, notice_id: int) -> HttpResponse:
    notice = notice_get_for(user=request.user, case_id=case_id, notice_id=notice_id)
    try:
        services.notice_send(notice=notice, actor=_actor(request))
        messages.success(request, _("Sent to %(address)s.") % {"address": notice.channel_address})
    except services.NoticeError as exc:
        messages.error(request, str(exc))
    return redirect("notice_detail", case_id=case_id, notice_id=notice.pk)


@staff_required
def notice_helper(request: HttpRequest, case_id: int, notice_id: int) -> HttpResponse:
    notice = notice_get_for(user=request.user, case_id=case_id, notice_id=notice_id)
    channel = (
        notice.platform.channels.filter(kind=notice.channel_kind, address=notice.channel_address).first()
        if notice.platform
        else None
    )
    fields = services.submit_helper_fields(notice=notice) if notice.is_signed else []
    real_name = str(notice.case.real_name or "")
    if real_name and any(real_name in str(value) for _label, value in fields):
        # The helper shows the person's real name to copy into the platform's form: logged.
        audit_record(
            organization=notice.case.organization,
            actor=_actor(request),
            action="notice.identity_view",
            case_id=notice.case_id,
            object_type="notice",
            object_id=notice.pk,
        )
    return render(
        request,
        "notices/helper.html",
        {
            "case": notice.case,
            "notice": notice,
            "fields": fields,
            # The helper speaks the reader's language, whatever language the notice is in.
            "instructions": channel.instructions(request.LANGUAGE_CODE) if channel else "",
            "submitted_form": _submitted_form(notice),
        },
    )


@require_POST
@staff_required
def notice_submitted(request: HttpRequest, case_id: int, notice_id: int) -> HttpResponse:
    notice = notice_get_for(user=request.user, case_id=case_id, notice_id=notice_id)
    form = _submitted_form(notice, request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the date and time as shown, and choose how it was submitted."))
    else:
        data = form.cleaned_data
        try:
            services.notice_record_submitted(
                notice=notice, actor=_actor(request), submitted_at=data["submitted_on"],
                channel=data["channel"], reference=data["reference"],
            )  # fmt: skip
            messages.success(request, _("Recorded as submitted. Jium now tracks the platform's deadline."))
        except services.NoticeError as exc:
            messages.error(request, str(exc))
    return redirect("notice_detail", case_id=case_id, notice_id=notice.pk)


@require_POST
@staff_required
def notice_name_choice(request: HttpRequest, case_id: int, notice_id: int) -> HttpResponse:
    notice = notice_get_for(user=request.user, case_id=case_id, notice_id=notice_id)
    form = NameChoiceForm(request.POST)
    if form.is_valid():
        try:
            services.case_notice_name_set(
                case=notice.case, actor=_actor(request), choice=form.cleaned_data["notice_name"]
            )
            messages.success(request, _("Saved for every notice of this case that is not yet signed."))
        except services.NoticeError as exc:
            messages.error(request, str(exc))
    return redirect("notice_detail", case_id=case_id, notice_id=notice.pk)


@member_required
def notice_pdf(request: HttpRequest, case_id: int, notice_id: int) -> HttpResponse:
    notice = notice_get_for(user=request.user, case_id=case_id, notice_id=notice_id)
    audit_record(
        organization=notice.case.organization, actor=_actor(request), action="notice.download",
        case_id=notice.case_id, object_type="notice", object_id=notice.pk,
    )  # fmt: skip
    data = bytes(notice.pdf or b"") or services.notice_pdf_bytes(notice=notice)
    return _download(data, f"notice-{notice.case_id}-{notice.pk}.pdf", "application/pdf")


@staff_required
def case_evidence(request: HttpRequest, case_id: int, fmt: str) -> HttpResponse:
    if fmt not in ("pdf", "zip"):
        raise Http404("No such format")
    case = case_get_for(user=request.user, case_id=case_id)
    audit_record(
        organization=case.organization, actor=_actor(request), action=f"evidence.{fmt}", case_id=case.pk
    )
    lang = "ko" if request.LANGUAGE_CODE == "ko" else "en"
    if fmt == "zip":
        return _download(
            evidence_zip(case=case, lang=lang), f"evidence-case-{case.pk}.zip", "application/zip"
        )
    return _download(evidence_pdf(case=case, lang=lang), f"evidence-case-{case.pk}.pdf", "application/pdf")
