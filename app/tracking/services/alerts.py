"""Alerts in the app and notification emails."""

from __future__ import annotations

import logging
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from app.cases.models import Case, ReportedUrl
from app.notices.models import Notice
from app.tracking.models import (
    Alert,
    AlertKind,
    Watch,
)
from app.tracking.services.base import _now

log = logging.getLogger(__name__)


# ---- alerts and notification emails ---------------------------------------------------------------

_EMAIL_TEXT = {
    AlertKind.REMOVED: gettext_noop("A link you reported has been removed."),
    AlertKind.REAPPEARED: gettext_noop("A link that had been removed is back online."),
    AlertKind.OVERDUE: gettext_noop(
        "A platform has not removed everything in time. Next steps are ready for your review."
    ),
    AlertKind.REUPLOAD: gettext_noop("A watched page shows a new copy. It was added to the case."),
}


def _alert(
    *,
    case: Case,
    kind: str,
    reported_url: ReportedUrl | None = None,
    notice: Notice | None = None,
    watch: Watch | None = None,
) -> Alert:
    alert = Alert.objects.create(
        organization_id=case.organization_id, case=case, kind=kind, reported_url=reported_url, notice=notice,
        watch=watch, created_at=_now(),
    )  # fmt: skip
    transaction.on_commit(partial(alert_notify, alert_id=alert.pk))
    return alert


def alert_notify(*, alert_id: int) -> int:
    """Email the case's assigned caseworkers. Neither subject nor body names the case or the person."""
    alert = Alert.objects.select_related("case").filter(pk=alert_id, emailed_at__isnull=True).first()
    if alert is None:
        return 0
    recipients = sorted({u.email for u in alert.case.assigned_to.filter(is_active=True) if u.email})
    if not recipients:
        return 0
    link = settings.SITE_URL.rstrip("/") + reverse("tracking_case", args=[alert.case_id])
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Jium: an update is waiting for you")
        body = "\n\n".join([_(_EMAIL_TEXT[AlertKind(alert.kind)]), _("Open Jium to see it:"), link])
    try:
        send_mail(subject, body + "\n", settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
    except Exception:  # a mail outage must not undo the check that caused the alert
        log.exception("notification email for alert %s failed", alert_id)
        return 0
    Alert.objects.filter(pk=alert.pk).update(emailed_at=_now())
    return len(recipients)


def alerts_mark_seen(*, case: Case, actor: User | None) -> int:
    return Alert.objects.filter(case=case, seen_at__isnull=True).update(seen_at=_now())
