from django.apps import AppConfig


class ConferenceConfig(AppConfig):
    name = "custodia.conference"
    label = "conference"
    verbose_name = "Conferencia: sesiones, acuerdos, mesas de trabajo y seguimiento"

    def ready(self) -> None:
        from custodia.ledger import records

        from . import evidence

        records.register(evidence.check_revisions)
