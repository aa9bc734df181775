from django.test import Client
from django.urls import reverse

from app.cases.models import ReportedUrl, UrlState
from app.cases.services import reported_urls_add
from tests.web.helpers import assert_not_found_for_outsider, status_for


def _failed(case, owner):
    result = reported_urls_add(
        case=case, actor=owner.user, urls=["https://down.example/1", "https://ok.example/2"]
    )
    ReportedUrl.objects.filter(pk=result.added[0].pk).update(state=UrlState.FAILED, error="timeout")
    ReportedUrl.objects.filter(pk=result.added[1].pk).update(state=UrlState.NO_MATCH)


def test_failed_links_are_queued_again(client, case, owner, teammate, django_capture_on_commit_callbacks):
    _failed(case, owner)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert status_for(client, teammate, reverse("case_urls_retry", args=[case.pk]), "post") == 302
    assert len(callbacks) == 1
    states = dict(ReportedUrl.objects.values_list("host", "state"))
    assert states == {"down.example": UrlState.QUEUED, "ok.example": UrlState.NO_MATCH}


def test_outsider_and_victim(client, case, owner, outsider, victim):
    _failed(case, owner)
    url = reverse("case_urls_retry", args=[case.pk])
    assert_not_found_for_outsider(client, outsider, url, "post")
    assert status_for(client, victim, url, "post") == 404
    assert ReportedUrl.objects.filter(state=UrlState.FAILED).count() == 1


def test_csrf(case, owner):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    assert strict.post(reverse("case_urls_retry", args=[case.pk])).status_code == 403
