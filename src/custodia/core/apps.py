from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "custodia.core"
    label = "core"
    verbose_name = "Catálogos, instituciones y usuarios"
