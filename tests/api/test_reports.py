"""History, daily summary and CSV export: one late employee, one manual one, a day of attendance."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
import time_machine

from models import Attendance, AttendanceKind, Employee, db
from tests.api.test_auth import assert_error
from tests.api.workday import at, post_at, selfie


@pytest.fixture
def day(api, people):
    """E1 checks in late by face and leaves at 17:05; E2's camera fails, HR approves a manual check-in."""
    post_at(api, at(8, 20), people["E1"], selfie(1))
    post_at(api, at(17, 5), people["E1"], selfie(2))
    with time_machine.travel(at(9), tick=False):
        filed = api.client.post("/attendance/requests", headers=people["E2"],
                                json={"date": "2026-11-23", "kind": "check_in", "time": "07:55", "reason": "no camera"})
        api.client.post(f"/attendance/requests/{filed.json['request']['id']}/approve", headers=people["hr"])
    with time_machine.travel(at(18), tick=False):
        yield


def test_history_lists_records_newest_first_with_filters(api, people, day):
    everything = api.client.get("/attendance", headers=people["hr"]).json
    assert [(i["employee_id"], i["kind"], i["method"]) for i in everything["items"]] == [
        ("E1", "check_out", "face"), ("E1", "check_in", "face"), ("E2", "check_in", "manual")]
    assert everything["total"] == 3
    late = api.client.get("/attendance?late=true", headers=people["hr"]).json["items"]
    assert [(i["employee_id"], i["late"]) for i in late] == [("E1", True)]
    manual = api.client.get("/attendance?method=manual&employee_id=E2", headers=people["hr"]).json["items"]
    assert [i["approved_by"] for i in manual] == ["hr.officer"]
    page = api.client.get("/attendance?per_page=2&page=2", headers=people["hr"]).json
    assert len(page["items"]) == 1 and page["total"] == 3
    assert api.client.get("/attendance?from=2026-11-24", headers=people["hr"]).json["total"] == 0


def test_an_employee_sees_only_their_own_history(api, people, day):
    own = api.client.get("/attendance", headers=people["E2"]).json
    assert {i["employee_id"] for i in own["items"]} == {"E2"}
    assert_error(api.client.get("/attendance?employee_id=E1", headers=people["E2"]), 403, "forbidden")


@pytest.mark.parametrize("query", ["from=yesterday", "late=maybe", "kind=lunch", "page=0", "per_page=1000"])
def test_bad_history_queries_are_400(api, people, query):
    with time_machine.travel(at(9), tick=False):
        assert_error(api.client.get(f"/attendance?{query}", headers=people["hr"]), 400, "invalid_field")


def test_daily_summary_marks_late_manual_and_absent(api, people, day):
    with time_machine.travel(at(9) + timedelta(days=1), tick=False):  # Tuesday: nobody came
        summary = api.client.get("/attendance/summary?from=2026-11-23&to=2026-11-24", headers=people["hr"]).json
    rows = {(d["date"], d["employee_id"]): d for d in summary["days"]}
    e1 = rows[("2026-11-23", "E1")]
    assert (e1["status"], e1["check_in"], e1["check_out"], e1["late"], e1["manual"]) == ("late", "08:20", "17:05", True, False)
    e2 = rows[("2026-11-23", "E2")]
    assert (e2["status"], e2["check_in"], e2["manual"]) == ("present", "07:55", True)
    assert rows[("2026-11-24", "E1")]["status"] == "absent"
    assert api.client.get("/attendance/summary?from=2026-11-28&to=2026-11-28",
                          headers=people["hr"]).json["days"][0]["status"] == "off"  # a Saturday
    assert_error(api.client.get("/attendance/summary", headers=people["E1"]), 403, "forbidden")


def test_csv_export_of_the_day(api, people, day):
    response = api.client.get("/attendance/export.csv?from=2026-11-23&to=2026-11-23", headers=people["hr"])
    assert response.status_code == 200 and response.is_streamed and response.mimetype == "text/csv"
    assert "attendance_2026-11-23_2026-11-23.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["employee_id"], r["kind"], r["local_time"], r["late"], r["method"], r["approved_by"]) for r in rows] == [
        ("E2", "check_in", "2026-11-23 07:55:00", "no", "manual", "hr.officer"),
        ("E1", "check_in", "2026-11-23 08:20:00", "yes", "face", ""),
        ("E1", "check_out", "2026-11-23 17:05:00", "no", "face", ""),
    ]


def test_csv_export_streams_thousands_of_rows(app, api, people):
    with app.app_context():
        employee = db.session.query(Employee).filter_by(employee_id="E1").one()
        start = at(8)
        db.session.add_all(
            Attendance(employee=employee, kind=AttendanceKind.CHECK_IN, work_date=date(2026, 11, 23),
                       recorded_at=start + timedelta(seconds=n), similarity=0.95, model="dlib-resnet-v1")
            for n in range(3000)
        )
        db.session.commit()
    with time_machine.travel(at(18), tick=False):
        response = api.client.get("/attendance/export.csv?from=2026-11-23&to=2026-11-23", headers=people["hr"])
    lines = response.get_data(as_text=True).splitlines()
    assert len(lines) == 3001 and lines[0].startswith("date,employee_id,name,kind")
    assert lines[-1].split(",")[4] == "2026-11-23 08:49:59"


def test_export_range_is_bounded(app, api, people):
    with time_machine.travel(at(9), tick=False):
        assert_error(api.client.get("/attendance/export.csv?from=2020-01-01&to=2026-11-23", headers=people["hr"]),
                     400, "invalid_field")
        assert_error(api.client.get("/attendance/export.csv?from=2026-11-24&to=2026-11-23", headers=people["hr"]),
                     400, "invalid_field")


def test_an_absurd_page_number_is_400_not_an_overflow(api):
    """Found by schemathesis: page=10**20 overflowed the database's OFFSET (a 500)."""
    response = api.client.get(f"/attendance?page={10**20}", headers=api.hr())
    assert response.status_code == 400 and response.json["error"] == "invalid_field"
