"""HTTP layer: one blueprint per resource. Views parse and validate, then call one service."""

from __future__ import annotations

from datetime import date

from flask import Flask, request

from models.employee import EMPLOYEE_ID_PATTERN

from ..errors import APIError


def register_blueprints(app: Flask) -> None:
    from . import attendance, audit, auth, employees, health, requests, webhooks

    for module in (auth, employees, attendance, requests, audit, webhooks, health):
        app.register_blueprint(module.bp)


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise APIError("invalid_json", "The request body must be a JSON object.", 400)
    return body


def string_field(source: dict, name: str, *, required: bool = True, max_length: int = 200) -> str | None:
    """A trimmed string field from a JSON body or a form, or a 400 saying what is wrong."""
    value = source.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise APIError("missing_field", f"The field {name!r} is required.", 400)
        return None
    if not isinstance(value, str):
        raise APIError("invalid_field", f"The field {name!r} must be a string.", 400)
    value = value.strip()
    if len(value) > max_length:
        raise APIError("invalid_field", f"The field {name!r} is longer than {max_length} characters.", 400)
    return value


def employee_id_field(source: dict, *, required: bool = True) -> str | None:
    value = string_field(source, "employee_id", required=required, max_length=64)
    if value is not None and not EMPLOYEE_ID_PATTERN.match(value):
        raise APIError("invalid_field", "employee_id may hold letters, digits, '.', '_' and '-' (at most 64).", 400)
    return value


def date_arg(name: str, source: dict | None = None) -> date | None:
    value = (request.args if source is None else source).get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise APIError("invalid_field", f"{name} must be a date like 2026-11-23.", 400) from None


def bool_arg(name: str) -> bool | None:
    value = request.args.get(name, "").lower()
    if value == "":
        return None
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise APIError("invalid_field", f"{name} must be true or false.", 400)


def page_args(max_per_page: int = 200) -> tuple[int, int]:
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", 50))
    except ValueError:
        raise APIError("invalid_field", "page and per_page must be whole numbers.", 400) from None
    if page < 1 or not 1 <= per_page <= max_per_page:
        raise APIError("invalid_field", f"page must be >= 1 and per_page between 1 and {max_per_page}.", 400)
    return page, per_page


def enum_arg(name: str, enum_class, source: dict | None = None):
    value = (request.args if source is None else source).get(name)
    if value in (None, ""):
        return None
    try:
        return enum_class(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_class)
        raise APIError("invalid_field", f"{name} must be one of {allowed}.", 400) from None
