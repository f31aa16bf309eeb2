"""Browser pages: the door kiosk (/kiosk), HR's enrolment form (/enrol) and Swagger UI's files (/docs).

Plain HTML, CSS and JavaScript served by Flask: nothing to build. The pages call the JSON API with the
same tokens as any client; they hold no logic of their own beyond showing the answers.
"""

from __future__ import annotations

import swagger_ui_bundle
from flask import Blueprint, render_template, send_from_directory

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/static/pages")

# Only this origin's scripts; the camera's frames stay in blob:/data: URLs.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
                           "style-src 'self'; script-src 'self'; "
                           "frame-ancestors 'none'")


@bp.after_request
def protect(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


@bp.get("/kiosk")
def kiosk():
    return render_template("kiosk.html")


@bp.get("/enrol")
def enrol():
    return render_template("enrol.html")


@bp.get("/docs/assets/<path:filename>")
def swagger_assets(filename: str):
    """Swagger UI's scripts from the swagger-ui-bundle package, so /docs works on offline sites."""
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)
