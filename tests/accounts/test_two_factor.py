from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from app.accounts.models import AuditEvent
from tests.conftest import PASSWORD
from tests.web.helpers import status_for


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def _forget_recent_use(device: TOTPDevice) -> None:
    # A code is accepted once, and failures slow down the next try: within one test second the
    # enrolment code and a failed attempt would block the next login, as they should in real life.
    device.refresh_from_db()
    device.last_t = -1
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()


def _enrol(client, membership) -> TOTPDevice:
    client.force_login(membership.user)
    page = client.get(reverse("two_factor_setup"))
    assert page.status_code == 200
    assert page.context["qr"].startswith("data:image/svg+xml;base64,")
    device = TOTPDevice.objects.get(user=membership.user, confirmed=False)
    response = client.post(reverse("two_factor_setup"), {"token": _code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_wrong_code_does_not_enrol(client, teammate):
    client.force_login(teammate.user)
    client.get(reverse("two_factor_setup"))
    response = client.post(reverse("two_factor_setup"), {"token": "000000"})
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=teammate.user, confirmed=True).exists()


def test_enrolled_staff_must_enter_a_code_before_seeing_cases(client, case, teammate):
    device = _enrol(client, teammate)
    assert AuditEvent.objects.filter(action="member.2fa_enrol", actor=teammate.user).exists()
    fresh = Client()
    assert fresh.login(username="bob", password=PASSWORD)
    detail = reverse("case_detail", args=[case.pk])
    response = fresh.get(detail)
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor_verify"))
    assert (
        fresh.post(
            reverse("two_factor_verify") + f"?next={detail}", {"token": "123456", "next": detail}
        ).status_code
        == 200
    )
    assert fresh.get(detail).status_code == 302
    _forget_recent_use(device)
    ok = fresh.post(reverse("two_factor_verify"), {"token": _code(device), "next": detail})
    assert ok.status_code == 302, ok.context["form"].errors
    assert ok.url == detail
    assert fresh.get(detail).status_code == 200


def test_org_can_require_enrolment(client, org, case, teammate, victim):
    org.require_two_factor = True
    org.save()
    client.force_login(teammate.user)
    response = client.get(reverse("case_list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor_setup"))
    # The person we help is not forced into two-step login.
    assert status_for(client, victim, reverse("case_detail", args=[case.pk])) == 200


def test_not_required_by_default(client, teammate):
    assert status_for(client, teammate, reverse("case_list")) == 200


def test_disable(client, teammate):
    _enrol(client, teammate)
    assert client.post(reverse("two_factor_disable")).status_code == 302
    assert not TOTPDevice.objects.filter(user=teammate.user).exists()


def test_cannot_disable_when_required(client, org, teammate):
    _enrol(client, teammate)
    org.require_two_factor = True
    org.save()
    client.post(reverse("two_factor_disable"))
    assert TOTPDevice.objects.filter(user=teammate.user).exists()


def test_admin_resets_a_lost_phone_only_in_own_org(client, owner, teammate, outsider):
    _enrol(client, teammate)
    url = reverse("member_reset_two_factor", args=[teammate.pk])
    assert status_for(client, outsider, url, "post") == 404
    assert status_for(client, teammate, url, "post") in (302, 404)  # sent to the code check, or refused
    assert TOTPDevice.objects.filter(user=teammate.user).exists()
    assert status_for(client, owner, url, "post") == 302
    assert not TOTPDevice.objects.filter(user=teammate.user).exists()


def test_verify_ignores_offsite_next(client, teammate):
    device = _enrol(client, teammate)
    fresh = Client()
    fresh.login(username="bob", password=PASSWORD)
    _forget_recent_use(device)
    response = fresh.post(
        reverse("two_factor_verify"), {"token": _code(device), "next": "https://evil.example/"}
    )
    assert response.url == "/"


def test_csrf(teammate):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(teammate.user)
    strict.get(reverse("two_factor_setup"))
    assert strict.post(reverse("two_factor_setup"), {"token": "000000"}).status_code == 403
