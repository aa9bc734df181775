from django.test import Client
from django.urls import reverse

from app.cases.models import CaseStatus
from tests.web.helpers import assert_not_found_for_outsider, status_for


def test_close_and_reopen(client, case, owner, teammate):
    url = reverse("case_status", args=[case.pk])
    assert status_for(client, teammate, url, "post", {"status": "closed"}) == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert status_for(client, owner, url, "post", {"status": "open"}) == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_get_not_allowed(client, case, owner):
    assert status_for(client, owner, reverse("case_status", args=[case.pk])) == 405


def test_outsider_and_victim_get_404(client, case, outsider, victim):
    url = reverse("case_status", args=[case.pk])
    assert_not_found_for_outsider(client, outsider, url, "post", {"status": "closed"})
    assert status_for(client, victim, url, "post", {"status": "closed"}) == 404
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_csrf(case, owner):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    assert strict.post(reverse("case_status", args=[case.pk]), {"status": "closed"}).status_code == 403
