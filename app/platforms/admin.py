from django.contrib import admin

from app.platforms.models import Channel, Hotline, Platform, RdapCache, Regime


class ChannelInline(admin.TabularInline):
    model = Channel
    extra = 0


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "verified_on", "data_version"]
    search_fields = ["name", "slug"]
    inlines = [ChannelInline]

    def save_model(self, request, obj, form, change):
        # An edit made here is a local correction: keep it through later data-file updates.
        if change:
            obj.local_edits = sorted({*obj.local_edits, *form.changed_data} - {"local_edits"})
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.has_changed():
            form.instance.local_edits = sorted({*form.instance.local_edits, "channels"})
            form.instance.save(update_fields=["local_edits"])


@admin.register(Regime)
class RegimeAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "verified_on"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.local_edits = sorted({*obj.local_edits, *form.changed_data} - {"local_edits"})
        super().save_model(request, obj, form, change)


@admin.register(RdapCache)
class RdapCacheAdmin(admin.ModelAdmin):
    list_display = ["kind", "key", "ok", "abuse_email", "fetched_at"]


@admin.register(Hotline)
class HotlineAdmin(admin.ModelAdmin):
    """Where minors' cases are reported; an NGO corrects a contact here without a code change."""

    list_display = ["name_en", "country", "kind", "url_or_phone", "confirmed", "verified_on"]
    list_filter = ["country", "kind"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.local_edits = sorted({*obj.local_edits, *form.changed_data} - {"local_edits"})
        super().save_model(request, obj, form, change)
