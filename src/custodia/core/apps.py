from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "custodia.core"
    label = "core"
    verbose_name = "Catálogos, instituciones y usuarios"

    def ready(self) -> None:
        from django.core.checks import register

        from .ratelimit import check_rate_settings

        register(check_rate_settings)
