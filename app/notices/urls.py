from django.urls import path

from app.notices import views

urlpatterns = [
    path("cases/<int:case_id>/notices/", views.case_notices, name="case_notices"),
    path("cases/<int:case_id>/notices/draft/", views.case_notices_draft, name="case_notices_draft"),
    path("cases/<int:case_id>/notices/<int:notice_id>/", views.notice_detail, name="notice_detail"),
    path("cases/<int:case_id>/notices/<int:notice_id>/edit/", views.notice_edit, name="notice_edit"),
    path("cases/<int:case_id>/notices/<int:notice_id>/sign/", views.notice_sign, name="notice_sign"),
    path("cases/<int:case_id>/notices/<int:notice_id>/send/", views.notice_send, name="notice_send"),
    path("cases/<int:case_id>/notices/<int:notice_id>/helper/", views.notice_helper, name="notice_helper"),
    path(
        "cases/<int:case_id>/notices/<int:notice_id>/submitted/",
        views.notice_submitted,
        name="notice_submitted",
    ),
    path("cases/<int:case_id>/notices/<int:notice_id>/pdf/", views.notice_pdf, name="notice_pdf"),
    path(
        "cases/<int:case_id>/notices/<int:notice_id>/name/",
        views.notice_name_choice,
        name="notice_name_choice",
    ),
    path("cases/<int:case_id>/evidence.<str:fmt>", views.case_evidence, name="case_evidence"),
]
