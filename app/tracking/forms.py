from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from app.tracking.models import NoticeStatus, ReplyKind
from app.tracking.services import MANUAL_STATUSES


class ReplyForm(forms.Form):
    kind = forms.ChoiceField(label=_("What did they say?"), choices=ReplyKind.choices)
    text = forms.CharField(
        label=_("Their reply (paste the email or message)"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=50_000,
    )
    received_at = forms.DateTimeField(
        label=_("When it arrived (leave empty for now)"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )  # fmt: skip


class NoticeStatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Mark this request as"),
        choices=[(s.value, s.label) for s in NoticeStatus if s in MANUAL_STATUSES],
    )
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=300)


class WatchForm(forms.Form):
    url = forms.CharField(label=_("Page to watch"), max_length=4000, widget=forms.URLInput)
    interval_hours = forms.IntegerField(
        label=_("Check every (hours)"), min_value=1, max_value=24 * 30, initial=24
    )


class EscalationDecisionForm(forms.Form):
    state = forms.ChoiceField(choices=[("done", _("I sent it")), ("dismissed", _("Not needed"))])


class DeadlineForm(forms.Form):
    """One optional number of hours per regime; empty means the default."""

    def __init__(self, *args, regimes: list[tuple[str, str, int]], **kwargs):
        super().__init__(*args, **kwargs)
        for code, label, default in regimes:
            self.fields[code] = forms.IntegerField(
                label=label, required=False, min_value=1, max_value=24 * 365,
                help_text=_("Default: %(hours)s hours") % {"hours": default},
            )  # fmt: skip
