from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from custodia.core.models import Role, State, User

from .models import ChannelKind, Scope

LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def allowed_scopes(user: User) -> list[tuple[str, str]]:
    if user.role in {Role.NATIONAL_ANALYST, Role.AUDITOR, Role.ADMIN}:
        return Scope.choices
    if user.role == Role.STATE_ANALYST:
        return [(Scope.STATE, Scope.STATE.label)]
    return [(Scope.OWN, Scope.OWN.label)]


class SubscriptionForm(forms.Form):
    channel = forms.ChoiceField(label="Canal", choices=ChannelKind.choices)
    target = forms.CharField(
        label="Destino",
        max_length=500,
        help_text="Un correo electrónico, o una URL https:// que reciba POST.",
    )
    custody_changes = forms.BooleanField(label="Cambios de custodia", required=False, initial=True)
    breaches = forms.BooleanField(label="Plazos legales vencidos", required=False, initial=True)
    scope = forms.ChoiceField(label="Alcance")
    state = forms.ModelChoiceField(
        label="Entidad",
        queryset=State.objects.all(),
        required=False,
        empty_label="— La de mi institución —",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        scope = self.fields["scope"]
        assert isinstance(scope, forms.ChoiceField)
        scope.choices = allowed_scopes(user)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        channel, target = data.get("channel"), (data.get("target") or "").strip()
        if channel == ChannelKind.EMAIL and target:
            try:
                validate_email(target)
            except ValidationError:
                self.add_error("target", "Escriba un correo electrónico válido.")
        elif channel == ChannelKind.WEBHOOK and target:
            url = urlparse(target)
            secure = url.scheme == "https" or (url.scheme == "http" and url.hostname in LOOPBACK)
            if not secure or not url.hostname:
                self.add_error(
                    "target", "La URL debe empezar con https:// (http:// sólo para localhost)."
                )
        if not data.get("custody_changes") and not data.get("breaches"):
            raise ValidationError("Elija al menos un tipo de aviso.")
        if data.get("scope") == Scope.STATE and self.user.role == Role.STATE_ANALYST:
            data["state"] = None  # a state analyst follows only their own state
        data["target"] = target
        return data
