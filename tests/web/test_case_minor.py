"""A minor's case in the web UI: no media route, no upload control, age changed only by an admin."""

from __future__ import annotations

from django.urls import reverse

from app.cases.models import Case
from app.cases.services import case_set_age_group
from tests.web.helpers import make_evidence, small_jpeg, status_for


def _kept_then_minor(case, owner):  # type: ignore[no-untyped-def]
    case.keep_evidence = case.keep_originals = True
    case.save()
    reported, media, _match = make_evidence(case)
    case_set_age_group(case=case, actor=owner.user, age_group="minor")
    return reported, media


def test_every_media_route_is_absent_for_everyone(client, case, owner, teammate, outsider, victim):  # type: ignore[no-untyped-def]
    _reported, media = _kept_then_minor(case, owner)
    # Even if bytes were somehow put back, the routes must not serve them.
    type(media).objects.filter(pk=media.pk).update(content=small_jpeg(0))
    session = client.session
    session["revealed_media"] = [media.pk]
    session.save()
    routes = [
        ("get", reverse("media_preview", args=[case.pk, media.pk])),
        ("get", reverse("media_reveal", args=[case.pk, media.pk])),
        ("post", reverse("media_reveal", args=[case.pk, media.pk])),
        ("get", reverse("media_full", args=[case.pk, media.pk])),
        ("post", reverse("media_hide", args=[case.pk, media.pk])),
        ("post", reverse("case_references_upload", args=[case.pk])),
    ]
    for member in (owner, teammate, outsider, victim):
        for method, url in routes:
            assert status_for(client, member, url, method) == 404, (member.user.username, method, url)


def test_pages_show_no_image_and_no_upload_control(client, case, owner, teammate, victim):  # type: ignore[no-untyped-def]
    reported, _media = _kept_then_minor(case, owner)
    pages = [
        reverse("case_detail", args=[case.pk]),
        reverse("case_results", args=[case.pk]),
        reverse("case_url_detail", args=[case.pk, reported.pk]),
    ]
    for member in (owner, teammate, victim):
        client.force_login(member.user)
        for url in pages:
            body = client.get(url).content.decode()
            assert "<img" not in body, url
            assert "/media/" not in body, url
            assert f'action="{reverse("case_references_upload", args=[case.pk])}"' not in body, url
            assert 'accept="image/' not in body, url
        client.logout()
    client.force_login(teammate.user)
    body = client.get(pages[0]).content.decode()
    assert 'id="minor-intake"' in body and 'id="reference-form"' not in body
    client.force_login(victim.user)
    body = client.get(pages[0]).content.decode()
    assert 'type="file"' not in body and "minor-notice" in body


def test_edit_form_offers_no_keep_media_choice_in_a_minors_case(client, case, owner):  # type: ignore[no-untyped-def]
    case_set_age_group(case=case, actor=owner.user, age_group="minor")
    client.force_login(owner.user)
    body = client.get(reverse("case_edit", args=[case.pk])).content.decode()
    assert 'name="keep_evidence"' not in body and 'name="keep_originals"' not in body
    assert 'name="age_group"' not in body  # changed only on the admin's own page


def test_age_page_is_for_admins_only(client, case, owner, teammate, outsider, victim):  # type: ignore[no-untyped-def]
    url = reverse("case_age", args=[case.pk])
    assert status_for(client, owner, url) == 200
    for member in (teammate, outsider, victim):
        assert status_for(client, member, url, "post", {"age_group": "minor", "confirm": "on"}) == 404
    case.refresh_from_db()
    assert case.age_group == "adult"


def test_admin_switch_needs_confirmation_then_deletes_at_once(client, case, owner):  # type: ignore[no-untyped-def]
    case.keep_evidence = case.keep_originals = True
    case.save()
    _reported, media, match = make_evidence(case)
    client.force_login(owner.user)
    url = reverse("case_age", args=[case.pk])
    assert client.post(url, {"age_group": "minor"}).status_code == 200  # not confirmed
    assert Case.objects.get(pk=case.pk).age_group == "adult"
    response = client.post(url, {"age_group": "minor", "confirm": "on"})
    assert response.status_code == 302
    media.refresh_from_db()
    match.reference.refresh_from_db()
    assert not media.content and not match.reference.original
    assert Case.objects.get(pk=case.pk).is_minor
