"""Each audit event as a short sentence in the reader's language, for the history pages.

The log itself keeps stable action codes ("notice.send"): they are what the API, exports and tests
rely on. Only the pages turn them into words. An action nobody wrote a sentence for still reads as
a sentence, with its code, rather than disappearing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from app.accounts.models import AuditEvent

# Sentences without a number. "%(id)s" is the request (notice) number where there is one.
PLAIN = {
    "case.create": _("Opened this case."),
    "case.view": _("Looked at the case."),
    "case.update": _("Changed the case details."),
    "case.status": _("Changed the case status."),
    "case.assign": _("Changed who works on the case."),
    "case.age_group": _("Changed the person's age group."),
    "case.whitelist": _("Changed the list of the person's own links."),
    "case.whitelist_view": _("Looked at the list of the person's own links."),
    "case.victim_account": _("Set up the person's own account."),
    "case.letter_view": _("Looked at the signed authorisation letter."),
    "case.letter_upload": _("Added the signed authorisation letter."),
    "case.letter_remove": _("Removed the signed authorisation letter."),
    "case.erase": _("Erased a case completely."),
    "case.erase_request": _("Asked an admin to erase the case."),
    "case.list": _("Looked at the list of cases."),
    "case.urls": _("Looked at the links of the case."),
    "case.references": _("Looked at the list of image fingerprints."),
    "case.references_export": _("Exported the image fingerprints."),
    "reference.delete": _("Deleted an image fingerprint."),
    "fingerprint_intake.create": _(
        "Created a single-use link for the person to make fingerprints on their device."
    ),
    "evidence.list": _("Looked at the matches."),
    "evidence.view": _("Looked at the evidence for a link."),
    "evidence.reveal": _("Revealed a blurred image."),
    "evidence.view_full": _("Looked at a revealed image."),
    "case.identity_view": _("Looked at the person's name and contact details."),
    "notice.identity_view": _("Looked at the person's real name in the submit helper of request no. %(id)s."),
    "evidence.pdf": _("Downloaded the evidence package (PDF)."),
    "evidence.zip": _("Downloaded the evidence package (ZIP)."),
    "evidence.json": _("Downloaded the evidence package (JSON)."),
    "notice.list": _("Looked at the list of requests."),
    "notice.view": _("Looked at request no. %(id)s."),
    "notice.edit": _("Edited request no. %(id)s."),
    "notice.sign": _("Signed request no. %(id)s."),
    "notice.send": _("Sent request no. %(id)s by email."),
    "notice.send_failed": _("Tried to send request no. %(id)s, but it could not be sent."),
    "notice.submitted": _("Recorded request no. %(id)s as submitted by hand."),
    "notice.download": _("Downloaded request no. %(id)s."),
    "tracking.start": _("Started following up request no. %(id)s."),
    "tracking.view": _("Looked at what happened after the requests."),
    "tracking.notice_status": _("Changed the status of request no. %(id)s."),
    "tracking.deadline": _("Changed the deadline of request no. %(id)s."),
    "tracking.reply": _("Recorded a reply from the platform to request no. %(id)s."),
    "tracking.url_removed": _("Recorded a link as removed."),
    "tracking.url_flag_clear": _("Cleared the “back online” mark of a link."),
    "tracking.watch_add": _("Started watching a page for new copies."),
    "tracking.watch_remove": _("Stopped watching a page."),
    "tracking.escalate": _("Drafted next steps for overdue request no. %(id)s."),
    "tracking.escalation_view": _("Looked at a next-step draft."),
    "tracking.escalation_done": _("Marked a next step as done."),
    "tracking.escalation_dismissed": _("Decided not to take a next step."),
    "tracking.escalation_decide": _("Decided on a next step."),
    "tracking.evidence_download": _("Downloaded the follow-up record of request no. %(id)s."),
    "tracking.stats_export": _("Downloaded the statistics."),
    "statistics": _("Looked at the statistics."),
    "job.view": _("Checked on work in progress."),
    "run_job": _("Started work in the background."),
    "member.create": _("Added a team member."),
    "member.role": _("Changed a team member's role."),
    "member.remove": _("Removed a team member."),
    "member.2fa_reset": _("Reset a team member's two-step login."),
    "member.2fa_enrol": _("Turned on two-step login."),
    "member.2fa_disable": _("Turned off two-step login."),
    "org.settings": _("Changed the organisation's settings."),
    "platform.update": _("Changed a platform's details."),
    "platform.channels": _("Changed how a platform is contacted."),
    "token.create": _("Created an API key."),
    "token.revoke": _("Revoked an API key."),
    "webhook.create": _("Added a webhook."),
    "webhook.update": _("Changed a webhook's settings."),
    "webhook.delete": _("Removed a webhook."),
    "webhook.rotate": _("Replaced a webhook's signing secret."),
    "webhook.ping": _("Sent a test message to a webhook."),
    "webhook.view": _("Looked at a webhook's delivery log."),
    "webhook.list": _("Looked at the list of webhooks."),
    "faces.consent": _("Recorded consent to search by face."),
    "faces.withdraw": _("Recorded that consent to search by face was withdrawn."),
    "faces.view": _("Looked at possible face matches."),
    "faces.reveal": _("Revealed a blurred face."),
    "faces.remove": _("Removed a face from the search."),
    "faces.confirm": _("Confirmed a possible deepfake."),
}

# Sentences with a number of things: ngettext picks English's singular or plural.
COUNTED: dict[str, Callable[[int], str]] = {
    "case.urls_add": lambda n: ngettext(
        "Added %(count)d link to check.", "Added %(count)d links to check.", n
    ),
    "case.urls_requeue": lambda n: ngettext(
        "Asked to check %(count)d link again.", "Asked to check %(count)d links again.", n
    ),
    "reference.add": lambda n: ngettext(
        "Added %(count)d image fingerprint.", "Added %(count)d image fingerprints.", n
    ),
    "reference.import": lambda n: ngettext(
        "Imported %(count)d fingerprint made on the person's device.",
        "Imported %(count)d fingerprints made on the person's device.",
        n,
    ),
    "reference.import_device": lambda n: ngettext(
        "Imported %(count)d fingerprint made on the person's device.",
        "Imported %(count)d fingerprints made on the person's device.",
        n,
    ),
    "hashlist.import": lambda n: ngettext(
        "Imported %(count)d hash from a shared hash list.",
        "Imported %(count)d hashes from a shared hash list.",
        n,
    ),
    "notice.draft": lambda n: ngettext("Drafted %(count)d request.", "Drafted %(count)d requests.", n),
    "tracking.recheck_now": lambda n: ngettext(
        "Asked to check %(count)d link now.", "Asked to check %(count)d links now.", n
    ),
    "tracking.watch_found": lambda n: ngettext(
        "Found %(count)d new link on a watched page.", "Found %(count)d new links on a watched page.", n
    ),
    "faces.add": lambda n: ngettext("Added %(count)d face photo.", "Added %(count)d face photos.", n),
}

# API calls are logged as "api.<what>"; these read like their web twins.
API_ALIASES = {
    "case.references_upload": "reference.add",
    "case.references_import": "reference.import",
    "case.references_fingerprints": "reference.import_device",
    "case.hashlist_import": "hashlist.import",
    "hashes.import": "hashlist.import",
    "case.reference_delete": "reference.delete",
    "case.urls_retry": "case.urls_requeue",
    "notice.text": "notice.view",
    "url.evidence": "evidence.view",
    "statistics": "statistics",
    "webhook.deliveries": "webhook.view",
}


def _count(detail: Mapping[str, Any]) -> int:
    for key in ("count", "added"):
        value = detail.get(key)
        if isinstance(value, int):
            return value
    for key in ("notices", "drafts", "ids"):
        value = detail.get(key)
        if isinstance(value, list):
            return len(value)
    return 1


def _sentence(action: str, event: AuditEvent) -> str | None:
    detail = event.detail if isinstance(event.detail, Mapping) else {}
    if action in COUNTED:
        count = _count(detail)
        return COUNTED[action](count) % {"count": count}
    if action in PLAIN:
        text = str(PLAIN[action])
        if "%(id)s" in text:
            return text % {"id": event.object_id if event.object_id is not None else "?"}
        return text
    return None


def audit_sentence(event: AuditEvent) -> str:
    """One event in the reader's language, e.g. "Signed request no. 12." / "요청서 12번에 서명했습니다."."""
    action = event.action or ""
    text = _sentence(action, event)
    if text is None and action.startswith("api."):
        rest = action.removeprefix("api.")
        inner = _sentence(API_ALIASES.get(rest, rest), event) or _sentence(rest.removeprefix("case."), event)
        if inner is not None:
            text = gettext("%(sentence)s (through the API)") % {"sentence": inner}
    if text is None:
        text = gettext("Something else was done (%(code)s).") % {"code": action}
    return text
