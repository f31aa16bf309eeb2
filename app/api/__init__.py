"""HTTP layer: one blueprint per resource. Each route declares its input schema (validated by webargs
before the view runs), its answer schema, who may call it and its error codes; the view calls one service."""

from __future__ import annotations

import inspect
from collections import defaultdict

import flask_smorest
from flask import Flask
from flask_jwt_extended import jwt_required
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict

from models import Role

from ..errors import ERROR_CODES, APIError
from ..security import roles_required
from .schemas import Error

BEARER = "bearerAuth"


class Parser(FlaskParser):
    # 400 like every other input error (webargs' default is 422, which here means "no usable face").
    DEFAULT_VALIDATION_STATUS = 400
    __location_map__ = {**FlaskParser.__location_map__, "form_and_files": "load_form_and_files"}

    def load_json(self, req, schema):
        # webargs reads a non-JSON body as "no body"; say what is wrong instead of "field missing".
        if req.content_length and not req.is_json:
            raise APIError("invalid_json", "The request body must be a JSON object (Content-Type: application/json).", 400)
        return super().load_json(req, schema)

    def load_form_and_files(self, req, schema):
        """Multipart fields and files together: one schema documents and checks the whole form.
        A JSON body is read as the same fields (for routes whose files are optional)."""
        if req.is_json:
            return super().load_json(req, schema)
        data = MultiDict(req.form)
        data.update(req.files)
        return MultiDictProxy(data, schema)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's blueprint, plus the two things every route here declares: who may call it
    and which error codes it answers with. Both go into the OpenAPI document."""

    ARGUMENTS_PARSER = Parser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "form_and_files": "multipart/form-data",
    }

    def requires(self, *roles: Role, refresh: bool = False, any_token: bool = False):
        """A valid token (a refresh token if `refresh`, either kind if `any_token`), of one of `roles` if given."""

        def decorator(view):
            if roles:
                guarded = roles_required(*roles)(view)
                who = "Roles: " + ", ".join(r.value for r in roles) + "."
            else:
                guarded = jwt_required(refresh=refresh, verify_type=not any_token)(view)
                who = "A refresh token." if refresh else "Any logged-in user." if not any_token else "Any token."
            guarded = self.doc(security=[{BEARER: []}], description=_join(view.__doc__, f"**Auth:** {who}"))(guarded)
            return self.errors("unauthorized", *(["forbidden"] if roles else []))(guarded)

        return decorator

    def errors(self, *codes: str):
        """Document the error answers a route can give, grouped by status, from app.errors.ERROR_CODES."""
        by_status: dict[int, list[str]] = defaultdict(list)
        for code in codes:
            by_status[ERROR_CODES[code][0]].append(code)

        def decorator(view):
            for status, grouped in by_status.items():
                view = self._add_error_doc(view, status, grouped)
            return view

        return decorator

    def _add_error_doc(self, view, status: int, codes: list[str]):
        # flask-smorest keeps one description per status (the outermost wins), so one call must say them all.
        if status in getattr(view, "_apidoc", {}).get("response", {}).get("responses", {}):
            raise ValueError(f"{view.__name__}: the {status} error codes must be documented in one errors() call.")
        text = "\n".join(f"- `{c}`: {ERROR_CODES[c][1]}" for c in codes)
        return self.alt_response(status, schema=Error, description=text)(view)


class Api(flask_smorest.Api):
    ERROR_SCHEMA = Error  # our {"error", "message"} shape, for the documented default error answer


def _join(*parts: str | None) -> str:
    return "\n\n".join(inspect.cleandoc(p) for p in parts if p)  # cleandoc: docstrings' indent is not Markdown


def register_blueprints(app: Flask) -> None:
    from . import attendance, audit, auth, employees, health, requests, webhooks

    api = Api(app, spec_kwargs={"components": {"securitySchemes": {
        BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                 "description": "The access_token from POST /login (refresh routes take the refresh_token)."}}}})
    for module in (auth, employees, attendance, requests, audit, webhooks, health):
        api.register_blueprint(module.bp)
    app.extensions["absen_api"] = api

    from ..pages import bp as pages  # HTML pages: not part of the JSON API or its document

    app.register_blueprint(pages)
