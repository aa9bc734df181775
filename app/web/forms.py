from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from app.cases.models import Case


class CaseForm(forms.ModelForm):
    real_name = forms.CharField(label=_("Real name (optional, stored encrypted)"), required=False, max_length=200)
    contact = forms.CharField(
        label=_("Contact details (stored encrypted)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
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
        widgets = {"authorised_on": forms.DateInput(attrs={"type": "date"})}


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
        label=_("Or paste PDQ hashes (one per line)"), required=False, widget=forms.Textarea(attrs={"rows": 3})
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
