"""A minor's overdue notice: escalation drafts go to the hotline and the police first."""

from __future__ import annotations

from app.cases.services import case_set_age_group
from app.notices.models import Notice
from app.tracking.models import Escalation, EscalationKind, NoticeStatus
from app.tracking.services import notice_escalate
from tests.tracking.helpers import seed_notice


def _overdue(case):  # type: ignore[no-untyped-def]
    tracking = seed_notice(case, platform="Example Board", regime="kr-minor", status=NoticeStatus.NO_RESPONSE)
    # A hosting provider's own contact: no RDAP lookup is needed for this test.
    Notice.objects.filter(pk=tracking.notice_id).update(recipient_key="abuse:abuse@example.org")
    return tracking


def test_hotline_and_police_drafts_come_first(case, owner, directory):  # type: ignore[no-untyped-def]
    case_set_age_group(case=case, actor=owner.user, age_group="minor")
    tracking = _overdue(case)
    drafts = notice_escalate(tracking_id=tracking.pk)
    kinds = [d.kind for d in drafts]
    assert kinds[:2] == [EscalationKind.HOTLINE, EscalationKind.POLICE]
    assert EscalationKind.REMINDER in kinds[2:]
    hotline = drafts[0]
    assert "02-735-8994" in hotline.recipient_address
    assert "https://exampleboard.example/post/0" in hotline.body  # the addresses, never the images
    assert "do not attach, any image" in hotline.body
    # Every other draft names the material for what it is, not as an adult's intimate image.
    for draft in drafts[2:]:
        assert "non-consensual intimate" not in draft.subject + draft.body
    reminder = next(d for d in drafts if d.kind == EscalationKind.REMINDER)
    assert reminder.regulator is None


def test_adult_case_has_no_hotline_drafts(case, owner, directory):  # type: ignore[no-untyped-def]
    tracking = _overdue(case)
    drafts = notice_escalate(tracking_id=tracking.pk)
    assert not Escalation.objects.filter(kind__in=[EscalationKind.HOTLINE, EscalationKind.POLICE]).exists()
    assert any("non-consensual intimate" in d.subject for d in drafts)
