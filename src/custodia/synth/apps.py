from django.apps import AppConfig


class SynthConfig(AppConfig):
    name = "custodia.synth"
    verbose_name = "Nación sintética"
