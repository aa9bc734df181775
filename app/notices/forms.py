from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from app.notices.models import RegimeCode

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

    def __init__(self, *args: Any, by_email: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not by_email:
            del self.fields["channel_address"]


class SignForm(forms.Form):
    signer_name = forms.CharField(label=_("Your full name (typed signature)"), max_length=200)
    signer_role = forms.CharField(label=_("Your role"), max_length=200, required=False)
    authorised_on = forms.DateField(label=_("Date the person authorised you to act for them"), required=False)
    authorisation_method = forms.CharField(label=_("How they authorised you"), max_length=200, required=False)
    confirm = forms.BooleanField(label=_("I have read this notice and confirm it is accurate."))


class SubmittedForm(forms.Form):
    submitted_on = forms.DateTimeField(label=_("Submitted on"), required=False)
