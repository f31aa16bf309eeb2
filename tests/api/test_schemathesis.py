"""Schemathesis generates requests from /openapi.json for every operation (valid and invalid ones)
and sends them to the app: no answer may be a server error, and every answer must match what the
document says (status, content type, body schema)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from config import TestingConfig
from tests.conftest import app_with_users

EXAMPLES = int(os.environ.get("ABSEN_SCHEMATHESIS_EXAMPLES", "100"))  # per operation: ~3,000 requests, 2 min


@pytest.fixture
def app(engine, tmp_path):
    """A database file on SQLite: generated imports run in background threads, and in-memory SQLite is one
    connection shared by every thread, so a failing job's rollback could undo a request's insert (a
    schemathesis run hit that: a 500 that a server on a database file or on PostgreSQL cannot have)."""
    file_database = {} if TestingConfig.SQLALCHEMY_DATABASE_URI.startswith("postgresql") else {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'schemathesis.db'}"}
    yield from app_with_users(engine, tmp_path, **file_database)


def test_generated_requests_get_documented_answers_and_no_server_error(app, api):
    # Schemathesis' own pytest plugin does not run under pytest 9 yet, so the operations are driven here.
    app.config["PREDICT_TOKEN_LIMIT"] = app.config["LOGIN_ADDRESS_LIMIT"] = "1000000 per minute"
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    staff = api.hr()
    tested, statuses = [], {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def one_request(case):
            if case.path in ("/login", "/health"):
                headers = None
            elif case.path in ("/logout", "/refresh"):  # they spend the token they are given
                headers = api.hr()
            else:
                headers = staff
            response = case.call_and_validate(headers=headers, checks=[
                not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance])
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        one_request()
        tested.append(operation.label)
    print(f"\nschemathesis: {len(tested)} operations, {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}")
    assert len(tested) >= 30, tested
    assert any(200 <= s < 300 for s in statuses) and any(400 <= s < 500 for s in statuses)
