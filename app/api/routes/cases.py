"""Cases: list, create, read, update, close/reopen, erase; the whitelist of the person's own addresses."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field, StrictBool, StrictStr

from app.accounts import selectors as account_selectors
from app.accounts.models import Role
from app.api.http import ApiError, PageMeta, context, paginate
from app.api.routes import ERRORS, MAX_ID, Body, audit
from app.cases import selectors as case_selectors
from app.cases import services as case_services
from app.cases.models import AgeGroup, Case, CaseStatus, Jurisdiction
from app.cases.selectors import CaseProgress

router = Router(tags=["cases"])

CASES_PER_PAGE = 100


class ProgressOut(Schema):
    total: int
    done: int
    pending: int
    matched: int
    no_match: int
    failed: int
    whitelisted: int
    percent: int
    finished: bool


class CaseOut(Schema):
    """A case as the API shows it: never the real name, contact details or authorisation letter."""

    id: int
    alias: str
    jurisdiction: str
    language: str
    status: str
    kind: str = Field(
        description="person, or hash_list for a list imported for the whole organisation "
        "(POST /hashes/): its hashes are matched like any case's, but no person stands behind it."
    )
    age_group: str = Field(
        description="adult, minor or unsure; minor and unsure cases store no media at all."
    )
    keep_originals: bool
    keep_evidence: bool
    authorised_on: date | None
    created_at: datetime
    updated_at: datetime
    progress: ProgressOut


class CasePage(PageMeta):
    results: list[CaseOut]


def _progress(progress: CaseProgress) -> dict[str, object]:
    return {
        "total": progress.total,
        "done": progress.done,
        "pending": progress.pending,
        "matched": progress.matched,
        "no_match": progress.no_match,
        "failed": progress.failed,
        "whitelisted": progress.whitelisted,
        "percent": progress.percent,
        "finished": progress.finished,
    }


def case_out(case: Case, progress: CaseProgress | None = None) -> dict[str, object]:
    progress = progress or case_selectors.case_progress(case=case)
    return {
        "id": case.pk,
        "alias": case.alias,
        "jurisdiction": case.jurisdiction,
        "language": case.language,
        "status": case.status,
        "kind": case.kind,
        "age_group": case.age_group,
        "keep_originals": case.keep_originals,
        "keep_evidence": case.keep_evidence,
        "authorised_on": case.authorised_on,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "progress": _progress(progress),
    }


def get_case(request: HttpRequest, case_id: int) -> Case:
    """The case if the caller may see it, else 404 — another organisation's case looks like none at all."""
    return case_selectors.case_get_for(user=context(request).user, case_id=case_id)


CaseId = Path(..., ge=1, le=MAX_ID, description="The case's id.")


# ---- list and create ---------------------------------------------------------------------------


@router.get("cases/", response={200: CasePage, **ERRORS}, url_name="cases", summary="List cases")
def case_list(request: HttpRequest, page: int = Query(1, ge=1, le=MAX_ID)) -> dict[str, object]:
    """The cases the caller may see, newest first, 100 a page."""
    api = context(request)
    qs = case_selectors.case_list_for(user=api.user).order_by("-created_at", "-id")
    current, meta = paginate(request, qs, page=page, per_page=CASES_PER_PAGE)
    cases = list(current.object_list)
    progress = case_selectors.case_progress_many(case_ids=[c.pk for c in cases])
    audit(api, "api.case.list", page=meta["page"], case_ids=[c.pk for c in cases])
    return {**meta, "results": [case_out(c, progress[c.pk]) for c in cases]}


class CaseCreateForm(forms.Form):
    alias = forms.CharField(max_length=100)
    jurisdiction = forms.ChoiceField(choices=Jurisdiction.choices)
    language = forms.ChoiceField(choices=settings.LANGUAGES, required=False)
    age_group = forms.ChoiceField(choices=AgeGroup.choices, required=False)


class CaseIn(Body):
    alias: StrictStr = Field(description="A name that does not identify the person (at most 100 characters).")
    jurisdiction: StrictStr = Field(json_schema_extra={"enum": list(Jurisdiction.values)})
    language: StrictStr | None = Field(
        None, json_schema_extra={"enum": [code for code, _name in settings.LANGUAGES]}
    )
    age_group: StrictStr | None = Field(
        None,
        json_schema_extra={"enum": list(AgeGroup.values)},
        description="The person's age when the images were made; adult if not given. A minor's (or "
        "unsure) case stores no media.",
    )


def _form_errors(form: forms.Form) -> ApiError:
    return ApiError(
        400,
        "invalid",
        _("Some fields need fixing."),
        fields={name: [str(m) for m in messages] for name, messages in form.errors.items()},
    )


@router.post("cases/", response={201: CaseOut, **ERRORS}, url_name="cases", summary="Open a case")
def case_create(request: HttpRequest, response: HttpResponse, payload: CaseIn) -> Status[Any]:
    api = context(request)
    form = CaseCreateForm(payload.model_dump(exclude_none=True))
    if not form.is_valid():
        raise _form_errors(form)
    case = case_services.case_create(
        organization=api.membership.organization,
        actor=api.user,
        alias=form.cleaned_data["alias"],
        jurisdiction=form.cleaned_data["jurisdiction"],
        language=form.cleaned_data["language"] or "en",
        age_group=form.cleaned_data["age_group"] or AgeGroup.ADULT,
    )
    audit(api, "api.case.create", case)
    response["Location"] = request.build_absolute_uri(reverse("api:case_detail", args=[case.pk]))
    return Status(201, case_out(case))


# ---- one case ----------------------------------------------------------------------------------


@router.get(
    "cases/{int:case_id}/", response={200: CaseOut, **ERRORS}, url_name="case_detail", summary="Read a case"
)
def case_detail(request: HttpRequest, case_id: int = CaseId) -> dict[str, object]:
    case = get_case(request, case_id)
    audit(context(request), "api.case.view", case)
    return case_out(case)


class CaseUpdateForm(forms.Form):
    alias = forms.CharField(max_length=100, required=False)
    jurisdiction = forms.ChoiceField(choices=Jurisdiction.choices, required=False)
    language = forms.ChoiceField(choices=settings.LANGUAGES, required=False)
    authorisation_method = forms.CharField(max_length=200, required=False)


class CaseUpdateIn(Body):
    alias: StrictStr | None = None
    jurisdiction: StrictStr | None = Field(None, json_schema_extra={"enum": list(Jurisdiction.values)})
    language: StrictStr | None = Field(
        None, json_schema_extra={"enum": [code for code, _name in settings.LANGUAGES]}
    )
    keep_originals: StrictBool | None = None
    keep_evidence: StrictBool | None = None
    authorised_on: date | None = None
    authorisation_method: StrictStr | None = None
    age_group: StrictStr | None = Field(
        None,
        json_schema_extra={"enum": list(AgeGroup.values)},
        description="Organisation admins only; becoming a minor's case deletes its stored media at once.",
    )


@router.patch(
    "cases/{int:case_id}/", response={200: CaseOut, **ERRORS}, url_name="case_detail", summary="Change a case"
)
def case_update(request: HttpRequest, payload: CaseUpdateIn, case_id: int = CaseId) -> dict[str, object]:
    """Only the fields sent are changed. Real name and contact details are edited in the web only."""
    case = get_case(request, case_id)
    sent = payload.model_dump(exclude_unset=True)
    if any(value is None for value in sent.values()):
        nulls = [name for name, value in sent.items() if value is None]
        raise ApiError(
            400, "invalid", _("Some fields need fixing."), fields={n: [_("Must not be null.")] for n in nulls}
        )
    age_group = sent.pop("age_group", None)
    if age_group is not None and age_group not in AgeGroup.values:
        message = _("Not one of the allowed values: %(values)s.") % {"values": ", ".join(AgeGroup.values)}
        raise ApiError(400, "invalid", message, fields={"age_group": [message]})
    if (
        age_group is not None
        and age_group != case.age_group
        and context(request).membership.role != Role.ADMIN
    ):
        raise ApiError(403, "forbidden", _("Only an administrator of your organisation can change this."))
    texts = {k: v for k, v in sent.items() if k in CaseUpdateForm.base_fields}
    form = CaseUpdateForm(texts)
    if not form.is_valid():
        raise _form_errors(form)
    if "alias" in texts and not form.cleaned_data["alias"]:
        raise ApiError(
            400, "invalid", _("Some fields need fixing."), fields={"alias": [_("This field is required.")]}
        )
    changes = {
        **{k: form.cleaned_data[k] for k in texts},
        **{k: v for k, v in sent.items() if k not in texts},
    }
    if age_group is not None:
        # First, so that becoming a minor's case drops the keep-media choices before they are applied.
        case_services.case_set_age_group(case=case, actor=context(request).user, age_group=age_group)
        changes["age_group"] = age_group
    case_services.case_update(
        case=case, actor=context(request).user, **{k: v for k, v in changes.items() if k != "age_group"}
    )
    audit(context(request), "api.case.update", case, fields=sorted(changes))
    return case_out(case)


class CaseStatusIn(Body):
    status: StrictStr = Field(json_schema_extra={"enum": list(CaseStatus.values)})


@router.post(
    "cases/{int:case_id}/status/", response={200: CaseOut, **ERRORS}, summary="Close or reopen a case"
)
def case_status(request: HttpRequest, payload: CaseStatusIn, case_id: int = CaseId) -> dict[str, object]:
    case = get_case(request, case_id)
    try:
        case_services.case_set_status(case=case, actor=context(request).user, status=payload.status)
    except case_services.CaseInputError as exc:
        raise ApiError(400, "invalid", str(exc), fields={"status": [str(exc)]}) from None
    audit(context(request), "api.case.status", case, status=case.status)
    return case_out(case)


class EraseIn(Body):
    confirm: StrictStr = Field(description="The case's alias, typed again: erasure cannot be undone.")


@router.post("cases/{int:case_id}/erase/", response={204: None, **ERRORS}, summary="Erase a case completely")
def case_erase(request: HttpRequest, payload: EraseIn, case_id: int = CaseId) -> Status[Any]:
    """Everything about the case is deleted; only the fact that an erasure happened is kept."""
    case = get_case(request, case_id)
    if not account_selectors.membership_may_erase_cases(membership=context(request).membership):
        message = _("In this organisation only admins erase cases.")
        raise ApiError(403, "forbidden", message)
    if payload.confirm.strip() != case.alias:
        message = _("That is not the case alias.")
        raise ApiError(400, "invalid", message, fields={"confirm": [message]})
    erased = case.pk
    case_services.case_erase(case=case, actor=context(request).user)
    # The case's own audit trail is gone with it; this event keeps no more than the erasure did.
    audit(context(request), "api.case.erase", None, erased_case=erased)
    return Status(204, None)


# ---- whitelist ---------------------------------------------------------------------------------


class WhitelistOut(Schema):
    values: list[str]


class WhitelistIn(Body):
    values: list[StrictStr] = Field(
        max_length=1000,
        description="Hosts (example.com, covering its subdomains) or address prefixes that belong to the person.",
    )


@router.get(
    "cases/{int:case_id}/whitelist/", response={200: WhitelistOut, **ERRORS}, summary="Read the whitelist"
)
def whitelist_get(request: HttpRequest, case_id: int = CaseId) -> dict[str, object]:
    case = get_case(request, case_id)
    audit(context(request), "api.case.whitelist_view", case)
    return {"values": list(case.whitelist.order_by("value").values_list("value", flat=True))}


@router.put(
    "cases/{int:case_id}/whitelist/", response={200: WhitelistOut, **ERRORS}, summary="Replace the whitelist"
)
def whitelist_put(request: HttpRequest, payload: WhitelistIn, case_id: int = CaseId) -> dict[str, object]:
    case = get_case(request, case_id)
    too_long = [v for v in payload.values if len(v.strip()) > 2000]
    if too_long:
        message = _("Too long (at most %(max)s characters).") % {"max": 2000}
        raise ApiError(400, "invalid", message, fields={"values": [message]})
    entries = case_services.whitelist_set(case=case, actor=context(request).user, values=payload.values)
    audit(context(request), "api.case.whitelist", case, count=len(entries))
    return {"values": sorted(e.value for e in entries)}
