from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "custodia.registry"
    label = "registry"
    verbose_name = "Registro Nacional de Detenciones"
