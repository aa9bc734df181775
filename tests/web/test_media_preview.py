import io

from django.urls import reverse
from PIL import Image

from tests.web.helpers import assert_not_found_for_outsider, make_evidence, status_for


def _kept(case):
    case.keep_evidence = True
    case.save()
    return make_evidence(case)


def test_preview_is_small_and_blurred(client, case, owner, teammate, victim):
    _reported, media, _match = _kept(case)
    url = reverse("media_preview", args=[case.pk, media.pk])
    for member in (owner, teammate, victim):
        assert status_for(client, member, url) == 200
    client.force_login(owner.user)
    response = client.get(url)
    assert response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    preview = Image.open(io.BytesIO(response.content)).convert("L")
    assert max(preview.size) <= 240
    # Heavy blur leaves almost no edges: neighbouring pixels barely differ.
    original = Image.open(io.BytesIO(bytes(media.content))).convert("L").resize(preview.size)

    def edge_energy(img):
        px = img.tobytes()
        w = img.size[0]
        return sum(abs(px[i] - px[i + 1]) for i in range(len(px) - 1) if (i + 1) % w) / len(px)

    assert edge_energy(preview) < edge_energy(original) / 4


def test_no_preview_when_nothing_kept(client, case, owner):
    _reported, media, _match = make_evidence(case)
    assert status_for(client, owner, reverse("media_preview", args=[case.pk, media.pk])) == 404


def test_outsider_gets_404(client, case, outsider):
    _reported, media, _match = _kept(case)
    assert_not_found_for_outsider(client, outsider, reverse("media_preview", args=[case.pk, media.pk]))


def test_media_of_another_orgs_case_is_404_even_with_own_case_id(client, case, other_org, outsider):
    from app.cases.services import case_create

    _reported, media, _match = _kept(case)
    theirs = case_create(organization=other_org, actor=outsider.user, alias="Theirs", jurisdiction="US")
    assert status_for(client, outsider, reverse("media_preview", args=[theirs.pk, media.pk])) == 404
