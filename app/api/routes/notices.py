"""Notices: draft for a case (202 + poll), list, read (JSON text and PDF), edit, sign, send, record as submitted."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Path, Router, Schema, Status
from pydantic import Field, StrictBool, StrictStr

from app.api.http import ApiError, context, no_store
from app.api.models import ApiJob
from app.api.routes import ERRORS, MAX_ID, Body, audit
from app.api.routes.cases import CaseId, get_case
from app.api.services import api_job_create
from app.notices import services as notice_services
from app.notices.forms import LANG_CHOICES
from app.notices.models import Notice, RegimeCode, SubmissionChannel
from app.notices.selectors import notice_get_for, notice_list

router = Router(tags=["notices"])

NoticeId = Path(..., ge=1, le=MAX_ID, description="The notice's id.")
LANGS: list[Any] = [code for code, _name in LANG_CHOICES]


class NoticeOut(Schema):
    id: int
    recipient_key: str
    recipient_name: str
    regime: str
    lang: str
    channel_kind: str = Field(description="email, web_form or in_app")
    channel_address: str
    channel_confirmed: bool
    state: str = Field(description="draft, signed, sent or submitted")
    statement: str
    signer_name: str
    signer_role: str
    signed_at: datetime | None
    sent_at: datetime | None
    submitted_at: datetime | None
    submitted_channel: str = Field(
        description="web_form, in_app, email, post or other, when submitted by hand."
    )
    submitted_reference: str = Field(description="The platform's reference or ticket number, if recorded.")
    deadline_at: datetime | None
    send_error: str
    pdf_sha256: str
    url_ids: list[int]
    created_at: datetime
    updated_at: datetime


def notice_out(n: Notice) -> dict[str, Any]:
    text = notice_services.as_text
    return {
        "id": n.pk,
        "recipient_key": n.recipient_key,
        "recipient_name": n.recipient_name,
        "regime": n.regime,
        "lang": n.lang,
        "channel_kind": n.channel_kind,
        "channel_address": n.channel_address,
        "channel_confirmed": n.channel_confirmed,
        "state": n.state,
        "statement": text(n.statement),
        "signer_name": text(n.signer_name),
        "signer_role": n.signer_role,
        "signed_at": n.signed_at,
        "sent_at": n.sent_at,
        "submitted_at": n.submitted_at,
        "submitted_channel": n.submitted_channel,
        "submitted_reference": n.submitted_reference,
        "deadline_at": n.deadline_at,
        "send_error": n.send_error,
        "pdf_sha256": n.pdf_sha256,
        "url_ids": list(n.items.values_list("reported_url_id", flat=True)),
        "created_at": n.created_at,
        "updated_at": n.updated_at,
    }


def _notice(request: HttpRequest, case_id: int, notice_id: int) -> Notice:
    return notice_get_for(user=context(request).user, case_id=case_id, notice_id=notice_id)


def _notice_error(exc: notice_services.NoticeError) -> ApiError:
    return ApiError(409, "conflict", str(exc))


ERRORS_409 = {**ERRORS, 409: ERRORS[400]}


@router.get("cases/{int:case_id}/notices/", response={200: list[NoticeOut], **ERRORS}, summary="List notices")
def notices(request: HttpRequest, case_id: int = CaseId) -> list[dict[str, Any]]:
    case = get_case(request, case_id)
    audit(context(request), "api.notice.list", case)
    return [notice_out(n) for n in notice_list(case=case).defer("pdf", "body", "subject")]


class DraftIn(Body):
    regime: StrictStr = Field(
        "auto",
        json_schema_extra={"enum": ["auto", *RegimeCode.values]},
        description="auto: the right law for each platform.",
    )
    lang: StrictStr | None = Field(
        None, json_schema_extra={"enum": LANGS}, description="When the platform's language is not known."
    )


class JobOut(Schema):
    id: int
    kind: str
    state: str = Field(description="queued, running, done or failed")
    result: dict[str, Any]
    error: str
    created_at: datetime
    finished_at: datetime | None
    poll: str


def job_out(request: HttpRequest, job: ApiJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "kind": job.kind,
        "state": job.state,
        "result": job.result,
        "error": job.error,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "poll": request.build_absolute_uri(f"/api/v1/jobs/{job.pk}/"),
    }


@router.post(
    "cases/{int:case_id}/notices/draft/", response={202: JobOut, **ERRORS}, summary="Draft the case's notices"
)
def notices_draft(request: HttpRequest, payload: DraftIn, case_id: int = CaseId) -> Status[Any]:
    """One draft per recipient for the matched URLs not yet in a signed notice. Drafting looks up
    contacts and renders PDFs, so it runs on a worker: poll the job; its result lists the notice ids."""
    case = get_case(request, case_id)
    if payload.regime not in ("auto", *RegimeCode.values):
        message = _("Not one of the allowed values: %(values)s.") % {"values": ", ".join(RegimeCode.values)}
        raise ApiError(400, "invalid", message, fields={"regime": [message]})
    if payload.lang is not None and payload.lang not in LANGS:
        message = _("Not one of the allowed values: %(values)s.") % {"values": ", ".join(LANGS)}
        raise ApiError(400, "invalid", message, fields={"lang": [message]})
    api = context(request)
    job = api_job_create(
        case=case,
        actor=api.user,
        kind="notices.draft",
        params={"regime": payload.regime, "lang": payload.lang},
    )
    audit(api, "api.notice.draft", case, job=job.pk)
    response = Status(202, job_out(request, job))
    return response


@router.get(
    "cases/{int:case_id}/notices/{int:notice_id}/",
    response={200: NoticeOut, **ERRORS},
    summary="Read a notice",
)
def notice_detail(request: HttpRequest, case_id: int = CaseId, notice_id: int = NoticeId) -> dict[str, Any]:
    notice = _notice(request, case_id, notice_id)
    audit(context(request), "api.notice.view", notice.case, notice=notice.pk)
    return notice_out(notice)


class NoticeText(Schema):
    subject: str
    body: str


@router.get(
    "cases/{int:case_id}/notices/{int:notice_id}/text/",
    response={200: NoticeText, **ERRORS},
    summary="The notice's text",
)
def notice_text(request: HttpRequest, case_id: int = CaseId, notice_id: int = NoticeId) -> dict[str, Any]:
    notice = _notice(request, case_id, notice_id)
    audit(context(request), "api.notice.text", notice.case, notice=notice.pk)
    return {"subject": notice_services.as_text(notice.subject), "body": notice_services.as_text(notice.body)}


@router.get(
    "cases/{int:case_id}/notices/{int:notice_id}/pdf/",
    response={200: None, **ERRORS},
    summary="The notice as PDF",
    openapi_extra={
        "responses": {
            200: {
                "description": "PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def notice_pdf(request: HttpRequest, case_id: int = CaseId, notice_id: int = NoticeId) -> HttpResponse:
    notice = _notice(request, case_id, notice_id)
    audit(context(request), "api.notice.download", notice.case, notice=notice.pk)
    data = bytes(notice.pdf or b"") or notice_services.notice_pdf_bytes(notice=notice)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="notice-{notice.case_id}-{notice.pk}.pdf"'
    return no_store(response)


class NoticeEditIn(Body):
    statement: StrictStr | None = Field(None, max_length=5000)
    regime: StrictStr | None = Field(None, json_schema_extra={"enum": list(RegimeCode.values)})
    lang: StrictStr | None = Field(None, json_schema_extra={"enum": LANGS})
    channel_address: StrictStr | None = Field(
        None, description="An email address, for notices sent by email."
    )


@router.patch(
    "cases/{int:case_id}/notices/{int:notice_id}/",
    response={200: NoticeOut, **ERRORS_409},
    url_name="notice_detail",
    summary="Edit a notice",
)
def notice_edit(
    request: HttpRequest, payload: NoticeEditIn, case_id: int = CaseId, notice_id: int = NoticeId
) -> dict[str, Any]:
    """Change the free-text statement, the legal basis, the language or the email address; a signed
    notice goes back to draft and must be signed again."""
    from app.notices.forms import EditForm

    notice = _notice(request, case_id, notice_id)
    sent = payload.model_dump(exclude_none=True)
    form = EditForm(
        {
            "regime": notice.regime,
            "lang": notice.lang,
            "statement": notice_services.as_text(notice.statement),
            **sent,
        }
    )
    if not form.is_valid():
        raise ApiError(
            400,
            "invalid",
            _("Some fields need fixing."),
            fields={name: [str(m) for m in messages] for name, messages in form.errors.items()},
        )
    if "channel_address" in sent and "channel_address" not in form.fields:
        message = _("This platform does not take notices by email; use the submit helper.")
        raise ApiError(409, "conflict", message, fields={"channel_address": [message]})
    changes = {k: form.cleaned_data[k] for k in sent if k in form.fields}
    try:
        notice_services.notice_edit(notice=notice, actor=context(request).user, **changes)
    except notice_services.NoticeError as exc:
        raise _notice_error(exc) from None
    audit(context(request), "api.notice.edit", notice.case, notice=notice.pk, fields=sorted(changes))
    return notice_out(notice)


class SignIn(Body):
    signer_name: StrictStr = Field(max_length=200, description="Your full name: the typed signature.")
    signer_role: StrictStr = Field("", max_length=200)
    authorised_on: date | None = Field(None, description="When the person authorised you to act for them.")
    authorisation_method: StrictStr = Field("", max_length=200)
    confirm: StrictBool = Field(description="true: I have read this notice and confirm it is accurate.")


@router.post(
    "cases/{int:case_id}/notices/{int:notice_id}/sign/",
    response={200: NoticeOut, **ERRORS_409},
    summary="Sign a notice",
)
def notice_sign(
    request: HttpRequest, payload: SignIn, case_id: int = CaseId, notice_id: int = NoticeId
) -> dict[str, Any]:
    """A person reviews and signs before anything is sent; nothing is sent by signing."""
    notice = _notice(request, case_id, notice_id)
    if payload.confirm is not True:
        message = _("Type your name and confirm you have read the notice.")
        raise ApiError(400, "invalid", message, fields={"confirm": [message]})
    try:
        notice_services.notice_sign(
            notice=notice,
            actor=context(request).user,
            signer_name=payload.signer_name,
            signer_role=payload.signer_role,
            authorised_on=payload.authorised_on,
            authorisation_method=payload.authorisation_method,
        )
    except notice_services.NoticeError as exc:
        raise _notice_error(exc) from None
    audit(context(request), "api.notice.sign", notice.case, notice=notice.pk)
    return notice_out(notice)


@router.post(
    "cases/{int:case_id}/notices/{int:notice_id}/send/",
    response={200: NoticeOut, **ERRORS_409},
    summary="Email a signed notice",
)
def notice_send(request: HttpRequest, case_id: int = CaseId, notice_id: int = NoticeId) -> dict[str, Any]:
    notice = _notice(request, case_id, notice_id)
    try:
        notice_services.notice_send(notice=notice, actor=context(request).user)
    except notice_services.NoticeError as exc:
        raise _notice_error(exc) from None
    audit(context(request), "api.notice.send", notice.case, notice=notice.pk)
    return notice_out(notice)


class SubmittedIn(Body):
    submitted_at: datetime | None = Field(
        None, description="When it was submitted (ISO 8601 with zone); now if absent."
    )
    channel: StrictStr | None = Field(
        None,
        json_schema_extra={"enum": list(SubmissionChannel.values)},
        description="How it was submitted; the notice's own channel when not given.",
    )
    reference: StrictStr = Field("", max_length=200, description="The platform's reference or ticket number.")


@router.post(
    "cases/{int:case_id}/notices/{int:notice_id}/submitted/",
    response={200: NoticeOut, **ERRORS_409},
    summary="Record a notice as submitted by hand",
)
def notice_submitted(
    request: HttpRequest, payload: SubmittedIn, case_id: int = CaseId, notice_id: int = NoticeId
) -> dict[str, Any]:
    """For platforms that take notices through a web form or their app: a person submitted the signed
    notice there; its deadline runs from ``submitted_at``."""
    from django.utils import timezone

    notice = _notice(request, case_id, notice_id)
    at = payload.submitted_at
    if at is not None and (at.tzinfo is None or at > timezone.now()):
        message = (
            _("Must be a date and time (ISO 8601, with its zone).")
            if at.tzinfo is None
            else _("The time cannot be in the future.")
        )
        raise ApiError(400, "invalid", message, fields={"submitted_at": [message]})
    if at is not None:
        at = at.astimezone(UTC)  # stored and shown in UTC, whatever zone the caller wrote
    try:
        notice_services.notice_record_submitted(
            notice=notice,
            actor=context(request).user,
            submitted_at=at,
            channel=payload.channel or "",
            reference=payload.reference,
        )
    except notice_services.NoticeError as exc:
        raise _notice_error(exc) from None
    audit(
        context(request),
        "api.notice.submitted",
        notice.case,
        notice=notice.pk,
        channel=notice.submitted_channel,
    )
    return notice_out(notice)


# ---- jobs --------------------------------------------------------------------------------------

jobs = Router(tags=["jobs"])


@jobs.get("jobs/{int:job_id}/", response={200: JobOut, **ERRORS}, summary="Poll a job")
def job_detail(request: HttpRequest, job_id: int = Path(..., ge=1, le=MAX_ID)) -> dict[str, Any]:
    api = context(request)
    job = ApiJob.objects.filter(pk=job_id, organization=api.membership.organization).first()
    if job is None or job.case_id is None:
        raise ApiError(404, "not_found", _("Not found."))
    case = get_case(request, job.case_id)  # the case rules apply: assigned-only caseworkers see their own
    audit(api, "api.job.view", case, job=job.pk)
    return job_out(request, job)
