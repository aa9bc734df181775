from django.urls import reverse

from app.accounts.models import AuditEvent
from app.cases.services import case_create
from tests.web.helpers import assert_not_found_for_outsider, make_evidence, status_for


def test_members_see_the_evidence_and_it_is_audited(client, case, owner, teammate, victim):
    reported, media, _match = make_evidence(case)
    url = reverse("case_url_detail", args=[case.pk, reported.pk])
    for member in (owner, teammate, victim):
        assert status_for(client, member, url) == 200
    assert AuditEvent.objects.filter(action="evidence.view", object_id=reported.pk).count() == 3
    client.force_login(owner.user)
    body = client.get(url).content.decode()
    assert media.sha256 in body
    assert "203.0.113.9" in body


def test_outsider_gets_404(client, case, outsider):
    reported, _media, _match = make_evidence(case)
    assert_not_found_for_outsider(client, outsider, reverse("case_url_detail", args=[case.pk, reported.pk]))


def test_url_of_another_case_is_404(client, case, org, owner):
    other = case_create(organization=org, actor=owner.user, alias="Other", jurisdiction="US")
    reported, _media, _match = make_evidence(other)
    assert status_for(client, owner, reverse("case_url_detail", args=[case.pk, reported.pk])) == 404
