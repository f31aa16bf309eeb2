"""SQLAlchemy 2.0 typed models. `db` is the Flask-SQLAlchemy handle bound by the app factory."""

from datetime import datetime, timezone

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints, so that future migrations can refer to them (SQLite needs names too).
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


db = SQLAlchemy(model_class=Base)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


from .attendance import Attendance, AttendanceKind, AttendanceMethod, AttendanceRequest, RequestStatus  # noqa: E402
from .audit import VerificationAttempt  # noqa: E402
from .employee import Employee  # noqa: E402
from .face_template import FaceTemplate, GalleryChange, GalleryVersion  # noqa: E402
from .import_job import ImportJob  # noqa: E402
from .token import RevokedToken  # noqa: E402
from .user import Role, User  # noqa: E402
from .webhook import Webhook, WebhookDelivery  # noqa: E402

__all__ = [
    "Attendance", "AttendanceKind", "AttendanceMethod", "AttendanceRequest", "Base", "Employee", "FaceTemplate",
    "GalleryChange", "GalleryVersion", "ImportJob", "RequestStatus", "RevokedToken", "Role", "User", "VerificationAttempt", "Webhook",
    "WebhookDelivery", "db", "utcnow",
]
