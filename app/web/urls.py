from django.urls import path

from app.web import views

urlpatterns = [
    path("", views.case_list, name="case_list"),
    path("exit/", views.exit_page, name="exit"),
    path("cases/new/", views.case_create, name="case_create"),
    path("cases/<int:case_id>/", views.case_detail, name="case_detail"),
    path("cases/<int:case_id>/progress/", views.case_progress, name="case_progress"),
    path("cases/<int:case_id>/urls/", views.case_urls_add, name="case_urls_add"),
    path("cases/<int:case_id>/references/", views.case_references_upload, name="case_references_upload"),
    path("cases/<int:case_id>/references/import/", views.case_references_import, name="case_references_import"),
    path("cases/<int:case_id>/erase/", views.case_erase, name="case_erase"),
]
