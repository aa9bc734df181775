from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from app.accounts.models import Organization, Role
from app.cases.models import Case, CaseStatus
from app.cases.services import CASE_EDITABLE_FIELDS, LETTER_MAX_BYTES


class CaseForm(forms.ModelForm):
    real_name = forms.CharField(
        label=_("Real name (optional, stored encrypted)"), required=False, max_length=200
    )
    contact = forms.CharField(
        label=_("Contact details (stored encrypted)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    assigned_to = forms.ModelMultipleChoiceField(
        label=_("Caseworkers on this case"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    authorisation_letter_file = forms.FileField(
        label=_("Signed authorisation letter (optional, stored encrypted)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,image/*"}),
    )

    class Meta:
        model = Case
        fields = [
            "alias",
            "jurisdiction",
            "language",
            "real_name",
            "contact",
            "authorised_on",
            "authorisation_method",
            "keep_originals",
            "keep_evidence",
        ]
        widgets = {"authorised_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        help_texts = {
            "authorised_on": _("The day the person agreed that your organisation acts for them."),
            "authorisation_method": _("For example: signed letter, recorded phone call, email."),
            "keep_evidence": _(
                "Off: found images are fingerprinted but not stored; thumbnails cannot be shown."
            ),
        }

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = User.objects.filter(
            memberships__organization=organization,
            memberships__role__in=[Role.ADMIN, Role.CASEWORKER],
            is_active=True,
        ).order_by("username")
        self.fields["assigned_to"].queryset = staff  # type: ignore[attr-defined]
        self.fields["assigned_to"].label_from_instance = lambda u: u.get_full_name() or u.username  # type: ignore[attr-defined]
        if self.instance.pk:
            self.fields["real_name"].initial = self.instance.real_name
            self.fields["contact"].initial = self.instance.contact
            self.fields["assigned_to"].initial = list(self.instance.assigned_to.values_list("pk", flat=True))

    def clean_authorisation_letter_file(self) -> Any:
        upload = self.cleaned_data.get("authorisation_letter_file")
        if upload and upload.size > LETTER_MAX_BYTES:
            raise forms.ValidationError(_("The file is too large."))
        return upload

    def case_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in CASE_EDITABLE_FIELDS}


class WhitelistForm(forms.Form):
    values = forms.CharField(
        label=_("Addresses and accounts that belong to the person, one per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_(
            "Links under these are never reported. Examples: instagram.com/their.account, theirblog.example"
        ),
    )

    def clean_values(self) -> list[str]:
        lines = [line.strip() for line in (self.cleaned_data.get("values") or "").splitlines()]
        lines = [line for line in lines if line]
        if len(lines) > 500:
            raise forms.ValidationError(_("At most %(max)d entries.") % {"max": 500})
        if any(len(line) > 2000 for line in lines):
            raise forms.ValidationError(_("One of the entries is too long."))
        return lines


class VictimAccountForm(forms.Form):
    username = forms.CharField(
        label=_("Username for the person"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("They can log in to follow their own case, and see nothing else."),
    )


class CaseStatusForm(forms.Form):
    status = forms.ChoiceField(choices=CaseStatus.choices)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,.heic,.heif,.avif"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class ReferenceUploadForm(forms.Form):
    images = MultipleFileField(label=_("Images"))


class HashImportForm(forms.Form):
    hashes_file = forms.FileField(label=_("File with PDQ hashes (CSV or JSON)"), required=False)
    hashes_text = forms.CharField(
        label=_("Or paste PDQ hashes (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("hashes_file")
        text = cleaned.get("hashes_text") or ""
        if upload:
            if upload.size > 2 * 1024 * 1024:
                raise forms.ValidationError(_("The file is too large."))
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(_("The file must be UTF-8 text (CSV or JSON).")) from None
        if not text.strip():
            raise forms.ValidationError(_("Choose a file or paste hashes."))
        cleaned["text"] = text
        return cleaned


MAX_URLS_PER_REPORT = 5000


class UrlReportForm(forms.Form):
    urls = forms.CharField(
        label=_("Web addresses, one per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "autocomplete": "off"}),
    )
    csv_file = forms.FileField(label=_("Or import a CSV file"), required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        lines = (cleaned.get("urls") or "").splitlines()
        upload = cleaned.get("csv_file")
        if upload:
            if upload.size > 5 * 1024 * 1024:
                raise forms.ValidationError(_("The file is too large."))
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(_("The file must be UTF-8 text.")) from None
            for row in csv.reader(io.StringIO(text)):
                lines.extend(cell for cell in row if "." in cell and " " not in cell.strip())
        lines = [line.strip() for line in lines if line.strip()]
        if not lines:
            raise forms.ValidationError(_("Paste at least one web address."))
        if len(lines) > MAX_URLS_PER_REPORT:
            raise forms.ValidationError(
                _("At most %(max)d addresses at a time.") % {"max": MAX_URLS_PER_REPORT}
            )
        cleaned["lines"] = lines
        return cleaned


class EraseForm(forms.Form):
    confirm = forms.CharField(label=_("Type the case alias to confirm"))

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != self.case.alias:
            raise forms.ValidationError(_("That is not the case alias."))
        return value
