"""The OpenAPI document is generated from the code: every route, its fields, auth and error codes."""

from __future__ import annotations

import io
import re
from pathlib import Path

from openapi_spec_validator import validate

from app.errors import ERROR_CODES
from tests.api.test_auth import assert_error
from tests.photos import astronaut, encode, two_astronauts

APP = Path(__file__).resolve().parents[2] / "app"
PUBLIC = {("/login", "post"), ("/health", "get")}
NOT_API = {"static", "pages", "api-docs"}


def spec_of(client) -> dict:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:  # not the path-level "parameters"
                yield path, method, operation


def test_the_document_is_valid_openapi_3(client):
    spec = spec_of(client)
    validate(spec)
    assert spec["openapi"].startswith("3.0") and spec["info"]["title"] == "Absen"


def test_every_route_of_the_app_is_documented(app, client):
    documented = {(path, method) for path, method, _ in operations(spec_of(client))}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in NOT_API:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {path} is missing from /openapi.json"


def test_auth_and_roles_are_declared(client):
    for path, method, operation in operations(spec_of(client)):
        if (path, method) in PUBLIC:
            assert "security" not in operation, path
            continue
        assert operation["security"] == [{"bearerAuth": []}], f"{method} {path}"
        assert "401" in operation["responses"], f"{method} {path}"
        assert "**Auth:**" in operation["description"], f"{method} {path}"
        if "Roles:" in operation["description"]:
            assert "403" in operation["responses"], f"{method} {path}"


def test_error_answers_list_known_codes_with_the_error_shape(client):
    spec = spec_of(client)
    assert set(spec["components"]["schemas"]["Error"]["required"]) == {"error", "message"}
    for path, method, operation in operations(spec):
        for status, answer in operation["responses"].items():
            if status == "default" or int(status) < 400:
                continue
            assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
            codes = re.findall(r"`(\w+)`", answer["description"])
            assert codes, f"{method} {path} {status} names no error code"
            assert all(ERROR_CODES[c][0] == int(status) for c in codes), f"{method} {path} {status}: {codes}"


def test_every_error_code_the_code_raises_is_in_the_catalogue():
    source = "\n".join(p.read_text() for p in APP.rglob("*.py"))
    raised = set(re.findall(r'APIError\(\s*"(\w+)"', source)) | set(re.findall(r'error_response\("(\w+)"', source))
    raised |= {"unauthorized", "no_face", "multiple_faces", "face_too_small", "invalid_image", "file_too_large"}
    assert raised - set(ERROR_CODES) == set()


def test_fields_and_their_rules_are_described(client):
    schemas = spec_of(client)["components"]["schemas"]
    register = schemas["RegisterForm"]
    assert set(register["required"]) == {"employee_id", "name", "photo"}
    assert register["properties"]["employee_id"]["maxLength"] == 64 and "pattern" in register["properties"]["employee_id"]
    assert register["properties"]["photo"]["items"] == {"type": "string", "format": "binary"}
    predict = spec_of(client)["paths"]["/predict"]["post"]
    assert "multipart/form-data" in predict["requestBody"]["content"]
    assert set(schemas["PredictOut"]["properties"]) >= {"match", "employee_id", "similarity", "threshold", "attendance"}
    query = {p["name"]: p for p in spec_of(client)["paths"]["/employees"]["get"]["parameters"]}
    assert query["per_page"]["in"] == "query" and query["per_page"]["schema"]["maximum"] == 200


def test_swagger_ui_is_served_without_a_cdn(client):
    page = client.get("/docs")
    assert page.status_code == 200 and b"/docs/assets/swagger-ui-bundle.js" in page.data
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_photo_check_answers_per_photo_and_stores_nothing(api):
    photos = [("photo", (encode(astronaut()), "face.jpg")), ("photo", (encode(two_astronauts()), "group.jpg")),
              ("photo", (b"plain text", "notes.jpg"))]
    response = api.client.post("/register/check", headers=api.hr(), content_type="multipart/form-data",
                               data={"photo": [(io.BytesIO(d), n) for _, (d, n) in photos]})
    assert response.status_code == 200, response.json
    assert [(r["filename"], r["accepted"], r["error"]) for r in response.json["results"]] == [
        ("face.jpg", True, None), ("group.jpg", False, "multiple_faces"), ("notes.jpg", False, "unsupported_media_type")]
    assert api.client.get("/employees", headers=api.hr()).json["total"] == 0
    assert_error(api.client.post("/register/check", headers=api.hr()), 400, "missing_file")
