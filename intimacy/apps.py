from django.apps import AppConfig


class IntimacyConfig(AppConfig):
    name = "intimacy"
    verbose_name = "Homework"

    def ready(self) -> None:
        from intimacy.audit import register_clinical_models

        register_clinical_models()
