from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from . import access


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_can_register": access.can_register_detention(user),
        "nav_can_read": access.can_read_detentions(user),
        "nav_search": access.can_search_people(user),
        "nav_can_admin": access.can_administer(user),
        "nav_inbox": user.role in {"receiving", "supervisor"},
        "nav_alerts": access.can_see_alerts(user),
        "nav_audit": user.role in {"auditor", "national_analyst"},
        "nav_access_log": user.role == "auditor",
        "nav_subscriptions": access.can_manage_subscriptions(user),
        "nav_reports": access.can_read_reports(user),
        "nav_conference": access.can_read_conference(user),
    }
