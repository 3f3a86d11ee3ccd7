"""Form fields for the capture page: label, input, hint and errors, tied for screen readers."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def _dom_id(name: str) -> str:
    return "f-" + name.replace(".", "-").replace("[", "-").replace("]", "")


def _field(context: Any, name: str, label: str, **options: Any) -> dict[str, Any]:
    values = context.get("values") or {}
    errors = (context.get("errors") or {}).get(name, [])
    return {
        "name": name,
        "id": _dom_id(name),
        "label": label,
        "value": values.get(name, options.get("default", "")),
        "errors": errors,
        **options,
    }


@register.inclusion_tag("registry/_input.html", takes_context=True)
def input_field(context: Any, name: str, label: str, **options: Any) -> dict[str, Any]:
    options.setdefault("type", "text")
    return _field(context, name, label, **options)


@register.inclusion_tag("registry/_select.html", takes_context=True)
def select_field(
    context: Any, name: str, label: str, choices: Any, **options: Any
) -> dict[str, Any]:
    return _field(context, name, label, choices=list(choices), **options)


@register.filter
def lookup(mapping: dict[str, Any], key: str) -> Any:
    return (mapping or {}).get(key)
