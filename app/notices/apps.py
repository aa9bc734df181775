from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "app.notices"
    label = "notices"
