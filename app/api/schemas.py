"""Marshmallow schemas: they validate what the routes take in and describe what they give back.

The OpenAPI document (/openapi.json) is generated from these and the route decorators, so the
documentation and the checks cannot drift apart. Dates and times leave the services already as ISO
strings, hence String fields with a documented format.
"""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from models import AttendanceKind, AttendanceMethod, RequestStatus
from models.employee import EMPLOYEE_ID_PATTERN, NAME_MAX_LENGTH


class Text(fields.String):
    """A string, trimmed; blank counts as missing (a required field left empty is missing)."""

    def __init__(self, max_length: int = 200, validate_also=None, **kwargs):
        checks = [validate.Length(max=max_length)] + ([validate_also] if validate_also else [])
        super().__init__(validate=checks, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if "\x00" in text:  # PostgreSQL text cannot hold NUL (found by schemathesis: a 500 there)
            raise ValidationError("must not contain NUL characters.")
        if not text:
            if self.required:
                raise ValidationError(self.error_messages["required"])
            return None
        return text

    def _validate(self, value):
        if value is not None:  # an optional field left blank: nothing to check (found by schemathesis)
            super()._validate(value)


def employee_id(metadata: dict | None = None, **kwargs) -> Text:
    return Text(max_length=64, validate_also=validate.Regexp(
        EMPLOYEE_ID_PATTERN, error="employee_id may hold letters, digits, '.', '_' and '-' (at most 64)."),
        metadata={"example": "EMP-001", **(metadata or {})}, **kwargs)


def iso_string(fmt: str, metadata: dict | None = None, **kwargs) -> fields.String:
    return fields.String(metadata={"format": fmt, **(metadata or {})}, **kwargs)


def enum_field(enum_class, **kwargs) -> fields.Enum:
    return fields.Enum(enum_class, by_value=True, **kwargs)


class Input(Schema):
    class Meta:
        unknown = EXCLUDE  # extra form fields and query parameters are ignored, as before


# --- Shared --------------------------------------------------------------------------------------

class Error(Schema):
    error = fields.String(required=True, metadata={"description": "Stable machine-readable code.", "example": "no_face"})
    message = fields.String(required=True, metadata={"description": "What went wrong, for people."})


class PageQuery(Input):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**9))  # offsets fit 64 bits
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class Page(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


# --- Auth ----------------------------------------------------------------------------------------

class LoginBody(Input):
    username = Text(max_length=64, required=True)
    password = Text(max_length=1024, required=True)


class LogoutBody(Input):
    refresh_token = Text(max_length=4096, metadata={"description": "Also revoke this refresh token."})


class UserOut(Schema):
    id = fields.Integer()
    username = fields.String()
    role = fields.String(metadata={"enum": ["admin", "hr", "employee"]})
    employee_id = fields.String(allow_none=True)


class Tokens(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    user = fields.Nested(UserOut)


class AccessToken(Schema):
    access_token = fields.String()


class Revoked(Schema):
    revoked = fields.Boolean()


class Me(Schema):
    user = fields.Nested(UserOut)


# --- Employees -----------------------------------------------------------------------------------

class RegisterForm(Input):
    employee_id = employee_id(required=True)
    name = Text(max_length=NAME_MAX_LENGTH, required=True)
    password = Text(max_length=1024, metadata={"description": "Gives the employee a login (username = employee_id)."})
    photo = fields.List(Upload(), required=True, metadata={
        "description": "One or more photos (JPEG, PNG or WebP), each showing only this person's face."})


class PhotosForm(Input):
    photo = fields.List(Upload(), required=True, metadata={"description": "One or more photos to add."})


class PhotoCheck(Schema):
    filename = fields.String()
    accepted = fields.Boolean()
    error = fields.String(allow_none=True, metadata={"description": "The code /register would answer with."})
    message = fields.String()


class PhotoChecks(Schema):
    results = fields.List(fields.Nested(PhotoCheck))


class EmployeeQuery(PageQuery):
    q = Text(metadata={"description": "Part of the name or employee id."})
    active = fields.Boolean()


class EmployeeUpdate(Input):
    name = Text(max_length=NAME_MAX_LENGTH)
    active = fields.Boolean(truthy={True}, falsy={False},  # JSON true/false only, not "no"
                            metadata={"description": "false: no login, not matched by /predict."})


class FaceOut(Schema):
    id = fields.Integer()
    model = fields.String()
    image_sha256 = fields.String()
    created_at = iso_string("date-time")


class EmployeeOut(Schema):
    employee_id = fields.String()
    name = fields.String()
    active = fields.Boolean()
    faces = fields.Integer(metadata={"description": "Number of enrolled face templates."})
    login = fields.Boolean(metadata={"description": "Whether the employee can log in."})
    created_at = iso_string("date-time")
    face_list = fields.List(fields.Nested(FaceOut), metadata={"description": "Only on single-employee answers."})


class EmployeeEnvelope(Schema):
    employee = fields.Nested(EmployeeOut)


class EmployeePage(Page):
    items = fields.List(fields.Nested(EmployeeOut))


class ImportForm(Input):
    archive = Upload(required=True, metadata={
        "description": "ZIP: one folder per employee (named by employee id) of photos, optional employees.csv."})


class ImportJobOut(Schema):
    id = fields.String()
    status = fields.String(metadata={"enum": ["queued", "running", "done", "failed"]})
    photos_total = fields.Integer(allow_none=True)
    photos_done = fields.Integer()
    created_at = iso_string("date-time")
    finished_at = iso_string("date-time", allow_none=True)
    error = fields.String(allow_none=True)
    report = fields.Dict(allow_none=True, metadata={
        "description": "Per-photo rows, totals and (once only) generated passwords."})


class ImportJobEnvelope(Schema):
    job = fields.Nested(ImportJobOut)


# --- Attendance ----------------------------------------------------------------------------------

class PredictForm(Input):
    photo = Upload(required=True, metadata={"description": "The selfie (JPEG, PNG or WebP)."})
    employee_id = employee_id(metadata={
        "description": "Who the photo claims to be (1:1). Employees' own tokens imply it; staff tokens "
                       "without it search every enrolled employee (1:N, kiosk mode)."})
    challenge = Text(max_length=1000, metadata={
        "description": "A head-turn challenge from POST /predict/challenge (single use), answered by photo_turned."})
    photo_turned = Upload(metadata={
        "description": "A second photo, with the head turned to the side the challenge asked for."})


class ChallengeOut(Schema):
    challenge = fields.String(metadata={"description": "Send it back with /predict, with photo_turned."})
    turn = fields.String(metadata={"enum": ["left", "right"],
                                   "description": "The side the person turns their head to: their own left or right."})
    expires_in = fields.Integer(metadata={"description": "Seconds the challenge stays valid."})
    required = fields.Boolean(metadata={"description": "Whether this server refuses /predict without a challenge."})


class AttendanceOut(Schema):
    id = fields.Integer()
    employee_id = fields.String()
    kind = fields.String(metadata={"enum": [k.value for k in AttendanceKind]})
    work_date = iso_string("date")
    recorded_at = iso_string("date-time")
    local_time = iso_string("date-time", metadata={"description": "In the site's WORK_TIMEZONE."})
    late = fields.Boolean()
    early_leave = fields.Boolean()
    method = fields.String(metadata={"enum": [m.value for m in AttendanceMethod]})
    similarity = fields.Float(allow_none=True)
    model = fields.String(allow_none=True)
    approved_by = fields.String(allow_none=True)
    duplicate = fields.Boolean(metadata={"description": "Only on /predict: the event was already recorded."})


class PredictOut(Schema):
    match = fields.Boolean()
    mode = fields.String(metadata={"enum": ["verify", "identify"]})
    employee_id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    similarity = fields.Float(allow_none=True, metadata={"description": "Best cosine similarity found."})
    threshold = fields.Float()
    attendance = fields.Nested(AttendanceOut, allow_none=True)


class AttendanceQuery(PageQuery):
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    employee_id = employee_id(metadata={"description": "Staff only; employees see their own records."})
    kind = enum_field(AttendanceKind)
    method = enum_field(AttendanceMethod)
    late = fields.Boolean()


class AttendancePage(Page):
    items = fields.List(fields.Nested(AttendanceOut))


class RangeQuery(Input):
    from_ = fields.Date(data_key="from")
    to = fields.Date(metadata={"description": "Default: today in WORK_TIMEZONE."})


class SummaryQuery(RangeQuery):
    employee_id = employee_id()


class DayOut(Schema):
    date = iso_string("date")
    employee_id = fields.String()
    name = fields.String()
    status = fields.String(metadata={"enum": ["present", "late", "absent", "off"]})
    check_in = fields.String(allow_none=True, metadata={"example": "07:58"})
    check_out = fields.String(allow_none=True, metadata={"example": "17:02"})
    late = fields.Boolean()
    early_leave = fields.Boolean()
    manual = fields.Boolean()


class SummaryOut(Schema):
    from_ = iso_string("date", data_key="from")
    to = iso_string("date")
    days = fields.List(fields.Nested(DayOut))


# --- Manual check-in requests --------------------------------------------------------------------

class RequestForm(Input):
    date = fields.Date(required=True)
    kind = enum_field(AttendanceKind, required=True)
    time = fields.Time(required=True, metadata={"example": "08:05"})
    reason = Text(max_length=1000, required=True)
    photo = Upload(metadata={"description": "Optional evidence photo."})


class RequestQuery(PageQuery):
    status = enum_field(RequestStatus)
    employee_id = employee_id(metadata={"description": "Staff only."})


class DecisionBody(Input):
    comment = Text(max_length=1000)


class RequestOut(Schema):
    id = fields.Integer()
    employee_id = fields.String()
    date = iso_string("date")
    kind = fields.String(metadata={"enum": [k.value for k in AttendanceKind]})
    time = fields.String(metadata={"example": "08:05"})
    reason = fields.String()
    has_photo = fields.Boolean()
    status = fields.String(metadata={"enum": [s.value for s in RequestStatus]})
    decided_by = fields.String(allow_none=True)
    decided_at = iso_string("date-time", allow_none=True)
    comment = fields.String(allow_none=True)
    attendance = fields.Nested(AttendanceOut, allow_none=True)


class RequestEnvelope(Schema):
    request = fields.Nested(RequestOut)


class RequestPage(Page):
    items = fields.List(fields.Nested(RequestOut))


# --- Audit ---------------------------------------------------------------------------------------

class AuditQuery(PageQuery):
    decision = Text(max_length=16, metadata={"enum": ["match", "no_match", "error"]})
    reason = Text(max_length=32, metadata={"description": "E.g. below_threshold, no_face, replayed_photo."})
    employee_id = Text(max_length=64, metadata={"description": "Claimed or matched employee."})
    from_ = fields.Date(data_key="from", metadata={"description": "UTC date."})
    to = fields.Date(metadata={"description": "UTC date."})


class AttemptOut(Schema):
    id = fields.Integer()
    attempted_at = iso_string("date-time")
    caller = fields.String(allow_none=True)
    claimed_employee_id = fields.String(allow_none=True)
    matched_employee_id = fields.String(allow_none=True)
    similarity = fields.Float(allow_none=True)
    decision = fields.String()
    reason = fields.String(allow_none=True)
    client_address = fields.String(allow_none=True)
    photo_sha256 = fields.String(allow_none=True)
    photo_kept = fields.Boolean()


class AttemptPage(Page):
    items = fields.List(fields.Nested(AttemptOut))


# --- Webhooks ------------------------------------------------------------------------------------

class WebhookBody(Input):
    url = Text(max_length=2048, required=True)
    events = fields.List(Text(max_length=64, required=True), required=True, metadata={"example": ["attendance.recorded"]})
    secret = Text(max_length=128, metadata={
        "description": "HMAC-SHA256 key for the X-Absen-Signature header; generated if absent."})


class WebhookOut(Schema):
    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String())
    active = fields.Boolean()
    created_at = iso_string("date-time")
    secret = fields.String(metadata={"description": "Only in the answer that creates the webhook."})


class WebhookEnvelope(Schema):
    webhook = fields.Nested(WebhookOut)


class WebhookList(Schema):
    items = fields.List(fields.Nested(WebhookOut))


class DeliveryOut(Schema):
    id = fields.Integer()
    event = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    next_attempt_at = iso_string("date-time")


class DeliveryPage(Page):
    items = fields.List(fields.Nested(DeliveryOut))


# --- Health --------------------------------------------------------------------------------------

class ModelOut(Schema):
    name = fields.String()
    embedding_dim = fields.Integer()
    threshold = fields.Float()


class HealthOut(Schema):
    status = fields.String()
    model = fields.Nested(ModelOut)
    employees = fields.Integer()
