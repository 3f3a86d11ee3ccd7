from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from . import access
from .models import ApiToken, User


class SpanishAuthenticationForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "Usuario o contraseña incorrectos. Revise mayúsculas y minúsculas.",
        "inactive": "Esta cuenta está desactivada.",
    }


class CustodiaLoginView(LoginView):
    template_name = "core/login.html"
    authentication_form = SpanishAuthenticationForm
    redirect_authenticated_user = True


class CustodiaLogoutView(LogoutView):
    pass


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if access.can_register_detention(user):
        return redirect("registry:capture")
    if access.can_read_detentions(user):
        return redirect("registry:list")
    if access.can_administer(user):
        return redirect("admin:index")
    return render(request, "core/home.html")


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """A user's own API tokens: create one (shown once) or revoke one."""
    user: User = request.user  # type: ignore[assignment]
    new_token = None
    if request.method == "POST":
        if "revoke" in request.POST:
            token_id = request.POST.get("revoke", "").strip()
            revoked = 0
            if token_id.isdigit() and len(token_id) < 19:
                revoked = ApiToken.objects.filter(
                    user=user, pk=int(token_id), revoked_at__isnull=True
                ).update(revoked_at=timezone.now())
            if revoked:
                messages.success(request, "Token revocado.")
            else:
                messages.error(request, "No se encontró ese token.")
            return redirect("core:tokens")
        name = " ".join(request.POST.get("name", "").split())[:100]
        _, new_token = ApiToken.issue(user, name=name)
    return render(
        request,
        "core/tokens.html",
        {"tokens": user.api_tokens.all(), "new_token": new_token},
    )
