from django.urls import reverse

from app.accounts.models import AuditEvent
from app.cases.models import Case, ReportedUrl
from app.cases.services import reported_urls_add
from tests.web.helpers import assert_not_found_for_outsider


def test_erase_requires_alias_confirmation(client, case, owner):
    client.force_login(owner.user)
    response = client.post(reverse("case_erase", args=[case.pk]), {"confirm": "wrong"})
    assert response.status_code == 200
    assert Case.objects.filter(pk=case.pk).exists()


def test_erase_leaves_only_the_fact_of_erasure(client, case, owner):
    reported_urls_add(case=case, actor=owner.user, urls=["https://a.example/1"])
    client.force_login(owner.user)
    client.get(reverse("case_detail", args=[case.pk]))
    response = client.post(reverse("case_erase", args=[case.pk]), {"confirm": "Case Sunflower"})
    assert response.status_code == 302
    assert not Case.objects.filter(pk=case.pk).exists()
    assert not ReportedUrl.objects.exists()
    assert not AuditEvent.objects.filter(case_id=case.pk).exists()
    assert list(
        AuditEvent.objects.exclude(action__startswith="member.").values_list("action", flat=True)
    ) == ["case.erase"]


def test_outsider_victim_cannot_erase(client, case, outsider, victim):
    url = reverse("case_erase", args=[case.pk])
    assert_not_found_for_outsider(client, outsider, url, "post", {"confirm": "Case Sunflower"})
    client.force_login(victim.user)
    assert client.post(url, {"confirm": "Case Sunflower"}).status_code == 404
    assert Case.objects.filter(pk=case.pk).exists()


def _models_hanging_off_cases(apps):
    """Case and every model that refers to it, directly or through another such model (any room)."""
    from app.cases.models import Case

    found = {Case}
    grew = True
    while grew:
        grew = False
        for model in apps.get_models():
            if model in found:
                continue
            targets = {f.related_model for f in model._meta.get_fields() if f.many_to_one or f.one_to_one}
            if targets & found:
                found.add(model)
                grew = True
    assert len(found) >= 6  # cases, references, urls, whitelist, fetches, media, matches, ...
    return found


def _all_rows_text() -> str:
    """Every row of every table, as text: what a database dump would show."""
    from django.db import connection

    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - table names from introspection
            for row in cursor.fetchall():
                chunks.append(
                    " ".join(bytes(v).hex() if isinstance(v, bytes | memoryview) else str(v) for v in row)
                )
    return "\n".join(chunks)


def test_erasure_leaves_nothing_in_database_or_media(client, case, owner, teammate, settings, tmp_path):
    from django.apps import apps

    from app.cases.services import case_set_authorisation_letter, whitelist_set
    from tests.web.helpers import make_evidence

    settings.MEDIA_ROOT = tmp_path / "media"
    case.keep_originals = True
    case.keep_evidence = True
    case.real_name = "Kim Min-ji"
    case.save()
    case.assigned_to.add(teammate.user)
    case.organization.caseworkers_may_erase = True  # this organisation lets caseworkers erase
    case.organization.save()
    make_evidence(case, url="https://pics.example/p/1", index=0)
    make_evidence(case, url="https://pics.example/p/2", index=1)
    whitelist_set(case=case, actor=owner.user, values=["instagram.com/sunflower.own"])
    case_set_authorisation_letter(case=case, actor=owner.user, data=b"%PDF signed", filename="letter.pdf")
    reported_urls_add(case=case, actor=owner.user, urls=["https://queued.example/x"])
    victim_user_id = case.victim_user_id
    client.force_login(teammate.user)
    client.get(reverse("case_results", args=[case.pk]))
    before = _all_rows_text()
    assert "pics.example" in before and "Case Sunflower" in before

    response = client.post(reverse("case_erase", args=[case.pk]), {"confirm": "Case Sunflower"})

    assert response.status_code == 302
    for model in _models_hanging_off_cases(apps):
        assert not model.objects.exists(), f"{model.__name__} rows survived the erasure"
    after = _all_rows_text()
    for trace in ("Case Sunflower", "pics.example", "queued.example", "instagram.com/sunflower.own", "vicky"):
        assert trace not in after, f"{trace!r} is still in the database"
    from django.contrib.auth.models import User

    assert not User.objects.filter(pk=victim_user_id).exists()  # the person's login went with the case
    assert User.objects.filter(pk=teammate.user.pk).exists()
    assert list(AuditEvent.objects.filter(action__startswith="case.").values_list("action", "case_id")) == [
        ("case.erase", None)
    ]
    media_root = settings.MEDIA_ROOT
    assert not media_root.exists() or not any(media_root.rglob("*"))


def test_by_default_only_admins_erase_and_caseworkers_ask_them(client, case, owner, teammate):
    from app.accounts.models import AuditEvent
    from app.cases.models import Case

    url = reverse("case_erase", args=[case.pk])
    client.force_login(teammate.user)
    assert "Ask an admin" in client.get(url).content.decode()
    assert client.post(url, {"confirm": "Case Sunflower"}).status_code == 403
    assert Case.objects.filter(pk=case.pk).exists()
    assert client.post(url, {"request_erasure": "1"}).status_code == 302
    event = AuditEvent.objects.get(action="case.erase_request")
    assert (event.actor, event.case_id) == (teammate.user, case.pk)
    client.force_login(owner.user)
    page = client.get(url).content.decode()
    assert f"{teammate.user.username} asked for this case to be erased" in page
    assert client.post(url, {"confirm": "Case Sunflower"}).status_code == 302
    assert not Case.objects.filter(pk=case.pk).exists()
