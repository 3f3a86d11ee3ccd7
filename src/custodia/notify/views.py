"""Institutions subscribe to notifications of breaches and custody changes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from custodia.core import access
from custodia.core.models import User

from .forms import SubscriptionForm
from .models import Delivery, Subscription


@login_required
@require_http_methods(["GET", "POST"])
def subscriptions(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not access.can_manage_subscriptions(user) or user.institution is None:
        return render(
            request,
            "core/forbidden.html",
            {"message": "Su rol no administra las notificaciones de su institución."},
            status=403,
        )
    institution = user.institution
    created = None
    form = SubscriptionForm(user=user)
    if request.method == "POST" and "deactivate" in request.POST:
        key = request.POST.get("deactivate", "")
        if key.isdigit() and len(key) < 19:
            Subscription.objects.filter(pk=int(key), institution=institution).update(active=False)
            messages.success(request, "Suscripción desactivada.")
        return redirect("notify:subscriptions")
    if request.method == "POST":
        form = SubscriptionForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            created = Subscription.objects.create(
                institution=institution,
                channel=data["channel"],
                target=data["target"],
                custody_changes=data["custody_changes"],
                breaches=data["breaches"],
                scope=data["scope"],
                state=data.get("state"),
                created_by=user,
            )
            form = SubscriptionForm(user=user)
    items = Subscription.objects.filter(institution=institution).order_by("-active", "-created_at")
    recent = (
        Delivery.objects.filter(subscription__institution=institution)
        .select_related("message", "subscription")
        .order_by("-next_attempt_at")[:20]
    )
    return render(
        request,
        "notify/subscriptions.html",
        {
            "form": form,
            "subscriptions": items,
            "created": created,
            "recent": recent,
            "institution": institution,
        },
        status=422 if request.method == "POST" and form.errors else 200,
    )
