from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "custodia.notify"
    label = "notify"
    verbose_name = "Notificaciones"
