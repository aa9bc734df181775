from django.apps import AppConfig


class PlatformsConfig(AppConfig):
    name = "app.platforms"
    label = "platforms"
