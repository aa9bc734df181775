from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from app.notices.models import RegimeCode, SubmissionChannel

LANG_CHOICES = [("ko", "한국어"), ("en", "English")]


class DraftForm(forms.Form):
    regime = forms.ChoiceField(
        label=_("Legal basis"),
        choices=[("auto", _("Choose for each platform")), *RegimeCode.choices],
        initial="auto",
    )
    lang = forms.ChoiceField(label=_("Language when the platform's is not known"), choices=LANG_CHOICES)


class EditForm(forms.Form):
    statement = forms.CharField(
        label=_("Additional information for the platform (optional)"), required=False,
        widget=forms.Textarea(attrs={"rows": 4}), max_length=5000,
    )  # fmt: skip
    regime = forms.ChoiceField(label=_("Legal basis"), choices=RegimeCode.choices)
    lang = forms.ChoiceField(label=_("Language of the notice"), choices=LANG_CHOICES)
    channel_address = forms.EmailField(
        label=_("Send to (email address)"), required=False,
        help_text=_("The site's abuse or legal contact, if you found a better one."),
    )  # fmt: skip
    contact_email = forms.EmailField(
        label=_("Address for the platform's reply"), required=False,
        help_text=_("Leave empty to use your organisation's reply address."),
    )  # fmt: skip
    use_person_contact = forms.BooleanField(
        label=_("Use the person's own email address instead (the platform will see it)"), required=False,
    )  # fmt: skip

    def __init__(self, *args: Any, by_email: bool = True, person_email: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not by_email:
            del self.fields["channel_address"]
        if person_email:
            self.fields["use_person_contact"].help_text = _(
                "Only if the person asked for it: %(email)s will be in the notice."
            ) % {"email": person_email}
        else:
            del self.fields["use_person_contact"]


class SignForm(forms.Form):
    signer_name = forms.CharField(label=_("Your full name (typed signature)"), max_length=200)
    signer_role = forms.CharField(label=_("Your role"), max_length=200, required=False)
    authorised_on = forms.DateField(label=_("Date the person authorised you to act for them"), required=False)
    authorisation_method = forms.CharField(label=_("How they authorised you"), max_length=200, required=False)
    confirm = forms.BooleanField(label=_("I have read this notice and confirm it is accurate."))


class NameChoiceForm(forms.Form):
    notice_name = forms.ChoiceField(
        label=_("The person's name in this case's notices"),
        choices=[
            ("", _("Only where the law requires it (recommended)")),
            ("include", _("Always include it")),
            ("omit", _("Never include it")),
        ],
        required=False,
    )


class SubmittedForm(forms.Form):
    """A notice submitted by hand; the date and time are read in the reader's time zone."""

    submitted_on = forms.DateTimeField(
        label=_("Submitted on (date and time)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for now."),
    )
    channel = forms.ChoiceField(
        label=_("How it was submitted"), choices=[("", "—"), *SubmissionChannel.choices], required=False
    )
    reference = forms.CharField(
        label=_("The platform's reference number (if any)"), required=False, max_length=200
    )
