from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from app.accounts import views as account_views
from app.web import (
    faces,
    fingerprint_views,
    hashlist_views,
    media_views,
    reference_views,
    views,
    webhooks_views,
)
from app.web.decorators import member_required

urlpatterns = [
    path("", views.case_list, name="case_list"),
    path("exit/", views.exit_page, name="exit"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("cases/new/", views.case_create, name="case_create"),
    path("hash-lists/import/", hashlist_views.hashlist_import, name="hashlist_import"),
    path("cases/<int:case_id>/", views.case_detail, name="case_detail"),
    path("cases/<int:case_id>/edit/", views.case_edit, name="case_edit"),
    path("cases/<int:case_id>/age/", views.case_age, name="case_age"),
    path("cases/<int:case_id>/hotlines/", views.case_hotline_report, name="case_hotline_report"),
    path("cases/<int:case_id>/letter/", views.case_letter, name="case_letter"),
    path("cases/<int:case_id>/whitelist/", views.case_whitelist, name="case_whitelist"),
    path("cases/<int:case_id>/account/", views.case_victim_account, name="case_victim_account"),
    path("cases/<int:case_id>/status/", views.case_status, name="case_status"),
    path("cases/<int:case_id>/history/", views.case_history, name="case_history"),
    path("cases/<int:case_id>/progress/", views.case_progress, name="case_progress"),
    path("cases/<int:case_id>/rows/", views.case_url_rows, name="case_url_rows"),
    path("cases/<int:case_id>/results/", views.case_results, name="case_results"),
    path("cases/<int:case_id>/urls/", views.case_urls_add, name="case_urls_add"),
    path("cases/<int:case_id>/urls/retry/", views.case_urls_retry, name="case_urls_retry"),
    path("cases/<int:case_id>/urls/<int:url_id>/", views.case_url_detail, name="case_url_detail"),
    path(
        "cases/<int:case_id>/media/<int:media_id>/preview.jpg",
        media_views.media_preview,
        name="media_preview",
    ),
    path("cases/<int:case_id>/media/<int:media_id>/reveal/", media_views.media_reveal, name="media_reveal"),
    path("cases/<int:case_id>/media/<int:media_id>/full.jpg", media_views.media_full, name="media_full"),
    path("cases/<int:case_id>/media/<int:media_id>/hide/", media_views.media_hide, name="media_hide"),
    path(
        "cases/<int:case_id>/references/",
        reference_views.case_references_upload,
        name="case_references_upload",
    ),
    path(
        "cases/<int:case_id>/references/import/",
        reference_views.case_references_import,
        name="case_references_import",
    ),
    path(
        "cases/<int:case_id>/references/<int:reference_id>/delete/",
        reference_views.case_reference_delete,
        name="case_reference_delete",
    ),
    path("cases/<int:case_id>/erase/", views.case_erase, name="case_erase"),
    # Face stage (issue 13): consent, the person's face photos, possible deepfakes
    path("cases/<int:case_id>/faces/", faces.faces_page, name="faces_page"),
    path("cases/<int:case_id>/faces/consent/", faces.faces_consent, name="faces_consent"),
    path("cases/<int:case_id>/faces/withdraw/", faces.faces_withdraw, name="faces_withdraw"),
    path("cases/<int:case_id>/faces/photos/", faces.faces_photos_add, name="faces_photos_add"),
    path("cases/<int:case_id>/faces/pending/<int:pending_id>/", faces.faces_pending, name="faces_pending"),
    path(
        "cases/<int:case_id>/faces/pending/<int:pending_id>/<int:index>.jpg",
        faces.faces_pending_crop,
        name="faces_pending_crop",
    ),
    path("cases/<int:case_id>/faces/<int:face_id>/delete/", faces.faces_delete, name="faces_delete"),
    path(
        "cases/<int:case_id>/faces/found/<int:match_id>/face.jpg",
        faces.face_match_image,
        name="face_match_image",
    ),
    path(
        "cases/<int:case_id>/faces/found/<int:match_id>/reveal/",
        faces.face_match_reveal,
        name="face_match_reveal",
    ),
    path(
        "cases/<int:case_id>/faces/found/<int:match_id>/decide/",
        faces.face_match_decide,
        name="face_match_decide",
    ),
    # Fingerprints made on the person's own device (issue 14)
    path("fingerprint/", fingerprint_views.fingerprint_page, name="fingerprint"),
    path("fingerprint/i/<str:token>/", fingerprint_views.fingerprint_intake, name="fingerprint_intake"),
    path("cases/<int:case_id>/fingerprint/", fingerprint_views.fingerprint_case, name="fingerprint_case"),
    path(
        "cases/<int:case_id>/fingerprint/link/",
        fingerprint_views.case_fingerprint_intake_create,
        name="case_fingerprint_intake_create",
    ),
    # Organisation and account
    path("org/members/", account_views.member_list, name="member_list"),
    path("org/members/<int:membership_id>/", account_views.member_edit, name="member_edit"),
    path("org/members/<int:membership_id>/remove/", account_views.member_remove, name="member_remove"),
    path(
        "org/members/<int:membership_id>/reset-two-factor/",
        account_views.member_reset_two_factor,
        name="member_reset_two_factor",
    ),
    path("org/settings/", account_views.organization_settings, name="organization_settings"),
    path("org/history/", account_views.organization_audit, name="organization_audit"),
    path("org/tokens/", account_views.organization_tokens, name="organization_tokens"),
    path(
        "org/tokens/<int:token_id>/revoke/",
        account_views.organization_token_revoke,
        name="organization_token_revoke",
    ),
    # Webhooks of the organisation (issue 15)
    path("org/webhooks/", webhooks_views.webhook_list, name="webhook_list"),
    path("org/webhooks/<int:webhook_id>/", webhooks_views.webhook_detail, name="webhook_detail"),
    path("org/webhooks/<int:webhook_id>/active/", webhooks_views.webhook_active, name="webhook_active"),
    path("org/webhooks/<int:webhook_id>/delete/", webhooks_views.webhook_delete, name="webhook_delete"),
    path("org/webhooks/<int:webhook_id>/rotate/", webhooks_views.webhook_rotate, name="webhook_rotate"),
    path("org/webhooks/<int:webhook_id>/test/", webhooks_views.webhook_ping, name="webhook_ping"),
    path("account/two-factor/", account_views.two_factor_setup, name="two_factor_setup"),
    path("account/two-factor/verify/", account_views.two_factor_verify, name="two_factor_verify"),
    path("account/two-factor/off/", account_views.two_factor_disable, name="two_factor_disable"),
    path(
        "account/password/",
        member_required(
            auth_views.PasswordChangeView.as_view(  # type: ignore[arg-type]
                template_name="accounts/password.html", success_url=reverse_lazy("password_changed")
            )
        ),
        name="password_change",
    ),
    path(
        "account/password/done/",
        member_required(
            auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_done.html")
        ),
        name="password_changed",
    ),
]
