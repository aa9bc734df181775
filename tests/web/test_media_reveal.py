import re

from django.test import Client
from django.urls import reverse

from app.accounts.models import AuditEvent
from tests.web.helpers import assert_not_found_for_outsider, make_evidence, status_for


def _kept(case):
    case.keep_evidence = True
    case.save()
    return make_evidence(case)


def test_reveal_asks_first_then_logs_and_shows(client, case, teammate):
    _reported, media, _match = _kept(case)
    client.force_login(teammate.user)
    full = reverse("media_full", args=[case.pk, media.pk])
    reveal = reverse("media_reveal", args=[case.pk, media.pk])
    assert client.get(full).status_code == 404  # not before confirming
    confirm_page = client.get(reveal)
    assert confirm_page.status_code == 200
    assert "recorded" in confirm_page.content.decode()
    assert not AuditEvent.objects.filter(action="evidence.reveal").exists()  # asking is not revealing
    response = client.post(reveal, {"next": reverse("case_results", args=[case.pk])})
    assert response.status_code == 302
    assert response.url == reverse("case_results", args=[case.pk])
    event = AuditEvent.objects.get(action="evidence.reveal")
    assert (event.actor, event.case_id, event.object_id) == (teammate.user, case.pk, media.pk)
    image = client.get(full)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/jpeg"
    assert full in client.get(reverse("case_results", args=[case.pk])).content.decode()
    # Blur again: the sharp image is no longer served.
    client.post(reverse("media_hide", args=[case.pk, media.pk]))
    assert client.get(full).status_code == 404


def test_reveal_ignores_offsite_next(client, case, owner):
    _reported, media, _match = _kept(case)
    client.force_login(owner.user)
    response = client.post(reverse("media_reveal", args=[case.pk, media.pk]), {"next": "//evil.example/"})
    assert response.url.startswith(reverse("case_url_detail", args=[case.pk, media.fetch.reported_url_id]))


def test_access(client, case, owner, victim, outsider):
    _reported, media, _match = _kept(case)
    reveal = reverse("media_reveal", args=[case.pk, media.pk])
    assert status_for(client, owner, reveal) == 200
    assert status_for(client, victim, reveal) == 200  # it is the person's own case
    assert_not_found_for_outsider(client, outsider, reveal, "post")
    assert_not_found_for_outsider(client, outsider, reverse("media_full", args=[case.pk, media.pk]))
    assert not AuditEvent.objects.filter(action="evidence.reveal").exists()


def test_nothing_to_reveal_when_not_kept(client, case, owner):
    _reported, media, _match = make_evidence(case)
    assert status_for(client, owner, reverse("media_reveal", args=[case.pk, media.pk])) == 404


def test_csrf(case, owner):
    _reported, media, _match = _kept(case)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    assert strict.post(reverse("media_reveal", args=[case.pk, media.pk])).status_code == 403
    assert not AuditEvent.objects.filter(action="evidence.reveal").exists()


HOSTILE_NEXT = ["/\\evil.example/", "//evil.example/", "/\\/evil.example", "https://evil.example/", "javascript:alert(1)", "\\\\evil.example"]  # fmt: skip


def test_reveal_and_hide_never_send_the_browser_offsite(client, case, owner):
    _reported, media, _match = _kept(case)
    client.force_login(owner.user)
    reveal = reverse("media_reveal", args=[case.pk, media.pk])
    for target in HOSTILE_NEXT:
        page = client.get(reveal, {"next": target}).content.decode()
        links = re.findall(r'href="([^"]*)"', page)
        assert links and not [
            u for u in links if "evil.example" in u or u.startswith(("//", "/\\", "javascript"))
        ], target
        # The form's own "next" (not the language switcher's copy of this page's address) is empty.
        assert re.search(
            r'<form method="post">\s*<input[^>]*csrf[^>]*>\s*<input type="hidden" name="next" value="">', page
        ), target
        for url in (reveal, reverse("media_hide", args=[case.pk, media.pk])):
            response = client.post(url, {"next": target})
            assert response.status_code == 302
            assert response.url.startswith("/") and "evil.example" not in response.url, (url, target)
    # A path on this site is still honoured.
    back = reverse("case_results", args=[case.pk])
    assert f'href="{back}"' in client.get(reveal, {"next": back}).content.decode()


def test_each_load_of_the_full_image_is_logged(client, case, teammate):
    _reported, media, _match = _kept(case)
    client.force_login(teammate.user)
    client.post(reverse("media_reveal", args=[case.pk, media.pk]))
    full = reverse("media_full", args=[case.pk, media.pk])
    assert client.get(full).status_code == 200 and client.get(full).status_code == 200
    events = AuditEvent.objects.filter(action="evidence.view_full")
    assert events.count() == 2 and {(e.actor, e.object_id) for e in events} == {(teammate.user, media.pk)}
