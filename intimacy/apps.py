from django.apps import AppConfig


class IntimacyConfig(AppConfig):
    name = "intimacy"
    verbose_name = "Homework"
