from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People and couples"

    def ready(self) -> None:
        from accounts import drafts, middleware  # noqa: F401 - connect the session and deletion signals
