"""A partner's hash list imported for the whole organisation, from the web (staff).

The same service as ``POST /api/v1/hashes/``: the list becomes a case of its own, named after it
(see app/cases/services/hashlists.py for why), and the caseworker lands on that case.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from app.cases.models import AgeGroup
from app.cases.services import CaseInputError
from app.cases.services.hashlists import hash_list_parse_any, organization_hash_list_import
from app.web.decorators import staff_required

# A partner's list can be long: the same 16 MB as a fingerprint file.
MAX_LIST_BYTES = 16 * 1024 * 1024


class HashListImportForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name of the list"),
        max_length=100,
        help_text=gettext_lazy("For example the partner and the date. The list's case is called this."),
    )
    list_file = forms.FileField(label=gettext_lazy("The list as a file"), required=False)
    list_text = forms.CharField(
        label=gettext_lazy("Or paste the list"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    young_people = forms.BooleanField(
        label=gettext_lazy("These are images of young people (under 18)"),
        required=False,
        help_text=gettext_lazy("Then the list is never shared with partners that are only for adults."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("list_file")
        text = cleaned.get("list_text") or ""
        if upload:
            if upload.size > MAX_LIST_BYTES:
                raise forms.ValidationError(_("The file is too large."))
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(_("The file must be UTF-8 text (CSV or JSON).")) from None
        if not text.strip():
            raise forms.ValidationError(_("Choose a file or paste hashes."))
        cleaned["text"] = text.replace("\x00", "")
        return cleaned


@staff_required
def hashlist_import(request: HttpRequest) -> HttpResponse:
    form = HashListImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            parsed = hash_list_parse_any(form.cleaned_data["text"])
            case, result = organization_hash_list_import(
                organization=request.membership.organization,  # type: ignore[attr-defined]
                actor=cast(User, request.user),
                name=form.cleaned_data["name"].replace("\x00", "").strip(),
                parsed=parsed,
                age_group=AgeGroup.MINOR if form.cleaned_data["young_people"] else AgeGroup.ADULT,
            )
        except CaseInputError as exc:
            form.add_error(None, str(exc))
        else:
            n = len(result.created)
            messages.success(
                request,
                ngettext(
                    "%(n)d hash imported into this case, which holds the list.",
                    "%(n)d hashes imported into this case, which holds the list.",
                    n,
                )
                % {"n": n},
            )
            if result.skipped:
                n = len(result.skipped)
                messages.warning(
                    request,
                    ngettext(
                        "%(n)d entry was not a PDQ hash and was skipped.",
                        "%(n)d entries were not PDQ hashes and were skipped.",
                        n,
                    )
                    % {"n": n},
                )
            return redirect("case_detail", case_id=case.pk)
    return render(request, "cases/hashlist_import.html", {"form": form})
