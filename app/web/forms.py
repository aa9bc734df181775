from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from app.accounts.models import Organization, Role
from app.cases.models import AgeGroup, Case, CaseStatus
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
    # Asked once, at intake; afterwards only an admin changes it (CaseAgeForm).
    age_group = forms.ChoiceField(
        label=_("How old was the person when the images were made?"),
        choices=AgeGroup.choices,
        widget=forms.RadioSelect,
        help_text=_(
            'If you are not sure, choose "Not sure": the case is then handled as a young person\'s case, '
            "and Jium keeps no images at all."
        ),
    )
    guardian_name = forms.CharField(
        label=_("Legal guardian's name (stored encrypted)"), required=False, max_length=200
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
            "under_14",
            "guardian_relation",
            "guardian_consent_on",
            "minor_name_in_notices",
        ]
        widgets = {
            "authorised_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "guardian_consent_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {
            "authorised_on": _("The day the person agreed that your organisation acts for them."),
            "authorisation_method": _("For example: signed letter, recorded phone call, email."),
            "keep_evidence": _(
                "Off: found images are fingerprinted but not stored; thumbnails cannot be shown."
            ),
            "under_14": _("Under 14, a legal guardian gives consent for the person (Korean privacy law)."),
            "minor_name_in_notices": _(
                'Off: requests say "a young person" and never give a name. Turn on only if the platform cannot act without it.'
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
            self.fields["guardian_name"].initial = self.instance.guardian_name
            self.fields["assigned_to"].initial = list(self.instance.assigned_to.values_list("pk", flat=True))
            del self.fields["age_group"]
            if self.instance.is_minor:
                # Nothing can be kept in a minor's case: the choice is not offered at all.
                del self.fields["keep_originals"]
                del self.fields["keep_evidence"]
            else:
                for name in MINOR_FORM_FIELDS:
                    del self.fields[name]

    @property
    def is_minor_case(self) -> bool:
        return bool(self.instance.pk and self.instance.is_minor)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        age = cleaned.get("age_group") or (self.instance.age_group if self.instance.pk else None)
        if (
            age
            and age != AgeGroup.ADULT
            and cleaned.get("under_14")
            and not (cleaned.get("guardian_name") or "").strip()
        ):
            self.add_error(
                "guardian_name", _("Under 14, the legal guardian's name is needed for the consent record.")
            )
        return cleaned

    def clean_authorisation_letter_file(self) -> Any:
        upload = self.cleaned_data.get("authorisation_letter_file")
        if upload and upload.size > LETTER_MAX_BYTES:
            raise forms.ValidationError(_("The file is too large."))
        return upload

    def case_fields(self) -> dict[str, Any]:
        fields = {name: self.cleaned_data[name] for name in CASE_EDITABLE_FIELDS if name in self.cleaned_data}
        if "age_group" in self.cleaned_data:
            fields["age_group"] = self.cleaned_data["age_group"]
        return fields


MINOR_FORM_FIELDS = (
    "under_14",
    "guardian_name",
    "guardian_relation",
    "guardian_consent_on",
    "minor_name_in_notices",
)


class CaseAgeForm(forms.Form):
    """An admin's change of the age recorded at intake."""

    age_group = forms.ChoiceField(
        label=_("How old was the person when the images were made?"),
        choices=AgeGroup.choices,
        widget=forms.RadioSelect,
    )
    confirm = forms.BooleanField(
        label=_("I understand: for a young person's case, every stored image and copy is deleted now."),
        required=False,
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        age = cleaned.get("age_group")
        if age and age != AgeGroup.ADULT and not self.case.is_minor and not cleaned.get("confirm"):
            self.add_error("confirm", _("Please confirm: stored images of this case will be deleted."))
        return cleaned


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
    # Videos too: a reference video is matched whole (vPDQ, a frame a second) and by its best frame.
    images = MultipleFileField(
        label=_("Images"),
        widget=MultipleFileInput(
            attrs={"accept": "image/*,.heic,.heif,.avif,video/mp4,video/webm,video/quicktime"}
        ),
    )


class HashImportForm(forms.Form):
    hashes_file = forms.FileField(
        label=_("Fingerprint file from the fingerprint page, or PDQ hashes (CSV or JSON)"), required=False
    )
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
            # Fingerprint files from the /fingerprint/ page carry shape features: up to 16 MB.
            if upload.size > 16 * 1024 * 1024:
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


class FaceConsentForm(forms.Form):
    """Who agreed to the face stage, when and how (the face stage's consent record)."""

    consenter = forms.ChoiceField(
        label=_("Who gave consent"),
        choices=[
            ("person", _("The person themself")),
            ("guardian", _("Their legal guardian (required for children under 14 in Korea)")),
        ],
        initial="person",
        widget=forms.RadioSelect,
    )
    guardian_name = forms.CharField(label=_("Guardian's name"), max_length=200, required=False)
    guardian_relationship = forms.CharField(
        label=_("Relationship to the person"), max_length=100, required=False
    )
    method = forms.CharField(
        label=_("How consent was given"),
        max_length=200,
        help_text=_("For example: signed form, in person, video call, by email."),
    )
    consented_on = forms.DateField(label=_("Date of consent"), widget=forms.DateInput(attrs={"type": "date"}))
    explained = forms.BooleanField(
        label=_("I explained what the face search does and its limits, and the person agreed."),
        required=True,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("consenter") == "guardian" and not (data.get("guardian_name") or "").strip():
            self.add_error("guardian_name", _("Give the legal guardian's name."))
        return data


class FacePhotosForm(forms.Form):
    photos = MultipleFileField(label=_("Photos of the person's face"))


class HotlineReportForm(forms.Form):
    """The caseworker's record of reporting a minor's case to one hotline."""

    hotline = forms.IntegerField(widget=forms.HiddenInput)
    reported_at = forms.DateTimeField(
        label=_("Reported on"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    reference = forms.CharField(label=_("Their report number (optional)"), required=False, max_length=200)
