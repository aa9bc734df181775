from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FetchingConfig(AppConfig):
    name = "app.fetching"
    label = "fetching"
    verbose_name = _("Fetching and evidence")
