from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "custodia.ledger"
    label = "ledger"
    verbose_name = "Libro de registro verificable"
