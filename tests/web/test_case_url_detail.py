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


def test_images_of_other_visible_cases_are_pointed_out(client, case, org, owner, teammate, victim):
    from app.cases.services import reference_add_image
    from app.matching.services import pdq_indexes_clear
    from tests.conftest import photo_paths

    pdq_indexes_clear()
    reported, media, _match = make_evidence(case)
    other = case_create(organization=org, actor=owner.user, alias="Case Lotus", jurisdiction="KR")
    photo = photo_paths()[3].read_bytes()
    other_ref = reference_add_image(case=other, actor=owner.user, data=photo)
    media.pdq_hex = other_ref.pdq_hex  # the page also shows Case Lotus's image
    media.save()
    url = reverse("case_url_detail", args=[case.pk, reported.pk])

    client.force_login(owner.user)
    assert "Case Lotus" in client.get(url).content.decode()
    client.force_login(victim.user)
    assert "Case Lotus" not in client.get(url).content.decode()
    org.caseworkers_see_assigned_only = True
    org.save()
    case.assigned_to.add(teammate.user)
    client.force_login(teammate.user)
    assert "Case Lotus" not in client.get(url).content.decode()  # not assigned to that case


def test_unrelated_images_point_to_no_other_case(client, case, org, owner):
    from app.matching.services import pdq_indexes_clear

    pdq_indexes_clear()
    reported, _media, _match = make_evidence(case)
    case_create(organization=org, actor=owner.user, alias="Case Lotus", jurisdiction="KR")
    client.force_login(owner.user)
    assert (
        "other-cases"
        not in client.get(reverse("case_url_detail", args=[case.pk, reported.pk])).content.decode()
    )
