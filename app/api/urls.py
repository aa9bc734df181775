from django.urls import path, re_path

from app.api import http, views

app_name = "api"

urlpatterns = [
    path("cases/", views.cases, name="cases"),
    path("cases/<int:case_id>/", views.case, name="case_detail"),
    path("cases/<int:case_id>/urls/", views.case_urls, name="case_urls"),
    path(
        "cases/<int:case_id>/references/hashes/", views.case_references_hashes, name="case_references_hashes"
    ),
    # Anything else under the API answers 404 in JSON rather than with an HTML page.
    re_path(r"^.*$", http.not_found),
]
