"""The Django admin is off by default, and when switched on a password alone does not open it."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.urls import clear_url_caches
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import PASSWORD


def superuser_with_authenticator() -> tuple[User, TOTPDevice]:
    user = User.objects.create_superuser("root", "root@example.org", PASSWORD)
    return user, TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_admin_is_off_unless_enabled(client, db):
    user, _device = superuser_with_authenticator()
    client.force_login(user)
    assert client.get("/admin/").status_code == 404


def test_enabled_admin_needs_a_verified_device(client, db, settings):
    settings.JIUM_ADMIN_ENABLED = True
    settings.ROOT_URLCONF = "tests.core.urls_admin_on"
    clear_url_caches()
    try:
        user, device = superuser_with_authenticator()
        # The password alone: no admin page, on the admin's own login form either.
        client.post("/admin/login/", {"username": "root", "password": PASSWORD})
        response = client.get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response.url
        client.force_login(user)  # logged in, but the device not verified in this session
        assert client.get("/admin/").status_code == 302
        assert client.get("/admin/accounts/organization/").status_code == 302
        client.logout()
        # Password and a current code from the confirmed authenticator: the admin opens.
        token = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
        client.post("/admin/login/", {"username": "root", "password": PASSWORD, "otp_device": device.persistent_id, "otp_token": token})  # fmt: skip
        assert client.get("/admin/").status_code == 200
    finally:
        clear_url_caches()
