"""The JSON API, version 1. Every case is reached through the cases selectors, so organisation
isolation and role rules are the web's: another organisation's case id is 404, as is a case a
caseworker may not see. Every call that touches a case writes an ``api.*`` audit event naming
the token used.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from app.accounts.services import audit_record
from app.api import selectors as api_selectors
from app.api.http import ApiContext, ApiError, endpoint, json_body, paginate
from app.cases import selectors as case_selectors
from app.cases import services as case_services
from app.cases.models import Case, Jurisdiction, UrlState
from app.cases.selectors import CaseProgress

CASES_PER_PAGE = 100
URLS_PER_PAGE = 100
MAX_URLS = 5000
MAX_URL_LENGTH = 4000
MAX_HASHES = 5000
PDQ_HEX = re.compile(r"[0-9a-f]{64}")


def _audit(api: ApiContext, action: str, case: Case | None = None, **detail: Any) -> None:
    audit_record(
        organization=api.membership.organization,
        actor=api.user,
        action=action,
        case_id=case.pk if case is not None else None,
        detail={"token": api.token.pk, **detail},
    )


def _progress_json(progress: CaseProgress) -> dict[str, Any]:
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


def _case_json(case: Case, progress: CaseProgress) -> dict[str, Any]:
    # Never the real name, contact details or authorisation letter: those stay in the web UI.
    return {
        "id": case.pk,
        "alias": case.alias,
        "jurisdiction": case.jurisdiction,
        "language": case.language,
        "status": case.status,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "progress": _progress_json(progress),
    }


def _field_errors(payload: dict[str, Any], text_fields: tuple[str, ...]) -> dict[str, list[str]]:
    """JSON types are checked here: a form would quietly turn 7 or true into text."""
    return {
        name: [_("Must be text.")]
        for name in text_fields
        if name in payload and payload[name] is not None and not isinstance(payload[name], str)
    }


# ---- cases -------------------------------------------------------------------------------------


class CaseCreateForm(forms.Form):
    alias = forms.CharField(max_length=100)
    jurisdiction = forms.ChoiceField(choices=Jurisdiction.choices)
    language = forms.ChoiceField(choices=settings.LANGUAGES, required=False)


CASE_FIELDS = ("alias", "jurisdiction", "language")


def case_list(request: HttpRequest, api: ApiContext) -> JsonResponse:
    qs = case_selectors.case_list_for(user=api.user).order_by("-created_at", "-id")
    page, meta = paginate(request, qs, per_page=CASES_PER_PAGE)
    cases = list(page.object_list)
    progress = case_selectors.case_progress_many(case_ids=[c.pk for c in cases])
    _audit(api, "api.case.list", page=meta["page"], case_ids=[c.pk for c in cases])
    return JsonResponse({**meta, "results": [_case_json(c, progress[c.pk]) for c in cases]})


def case_create(request: HttpRequest, api: ApiContext) -> JsonResponse:
    payload = json_body(request, allowed_keys=set(CASE_FIELDS))
    errors = _field_errors(payload, CASE_FIELDS)
    if errors:
        raise ApiError(400, "invalid", _("Some fields need fixing."), fields=errors)
    form = CaseCreateForm({name: payload[name] for name in CASE_FIELDS if payload.get(name) is not None})
    if not form.is_valid():
        raise ApiError(
            400,
            "invalid",
            _("Some fields need fixing."),
            fields={name: [str(m) for m in messages] for name, messages in form.errors.items()},
        )
    case = case_services.case_create(
        organization=api.membership.organization,
        actor=api.user,
        alias=form.cleaned_data["alias"],
        jurisdiction=form.cleaned_data["jurisdiction"],
        language=form.cleaned_data["language"] or "en",
    )
    _audit(api, "api.case.create", case)
    response = JsonResponse(_case_json(case, case_selectors.case_progress(case=case)), status=201)
    response["Location"] = request.build_absolute_uri(reverse("api:case_detail", args=[case.pk]))
    return response


def case_detail(request: HttpRequest, api: ApiContext, case_id: int) -> JsonResponse:
    case = case_selectors.case_get_for(user=api.user, case_id=case_id)
    _audit(api, "api.case.view", case)
    return JsonResponse(_case_json(case, case_selectors.case_progress(case=case)))


# ---- reported URLs -----------------------------------------------------------------------------


def _url_json(row: api_selectors.UrlRow) -> dict[str, Any]:
    u = row.reported
    return {
        "id": u.pk,
        "url": u.url,
        "normalized_url": u.normalized_url,
        "host": u.host,
        "state": u.state,
        "error": u.error,
        "created_at": u.created_at,
        "last_scanned_at": u.last_scanned_at,
        "matches": row.matches,
        "last_fetch": (
            None
            if row.last_fetch is None
            else {k: v for k, v in row.last_fetch.items() if k != "reported_url_id"}
        ),
    }


def case_url_list(request: HttpRequest, api: ApiContext, case_id: int) -> JsonResponse:
    case = case_selectors.case_get_for(user=api.user, case_id=case_id)
    state = request.GET.get("state") or None
    if state is not None and state not in UrlState.values:
        raise ApiError(
            400,
            "invalid",
            _("Unknown state. Use one of: %(states)s.") % {"states": ", ".join(UrlState.values)},
            fields={"state": [_("Not a valid state.")]},
        )
    page, meta = paginate(
        request, case_selectors.reported_url_list(case=case, state=state), per_page=URLS_PER_PAGE
    )
    rows = api_selectors.reported_url_rows(urls=list(page.object_list))
    _audit(api, "api.case.urls", case, page=meta["page"], state=state or "")
    return JsonResponse({**meta, "results": [_url_json(r) for r in rows]})


def _list_of_text(payload: dict[str, Any], key: str, *, limit: int, empty_message: str) -> list[str]:
    values = payload.get(key)
    if not isinstance(values, list):
        raise ApiError(
            400, "invalid", _("Some fields need fixing."), fields={key: [_("Must be a list of text.")]}
        )
    if not values:
        raise ApiError(400, "invalid", empty_message, fields={key: [empty_message]})
    if len(values) > limit:
        message = _("At most %(max)d at a time; you sent %(n)d.") % {"max": limit, "n": len(values)}
        raise ApiError(400, "too_many", message, fields={key: [message]})
    if not all(isinstance(v, str) for v in values):
        raise ApiError(
            400, "invalid", _("Some fields need fixing."), fields={key: [_("Every item must be text.")]}
        )
    return values


def case_urls_add(request: HttpRequest, api: ApiContext, case_id: int) -> JsonResponse:
    case = case_selectors.case_get_for(user=api.user, case_id=case_id)
    payload = json_body(request, allowed_keys={"urls"})
    urls = _list_of_text(payload, "urls", limit=MAX_URLS, empty_message=_("Give at least one web address."))
    not_checkable = _("Not a web address we can check.")
    invalid = [
        {"url": u[:200], "reason": not_checkable, "detail": "too long"}
        for u in urls
        if len(u) > MAX_URL_LENGTH
    ]
    result = case_services.reported_urls_add(
        case=case, actor=api.user, urls=[u for u in urls if len(u) <= MAX_URL_LENGTH]
    )
    invalid += [{"url": raw, "reason": not_checkable, "detail": detail} for raw, detail in result.invalid]
    _audit(
        api,
        "api.case.urls_add",
        case,
        added=len(result.added),
        duplicates=result.duplicates,
        invalid=len(invalid),
    )
    return JsonResponse(
        {
            "added": [
                {"id": u.pk, "url": u.url, "normalized_url": u.normalized_url, "state": u.state}
                for u in result.added
            ],
            "duplicates": result.duplicates,
            "invalid": invalid,
        }
    )


# ---- references --------------------------------------------------------------------------------

NOT_A_PDQ_HASH = gettext_lazy("Not a PDQ hash: 64 hexadecimal characters expected.")


def case_reference_hashes(request: HttpRequest, api: ApiContext, case_id: int) -> JsonResponse:
    case = case_selectors.case_get_for(user=api.user, case_id=case_id)
    payload = json_body(request, allowed_keys={"hashes"})
    hashes = _list_of_text(
        payload, "hashes", limit=MAX_HASHES, empty_message=_("Give at least one PDQ hash.")
    )
    valid: list[str] = []
    invalid = []
    for index, value in enumerate(hashes):
        cleaned = value.strip().lower()
        if PDQ_HEX.fullmatch(cleaned):
            valid.append(cleaned)
        else:
            invalid.append({"index": index, "value": value[:80], "reason": str(NOT_A_PDQ_HASH)})
    if not valid:
        raise ApiError(400, "invalid", str(NOT_A_PDQ_HASH), fields={"hashes": [str(NOT_A_PDQ_HASH)]})
    unique = list(dict.fromkeys(valid))
    created, _errors = case_services.reference_import_hashes(
        case=case, actor=api.user, text=json.dumps(unique)
    )
    _audit(api, "api.case.references_import", case, created=len(created), invalid=len(invalid))
    return JsonResponse(
        {
            "created": [{"id": r.pk, "pdq_hex": r.pdq_hex} for r in created],
            "already_present": len(unique) - len(created),
            "invalid": invalid,
        }
    )


cases = endpoint(get=case_list, post=case_create)
case = endpoint(get=case_detail)
case_urls = endpoint(get=case_url_list, post=case_urls_add)
case_references_hashes = endpoint(post=case_reference_hashes)
