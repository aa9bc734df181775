import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from app.cases.models import Reference
from tests.web.helpers import assert_not_found_for_outsider, small_jpeg, status_for
from tests.web.test_i18n import korean_catalogue  # noqa: F401  (fixture)


def _heic(index: int) -> bytes:
    import pillow_heif

    img = Image.open(io.BytesIO(small_jpeg(index)))
    out = io.BytesIO()
    pillow_heif.from_pillow(img).save(out, quality=80)
    return out.getvalue()


def test_several_files_at_once_including_heic(client, case, teammate):
    client.force_login(teammate.user)
    files = [
        SimpleUploadedFile("a.jpg", small_jpeg(0), content_type="image/jpeg"),
        SimpleUploadedFile("b.jpg", small_jpeg(1), content_type="image/jpeg"),
        SimpleUploadedFile("IMG_0001.HEIC", _heic(2), content_type="image/heic"),
    ]
    response = client.post(reverse("case_references_upload", args=[case.pk]), {"images": files}, follow=True)
    assert response.status_code == 200
    refs = list(Reference.objects.filter(case=case).order_by("id"))
    assert [r.label for r in refs] == ["a.jpg", "b.jpg", "IMG_0001.HEIC"]
    assert all(r.original is None for r in refs)  # discarded by default
    assert all(len(r.pdq_hex) == 64 for r in refs)
    assert "the files are deleted" in response.content.decode()
    body = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "3 image fingerprints" in body
    assert "<img" not in body  # references are never shown as images


def test_originals_kept_encrypted_when_case_opts_in(client, case, owner):
    case.keep_originals = True
    case.save()
    client.force_login(owner.user)
    data = small_jpeg(3)
    client.post(
        reverse("case_references_upload", args=[case.pk]), {"images": [SimpleUploadedFile("k.jpg", data)]}
    )
    ref = Reference.objects.get(case=case)
    assert bytes(ref.original) == data
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT original FROM cases_reference WHERE id = %s", [ref.pk])
        assert bytes(cursor.fetchone()[0]) != data


def test_bad_file_is_explained_and_others_still_added(client, case, owner):
    client.force_login(owner.user)
    files = [SimpleUploadedFile("notes.txt", b"hello"), SimpleUploadedFile("ok.jpg", small_jpeg(4))]
    response = client.post(reverse("case_references_upload", args=[case.pk]), {"images": files}, follow=True)
    assert "notes.txt" in response.content.decode()
    assert Reference.objects.filter(case=case).count() == 1


def test_why_a_file_cannot_be_read_is_said_in_the_readers_language(client, case, owner, korean_catalogue):
    client.force_login(owner.user)
    url = reverse("case_references_upload", args=[case.pk])
    cut_off = SimpleUploadedFile("cut.jpg", small_jpeg(5)[:3000])
    body = client.post(url, {"images": [cut_off]}, follow=True).content.decode()
    assert "cut.jpg" in body and "incomplete (cut off)" in body
    client.post(reverse("set_language"), {"language": "ko", "next": "/"})
    cut_off.seek(0)
    body = client.post(url, {"images": [cut_off]}, follow=True).content.decode()
    assert "파일이 중간에 잘려 있어 읽지 못했습니다." in body and "cut off" not in body
    assert not Reference.objects.filter(case=case).exists()


def test_outsider_and_victim_cannot_upload(client, case, outsider, victim):
    url = reverse("case_references_upload", args=[case.pk])
    assert_not_found_for_outsider(
        client, outsider, url, "post", {"images": [SimpleUploadedFile("a.jpg", small_jpeg(0))]}
    )
    assert (
        status_for(client, victim, url, "post", {"images": [SimpleUploadedFile("a.jpg", small_jpeg(0))]})
        == 404
    )
    assert not Reference.objects.exists()


def test_csrf(case, owner):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    response = strict.post(
        reverse("case_references_upload", args=[case.pk]),
        {"images": [SimpleUploadedFile("a.jpg", small_jpeg(0))]},
    )
    assert response.status_code == 403
