"""History pages write each audit event as a sentence in the reader's language (issue 11.8)."""

from __future__ import annotations

from django.urls import reverse

from app.accounts.services import audit_record


def _events(case, owner):
    org = case.organization
    user = owner.user
    audit_record(organization=org, actor=user, action="case.view", case_id=case.pk)
    audit_record(
        organization=org,
        actor=None,
        action="notice.send_failed",
        case_id=case.pk,
        object_type="notice",
        object_id=7,
    )
    audit_record(
        organization=org,
        actor=user,
        action="evidence.reveal",
        case_id=case.pk,
        object_type="media_item",
        object_id=3,
    )
    audit_record(organization=org, actor=user, action="case.urls_add", case_id=case.pk, detail={"added": 1})
    audit_record(organization=org, actor=user, action="reference.add", case_id=case.pk, detail={"count": 4})
    audit_record(
        organization=org,
        actor=user,
        action="api.notice.sign",
        case_id=case.pk,
        object_type="notice",
        object_id=7,
    )


def _history(client, owner, case, lang: str) -> str:
    client.force_login(owner.user)
    client.cookies["django_language"] = lang
    return client.get(reverse("case_history", args=[case.pk])).content.decode()


def test_case_history_in_english(client, case, owner):
    _events(case, owner)
    html = _history(client, owner, case, "en")
    for sentence in (
        "Looked at the case.",
        "Tried to send request no. 7, but it could not be sent.",
        "Revealed a blurred image.",
        "Added 1 link to check.",
        "Added 4 image fingerprints.",
        "Signed request no. 7. (through the API)",
        "Jium, on its own",
    ):
        assert sentence in html, sentence
    for code in ("case.view", "notice.send_failed", "evidence.reveal", "media_item #3", "<code>"):
        assert code not in html, code


def test_case_history_in_korean(client, case, owner):
    _events(case, owner)
    html = _history(client, owner, case, "ko")
    for sentence in (
        "사례를 열람했습니다.",
        "요청서 7번을 보내려 했지만 보내지 못했습니다.",
        "흐리게 가린 이미지를 열어 보았습니다.",
        "확인할 링크 1개를 추가했습니다.",
        "이미지 지문 4개를 추가했습니다.",
        "요청서 7번에 서명했습니다. (API 사용)",
        "지움 (자동)",
    ):
        assert sentence in html, sentence
    for code in ("case.view", "notice.send_failed", "evidence.reveal", "media_item #3"):
        assert code not in html, code


def test_organisation_history_uses_sentences_too(client, case, owner):
    _events(case, owner)
    audit_record(organization=case.organization, actor=owner.user, action="org.settings")
    audit_record(organization=case.organization, actor=owner.user, action="something.new")
    client.force_login(owner.user)
    html = client.get(reverse("organization_audit")).content.decode()
    assert "Changed the organisation&#x27;s settings." in html
    assert "Something else was done (something.new)." in html
