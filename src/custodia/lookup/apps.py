from django.apps import AppConfig


class LookupConfig(AppConfig):
    name = "custodia.lookup"
    label = "lookup"
    verbose_name = "Consulta y búsqueda de personas"
