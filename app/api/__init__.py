"""HTTP layer: one blueprint per resource. Views parse and validate, then call one service."""

from __future__ import annotations

import re

from flask import Flask, request

from ..errors import APIError

EMPLOYEE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def register_blueprints(app: Flask) -> None:
    from . import attendance, auth, employees, health

    for module in (auth, employees, attendance, health):
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
