"""Member management, organisation settings and two-step login (TOTP)."""

from __future__ import annotations

import base64
import io
import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from app.accounts import selectors as account_selectors
from app.accounts import services as account_services
from app.accounts.forms import MemberAddForm, MemberRoleForm, OrganizationSettingsForm, TokenForm
from app.accounts.models import Membership, Role
from app.accounts.selectors import membership_for_user
from app.core.redirects import safe_next
from app.web.decorators import admin_required, member_required
from app.web.views import _actor

# ---- members ---------------------------------------------------------------------------------


@admin_required
def member_list(request: HttpRequest) -> HttpResponse:
    organization = request.membership.organization  # type: ignore[attr-defined]
    form = MemberAddForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        password = secrets.token_urlsafe(12)
        membership = account_services.member_create(
            organization=organization,
            username=form.cleaned_data["username"],
            password=password,
            role=form.cleaned_data["role"],
            email=form.cleaned_data["email"],
            actor=_actor(request),
        )
        # Shown once, on this response only.
        created = {"username": membership.user.username, "password": password}
        form = MemberAddForm()
    members = account_selectors.member_list(organization=organization)
    confirmed = set(
        TOTPDevice.objects.filter(user__memberships__organization=organization, confirmed=True).values_list(
            "user_id", flat=True
        )
    )
    return render(
        request,
        "accounts/members.html",
        {"members": members, "form": form, "created": created, "two_factor_users": confirmed},
    )


def _member_in_org(request: HttpRequest, membership_id: int) -> Membership:
    membership = (
        Membership.objects.select_related("user", "organization")
        .filter(pk=membership_id, organization=request.membership.organization)  # type: ignore[attr-defined]
        .first()
    )
    if membership is None:
        raise Http404("No such member")
    return membership


@admin_required
def member_edit(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = _member_in_org(request, membership_id)
    if membership.role == Role.VICTIM:
        # People we help are managed from their case, not as staff.
        raise Http404("Not a staff member")
    form = MemberRoleForm(request.POST or None, initial={"role": membership.role})
    if request.method == "POST" and form.is_valid():
        if membership.user_id == request.user.pk and form.cleaned_data["role"] != Role.ADMIN:
            messages.error(request, _("You cannot remove your own admin role."))
        else:
            account_services.member_set_role(
                membership=membership, role=form.cleaned_data["role"], actor=_actor(request)
            )
            messages.success(request, _("Role changed."))
            return redirect("member_list")
    return render(request, "accounts/member_edit.html", {"member": membership, "form": form})


@require_POST
@admin_required
def member_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = _member_in_org(request, membership_id)
    if membership.user_id == request.user.pk:
        messages.error(request, _("You cannot remove yourself."))
        return redirect("member_list")
    account_services.member_remove(membership=membership, actor=_actor(request))
    messages.success(request, _("The member can no longer log in."))
    return redirect("member_list")


@require_POST
@admin_required
def member_reset_two_factor(request: HttpRequest, membership_id: int) -> HttpResponse:
    """For a lost phone: the member enrols again at their next login."""
    membership = _member_in_org(request, membership_id)
    TOTPDevice.objects.filter(user_id=membership.user_id).delete()
    account_services.audit_record(
        organization=membership.organization,
        actor=_actor(request),
        action="member.2fa_reset",
        object_type="user",
        object_id=membership.user_id,
    )
    messages.success(request, _("Two-step login was reset for this member."))
    return redirect("member_list")


@admin_required
def organization_settings(request: HttpRequest) -> HttpResponse:
    organization = request.membership.organization  # type: ignore[attr-defined]
    form = OrganizationSettingsForm(request.POST or None, instance=organization)
    if request.method == "POST" and form.is_valid():
        form.save()
        account_services.audit_record(
            organization=organization,
            actor=_actor(request),
            action="org.settings",
            detail={"fields": sorted(form.changed_data)},
        )
        messages.success(request, _("Changes saved."))
        return redirect("organization_settings")
    return render(request, "accounts/settings.html", {"form": form})


@admin_required
def organization_tokens(request: HttpRequest) -> HttpResponse:
    """The organisation's API tokens (never the tokens themselves): who has one, when used, revoke."""
    from app.api.selectors import api_token_list

    organization = request.membership.organization  # type: ignore[attr-defined]
    tokens = api_token_list(organization=organization).order_by("revoked_at", "-created_at")
    return render(request, "accounts/tokens.html", {"tokens": tokens})


@require_POST
@admin_required
def organization_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    from app.api.selectors import api_token_list
    from app.api.services import api_token_revoke

    token = api_token_list(organization=request.membership.organization).filter(pk=token_id).first()  # type: ignore[attr-defined]
    if token is None:
        raise Http404("No such token")
    api_token_revoke(token=token, actor=_actor(request))
    messages.success(request, _("The token was revoked. Programs using it can no longer reach Jium."))
    return redirect("organization_tokens")


@admin_required
def organization_audit(request: HttpRequest) -> HttpResponse:
    events = account_selectors.audit_event_list(organization=request.membership.organization)  # type: ignore[attr-defined]
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    return render(request, "accounts/audit.html", {"page": page})


# ---- two-step login --------------------------------------------------------------------------


def _qr_data_uri(text: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    out = io.BytesIO()
    image.save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode("ascii")


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code, type one code to prove it works."""
    membership = membership_for_user(user=request.user)
    if membership is None:
        raise Http404("No organisation")
    if user_has_device(request.user, confirmed=True):
        if not request.user.is_verified():  # type: ignore[union-attr]
            return redirect("two_factor_verify")
        return render(request, "accounts/two_factor_on.html", {})
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=request.user, name="authenticator", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            account_services.audit_record(
                organization=membership.organization,
                actor=_actor(request),
                action="member.2fa_enrol",
                object_type="user",
                object_id=request.user.pk,
            )
            messages.success(
                request, _("Two-step login is on. You will be asked for a code each time you log in.")
            )
            return redirect(safe_next(request, "/"))
        form.add_error(
            "token", _("That code did not work. Check the time on your phone and try the newest code.")
        )
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr": _qr_data_uri(device.config_url),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "required": membership.is_staff_role and membership.organization.require_two_factor,
            "next": safe_next(request, ""),
        },
    )


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    if request.user.is_verified():  # type: ignore[union-attr]
        return redirect(safe_next(request, "/"))
    devices = list(TOTPDevice.objects.filter(user=request.user, confirmed=True))
    if not devices:
        return redirect(safe_next(request, "/"))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in devices:
            allowed, _wait = device.verify_is_allowed()
            if allowed and device.verify_token(form.cleaned_data["token"]):
                otp_login(request, device)
                return redirect(safe_next(request, "/"))
        form.add_error("token", _("That code did not work. Try the newest code from your app."))
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": safe_next(request, "")})


@require_POST
@member_required
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    if membership.is_staff_role and membership.organization.require_two_factor:
        messages.error(request, _("Your organisation requires two-step login, so it cannot be turned off."))
        return redirect("two_factor_setup")
    TOTPDevice.objects.filter(user=request.user).delete()
    account_services.audit_record(
        organization=membership.organization,
        actor=_actor(request),
        action="member.2fa_disable",
        object_type="user",
        object_id=request.user.pk,
    )
    messages.success(request, _("Two-step login is off."))
    return redirect("two_factor_setup")


# ---- logging out -----------------------------------------------------------------------------


class LogoutWithConfirmation(auth_views.LogoutView):
    """Log out, then say so on the login page: on a shared device people need to see it worked."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.success(request, _("You are logged out. On a shared device, close the browser as well."))
        return response
