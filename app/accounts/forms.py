from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from app.accounts.models import Organization, Role, time_zone_for_country

STAFF_ROLES = [(Role.ADMIN.value, Role.ADMIN.label), (Role.CASEWORKER.value, Role.CASEWORKER.label)]


class MemberAddForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150, validators=[UnicodeUsernameValidator()])
    email = forms.EmailField(label=_("Email (optional)"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=STAFF_ROLES, initial=Role.CASEWORKER)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("That username is taken. Please choose another."))
        return username


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=STAFF_ROLES)


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones()) if "/" in name or name == "UTC"]


class OrganizationSettingsForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=_time_zone_choices,
        help_text=_(
            "Everyone in the organisation sees times and deadlines in this zone, whatever their language."
        ),
    )

    class Meta:
        model = Organization
        fields = [
            "name",
            "caseworkers_see_assigned_only",
            "require_two_factor",
            "caseworkers_may_erase",
            "caseworkers_may_create_victim_accounts",
            "notice_sender_name",
            "notice_sender_email",
            "country",
            "time_zone",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # A new country brings its zone along unless the admin picked a zone in the same save.
        if "country" in self.changed_data and "time_zone" not in self.changed_data and data.get("country"):
            data["time_zone"] = time_zone_for_country(data["country"])
        return data


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("6-digit code from your authenticator app"),
        max_length=8,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autofocus": True,
                "pattern": "[0-9 ]*",
            }
        ),
    )

    def clean_token(self) -> str:
        return self.cleaned_data["token"].replace(" ", "")
