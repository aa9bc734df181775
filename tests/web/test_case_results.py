from django.urls import reverse

from app.accounts.models import AuditEvent
from tests.web.helpers import assert_not_found_for_outsider, make_evidence, status_for


def test_matches_grouped_by_domain_with_evidence(client, case, owner, teammate, victim):
    make_evidence(case, url="https://www.pics.example/a", index=0)
    make_evidence(case, url="https://pics.example/b", index=1)
    make_evidence(case, url="https://other.example/c", index=2)
    url = reverse("case_results", args=[case.pk])
    for member in (owner, teammate, victim):
        assert status_for(client, member, url) == 200
    client.force_login(teammate.user)
    response = client.get(url)
    groups = response.context["groups"]
    assert [(g.host, len(g.items)) for g in groups] == [("pics.example", 2), ("other.example", 1)]
    body = response.content.decode()
    for text in (
        "203.0.113.9",
        "ab" * 32,
        "orb-homography",
        "Points that line up",
        "57",
        "https://www.pics.example/a?r=1",
    ):
        assert text in body
    # Evidence copies are not kept in this case: a neutral placeholder and no image request.
    assert "preview.jpg" not in body
    assert AuditEvent.objects.filter(action="evidence.list", actor=teammate.user).exists()


def test_outsider_gets_404(client, case, outsider):
    assert_not_found_for_outsider(client, outsider, reverse("case_results", args=[case.pk]))


def test_no_matches_yet(client, case, owner):
    client.force_login(owner.user)
    assert client.get(reverse("case_results", args=[case.pk])).context["groups"] == []
