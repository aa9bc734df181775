from django.urls import reverse

from app.cases.models import ReportedUrl, UrlState
from app.cases.services import whitelist_set
from tests.web.helpers import assert_not_found_for_outsider


def test_paste_urls_normalises_and_dedupes(client, case, teammate, django_capture_on_commit_callbacks):
    client.force_login(teammate.user)
    text = "https://Example.COM/a#frag\nexample.com/a\nhttps://example.com/b\nnot a url\n\n"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("case_urls_add", args=[case.pk]), {"urls": text})
    assert response.status_code == 302
    urls = list(ReportedUrl.objects.filter(case=case).values_list("normalized_url", flat=True))
    assert urls == ["https://example.com/a", "https://example.com/b"]
    assert len(callbacks) == 1  # enqueued once the rows are committed
    client.post(reverse("case_urls_add", args=[case.pk]), {"urls": "https://example.com/b"})
    assert ReportedUrl.objects.filter(case=case).count() == 2


def test_whitelisted_urls_are_never_queued(client, case, owner):
    whitelist_set(case=case, actor=owner.user, values=["instagram.com/my.own.account", "myblog.example"])
    client.force_login(owner.user)
    client.post(
        reverse("case_urls_add", args=[case.pk]),
        {
            "urls": "https://instagram.com/my.own.account/p/1\nhttps://www.myblog.example/x\nhttps://instagram.com/abuser/p/2"
        },
    )
    states = dict(ReportedUrl.objects.filter(case=case).values_list("normalized_url", "state"))
    assert states["https://instagram.com/my.own.account/p/1"] == UrlState.WHITELISTED
    assert states["https://www.myblog.example/x"] == UrlState.WHITELISTED
    assert states["https://instagram.com/abuser/p/2"] == UrlState.QUEUED


def test_csv_import(client, case, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(owner.user)
    csv_file = SimpleUploadedFile(
        "urls.csv", b"url,note\nhttps://a.example/1,first\nhttps://b.example/2,second\n"
    )
    client.post(reverse("case_urls_add", args=[case.pk]), {"urls": "", "csv_file": csv_file})
    assert ReportedUrl.objects.filter(case=case).count() == 2


def test_empty_submission_changes_nothing(client, case, owner):
    client.force_login(owner.user)
    response = client.post(reverse("case_urls_add", args=[case.pk]), {"urls": "   "}, follow=True)
    assert "Paste at least one web address" in response.content.decode()
    assert not ReportedUrl.objects.exists()


def test_outsider_and_victim_cannot_add(client, case, outsider, victim):
    url = reverse("case_urls_add", args=[case.pk])
    assert_not_found_for_outsider(client, outsider, url, "post", {"urls": "https://x.example"})
    client.force_login(victim.user)
    assert client.post(url, {"urls": "https://x.example"}).status_code == 404
    assert not ReportedUrl.objects.exists()


def test_get_not_allowed(client, case, owner):
    client.force_login(owner.user)
    assert client.get(reverse("case_urls_add", args=[case.pk])).status_code == 405
