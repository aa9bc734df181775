from django.urls import reverse

from app.cases.services import case_create


def test_owner_and_teammate_see_their_org_cases(client, case, owner, teammate):
    for member in (owner, teammate):
        client.force_login(member.user)
        response = client.get(reverse("case_list"))
        assert response.status_code == 200
        assert "Case Sunflower" in response.content.decode()


def test_outsider_sees_none_of_them(client, case, outsider):
    client.force_login(outsider.user)
    response = client.get(reverse("case_list"))
    assert response.status_code == 200
    assert "Case Sunflower" not in response.content.decode()


def test_victim_sees_only_their_own_case(client, case, org, owner, victim):
    case_create(organization=org, actor=owner.user, alias="Someone Else", jurisdiction="US")
    client.force_login(victim.user)
    response = client.get(reverse("case_list"))
    # The person has one case, so the list takes them straight to it.
    assert response.status_code == 302
    assert response.url == reverse("case_detail", args=[case.pk])
    body = client.get(reverse("case_list"), follow=True).content.decode()
    assert "Case Sunflower" in body
    assert "Someone Else" not in body
    assert reverse("case_create") not in body


def test_assigned_only_policy(client, case, org, teammate):
    org.caseworkers_see_assigned_only = True
    org.save()
    client.force_login(teammate.user)
    assert "Case Sunflower" not in client.get(reverse("case_list")).content.decode()
    case.assigned_to.add(teammate.user)
    assert "Case Sunflower" in client.get(reverse("case_list")).content.decode()


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(reverse("case_list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_page_title_never_names_the_case(client, case, owner):
    client.force_login(owner.user)
    body = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "<title>Jium</title>" in body
