from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from .models import AccessLog, ApiToken, Institution, Municipality, State, User


@admin.register(State)
class StateAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "abbreviation", "zone", "timezone")
    list_filter = ("zone", "timezone")
    search_fields = ("code", "name")


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "state", "is_capital", "timezone")
    list_filter = ("state", "is_capital")
    search_fields = ("code", "name")
    list_select_related = ("state",)


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "state", "active", "operating_since", "operating_until")
    list_filter = ("kind", "state", "active")
    search_fields = ("code", "name")
    autocomplete_fields = ("municipality",)
    list_select_related = ("state",)


@admin.register(User)
class CustodiaUserAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "institution", "is_active")
    list_filter = ("role", "is_active", "institution__kind")
    list_select_related = ("institution",)
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("Rol y adscripción", {"fields": ("role", "institution")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        ("Rol y adscripción", {"fields": ("role", "institution")}),
    )


@admin.action(description="Revocar los tokens seleccionados")
def revoke_tokens(modeladmin: Any, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
    count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    modeladmin.message_user(request, f"{count} token(s) revocado(s).", messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("hint", "name", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("user__username", "name", "hint")
    readonly_fields = ("user", "name", "hint", "created_at", "last_used_at", "revoked_at")
    actions = [revoke_tokens]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are shown once at creation: `custodia token create` or the web page


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ("at", "username", "role", "institution_code", "channel", "action", "folio")
    list_filter = ("channel", "action", "role")
    search_fields = ("username", "folio", "institution_code")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
