from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "app.tracking"
    label = "tracking"
