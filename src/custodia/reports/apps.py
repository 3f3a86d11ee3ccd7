from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "custodia.reports"
    label = "reports"
    verbose_name = "Informes mensuales y calidad de los datos"
