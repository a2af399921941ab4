from django.apps import AppConfig


class IntimacyConfig(AppConfig):
    name = "intimacy"
    verbose_name = "Homework"

    def ready(self) -> None:
        from intimacy import trend_parts
        from intimacy.audit import register_clinical_models

        register_clinical_models()
        trend_parts.connect()
