from django.urls import reverse

from app.cases.services import reported_urls_add
from tests.web.helpers import assert_not_found_for_outsider, make_evidence, status_for


def test_rows_show_state_and_what_was_found(client, case, owner, teammate, victim):
    make_evidence(case)
    reported_urls_add(case=case, actor=owner.user, urls=["https://waiting.example/x"])
    url = reverse("case_url_rows", args=[case.pk])
    for member in (owner, teammate, victim):
        assert status_for(client, member, url) == 200
    client.force_login(owner.user)
    body = client.get(url).content.decode()
    assert 'data-state="matched"' in body
    assert 'data-state="queued"' in body
    # The conclusion in plain words; the matcher's figures are on the link's own page (issue 11.9).
    assert "Same photo, cropped or edited" in body
    assert "distance 31.5" not in body
    assert "<html" not in body  # a fragment, not a page
    assert 'data-state="queued"' not in client.get(url + "?state=matched").content.decode()


def test_outsider_gets_404(client, case, outsider):
    assert_not_found_for_outsider(client, outsider, reverse("case_url_rows", args=[case.pk]))
