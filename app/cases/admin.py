from django.contrib import admin

from app.cases.models import Case, Reference, ReportedUrl


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["alias", "organization", "jurisdiction", "status", "created_at"]
    list_filter = ["organization", "status", "jurisdiction"]
    exclude = ["real_name", "contact", "authorisation_letter"]


@admin.register(ReportedUrl)
class ReportedUrlAdmin(admin.ModelAdmin):
    list_display = ["normalized_url", "case", "state", "updated_at"]
    list_filter = ["state"]


@admin.register(Reference)
class ReferenceAdmin(admin.ModelAdmin):
    list_display = ["id", "case", "source", "pdq_quality", "created_at"]
    exclude = ["original", "fingerprint"]
