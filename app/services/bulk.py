"""Bulk enrolment: a whole office from a folder (CLI) or a ZIP archive (API), in one go.

Layout, for both: one folder per employee, named by the employee id, holding that person's
photos; optionally `employees.csv` at the top with columns `employee_id,name,password`
(password empty for no login, or `generate` for a random one, shown once in the report).

Photos are embedded in batches. Each employee is written in a transaction of their own:
an employee whose photos all fail is not created at all. Re-running skips photos already
enrolled for that employee (by SHA-256 of their bytes), so an interrupted run resumes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import secrets
import socket
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from embeddings import FaceEmbedding
from models import Employee, FaceTemplate, ImportJob, Role, User, db, utcnow
from models.employee import EMPLOYEE_ID_PATTERN, NAME_MAX_LENGTH

from ..errors import APIError
from ..face import FaceService, bump_gallery_version
from ..uploads import check_photo, has_photo_extension
from .auth import check_password, hash_password

log = logging.getLogger(__name__)

ROSTER = "employees.csv"


@dataclass
class PhotoSource:
    name: str  # as shown in the report: "<employee_id>/<file>"
    read: Callable[[], bytes]  # at most MAX_PHOTO_BYTES + 1 bytes: check_photo judges the size


@dataclass
class EmployeeSource:
    employee_id: str
    name: str
    password: str | None  # None: no login; "generate": a random one
    photos: list[PhotoSource] = field(default_factory=list)


@dataclass
class ReportRow:
    employee_id: str
    photo: str
    status: str  # enrolled | skipped | refused
    reason: str = ""

    def as_dict(self) -> dict:
        return {"employee_id": self.employee_id, "photo": self.photo, "status": self.status, "reason": self.reason}


@dataclass
class BulkReport:
    rows: list[ReportRow] = field(default_factory=list)
    employees_created: int = 0
    generated_passwords: dict[str, str] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    def summary(self) -> dict:
        return {"employees_created": self.employees_created, "photos_enrolled": self.count("enrolled"),
                "photos_skipped": self.count("skipped"), "photos_refused": self.count("refused")}

    def as_dict(self) -> dict:
        return {**self.summary(), "generated_passwords": self.generated_passwords,
                "rows": [row.as_dict() for row in self.rows]}

    def write(self, path: Path) -> None:
        if path.suffix.lower() == ".json":
            path.write_text(json.dumps(self.as_dict(), indent=2))
            return
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["employee_id", "photo", "status", "reason"])
            writer.writeheader()
            writer.writerows(row.as_dict() for row in self.rows)


def enroll(sources: Iterable[EmployeeSource], face: FaceService, batch_size: int = 16,
           on_photo: Callable[[int], None] = lambda n: None) -> BulkReport:
    report = BulkReport()
    for source in sources:
        _enroll_one(source, face, batch_size, report)
        on_photo(len(source.photos))
    return report


def roster_problem(source: EmployeeSource, min_password_length: int) -> str | None:
    """Why this employee's folder or roster row cannot be used as given (the same rules as /register)."""
    if not EMPLOYEE_ID_PATTERN.match(source.employee_id):
        return "invalid_employee_id"
    if len(source.name) > NAME_MAX_LENGTH:
        return "invalid_name"
    if source.password not in (None, "generate"):
        try:
            check_password(source.password, min_password_length)
        except APIError as error:
            return error.code
    return None


def _enroll_one(source: EmployeeSource, face: FaceService, batch_size: int, report: BulkReport) -> None:
    problem = roster_problem(source, current_app.config["MIN_PASSWORD_LENGTH"])
    if problem:
        report.rows.append(ReportRow(source.employee_id, "", "refused", problem))
        return
    employee = db.session.scalar(select(Employee).where(Employee.employee_id == source.employee_id))
    known = {t.image_sha256 for t in employee.templates} if employee else set()
    fresh: list[tuple[PhotoSource, bytes, str]] = []
    for photo in source.photos:
        try:
            data = check_photo(photo.name, photo.read()).data
        except APIError as error:
            report.rows.append(ReportRow(source.employee_id, photo.name, "refused", error.code))
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest in known:
            report.rows.append(ReportRow(source.employee_id, photo.name, "skipped", "already_enrolled"))
        else:
            known.add(digest)
            fresh.append((photo, data, digest))
    accepted: list[tuple[FaceEmbedding, str, str]] = []
    for start in range(0, len(fresh), batch_size):
        chunk = fresh[start:start + batch_size]
        for (photo, _, digest), result in zip(chunk, face.engine.embed_many([d for _, d, _ in chunk]), strict=True):
            if isinstance(result, Exception):
                report.rows.append(ReportRow(source.employee_id, photo.name, "refused", result.code))
            else:
                accepted.append((result, digest, photo.name))
    if not accepted:
        return  # nothing usable: the employee is not created (or left as they were)
    is_new, generated = employee is None, None
    try:
        if is_new:
            employee, generated = _new_employee(source)
        employee.templates.extend(
            FaceTemplate(model=face.engine.model_name, dim=len(e.vector), vector=FaceTemplate.pack(e.vector),
                         image_sha256=digest)
            for e, digest, _ in accepted
        )
        db.session.flush()  # a new employee's key, for the gallery change
        bump_gallery_version(employee.id)
        db.session.commit()
    except IntegrityError:  # the same id enrolled meanwhile by /register or another import
        db.session.rollback()
        report.rows.extend(ReportRow(source.employee_id, name, "refused", "conflict") for _, _, name in accepted)
        return
    if is_new:
        report.employees_created += 1
    if generated:
        report.generated_passwords[source.employee_id] = generated
    report.rows.extend(ReportRow(source.employee_id, name, "enrolled") for _, _, name in accepted)


def _new_employee(source: EmployeeSource) -> tuple[Employee, str | None]:
    """The employee (added to the session) and the password generated for them, if any."""
    employee = Employee(employee_id=source.employee_id, name=source.name or source.employee_id)
    generated = secrets.token_urlsafe(12) if source.password == "generate" else None
    password = generated or source.password
    if password:
        taken = db.session.scalar(select(User.id).where(User.username == source.employee_id))
        if taken is None:
            employee.user = User(username=source.employee_id, password_hash=hash_password(password), role=Role.EMPLOYEE)
        else:  # an account of that name already exists (e.g. an HR login): no employee login, nothing to show
            generated = None
    db.session.add(employee)
    return employee, generated


def read_roster(text: str) -> dict[str, tuple[str, str | None]]:
    """employees.csv: employee_id -> (name, password or None)."""
    roster = {}
    for row in csv.DictReader(io.StringIO(text)):
        employee_id = (row.get("employee_id") or row.get("id") or "").strip()
        if employee_id:
            roster[employee_id] = ((row.get("name") or "").strip(), (row.get("password") or "").strip() or None)
    return roster


def sources_from_directory(root: Path) -> list[EmployeeSource]:
    roster_file = root / ROSTER
    roster = read_roster(roster_file.read_text(encoding="utf-8-sig")) if roster_file.exists() else {}
    sources = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        name, password = roster.get(folder.name, ("", None))
        photos = [PhotoSource(f"{folder.name}/{p.name}", _file_reader(p))
                  for p in sorted(folder.iterdir()) if p.is_file() and has_photo_extension(p.name)]
        sources.append(EmployeeSource(folder.name, name, password, photos))
    return sources


def _file_reader(path: Path) -> Callable[[], bytes]:
    def read() -> bytes:
        with path.open("rb") as handle:
            return handle.read(current_app.config["MAX_PHOTO_BYTES"] + 1)

    return read


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int = 20_000
    max_total_bytes: int = 2 * 1024 ** 3  # uncompressed
    max_ratio: float = 100.0  # uncompressed / compressed, per entry: zip bombs go far beyond


def sources_from_zip(archive: zipfile.ZipFile, limits: ZipLimits, max_photo_bytes: int) -> tuple[list[EmployeeSource], list[ReportRow]]:
    """Employees of an archive. Entry names are only parsed, never used as paths on disk."""
    entries = archive.infolist()
    if len(entries) > limits.max_entries:
        raise APIError("archive_too_large", f"The archive has more than {limits.max_entries:,} entries.", 413)
    if sum(e.file_size for e in entries) > limits.max_total_bytes:
        raise APIError("archive_too_large", "The archive expands beyond the allowed size.", 413)
    roster: dict[str, tuple[str, str | None]] = {}
    by_employee: dict[str, list[PhotoSource]] = {}
    refused: list[ReportRow] = []
    prefix = _common_prefix(entries)
    for entry in entries:
        if entry.is_dir():
            continue
        parts = PurePosixPath(entry.filename.replace("\\", "/")).parts[prefix:]
        if not parts or any(p in ("", ".", "..") for p in parts) or entry.filename.startswith("/"):
            refused.append(ReportRow("", entry.filename, "refused", "unsafe_name"))
            continue
        if parts == (ROSTER,):
            roster = read_roster(_read_entry(archive, entry, limits, max_photo_bytes).decode("utf-8-sig"))
            continue
        if len(parts) != 2 or not has_photo_extension(parts[1]):
            refused.append(ReportRow(parts[0] if len(parts) > 1 else "", entry.filename, "refused", "not_a_photo_entry"))
            continue
        by_employee.setdefault(parts[0], []).append(
            PhotoSource("/".join(parts), lambda e=entry: _read_entry(archive, e, limits, max_photo_bytes)))
    sources = [EmployeeSource(eid, *roster.get(eid, ("", None)), photos=photos)
               for eid, photos in sorted(by_employee.items())]
    return sources, refused


def _common_prefix(entries: list[zipfile.ZipInfo]) -> int:
    """1 when everything sits in one top folder (an archive of the folder itself), else 0."""
    tops = {PurePosixPath(e.filename).parts[0] for e in entries if PurePosixPath(e.filename).parts}
    nested = all(len(PurePosixPath(e.filename).parts) >= 2 or e.is_dir() for e in entries)
    return 1 if len(tops) == 1 and nested and ROSTER not in tops else 0


def _read_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limits: ZipLimits, max_bytes: int) -> bytes:
    if entry.file_size > max_bytes:
        raise APIError("file_too_large", f"{entry.filename} is over {max_bytes:,} bytes.", 413)
    if entry.compress_size and entry.file_size / entry.compress_size > limits.max_ratio:
        raise APIError("suspicious_compression", f"{entry.filename} expands {entry.file_size // entry.compress_size}x.", 413)
    try:
        with archive.open(entry) as handle:
            data = handle.read(max_bytes + 1)  # the header's size is not trusted
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, ValueError) as exc:
        raise APIError("invalid_archive", f"{entry.filename} cannot be read ({exc}).", 400) from exc
    if len(data) > max_bytes:  # the roster too, which check_photo does not see
        raise APIError("file_too_large", f"{entry.filename} is over {max_bytes:,} bytes.", 413)
    return data


def start_zip_import(archive_path: Path, created_by: User, face: FaceService) -> ImportJob:
    """Check the archive now (a bad one is refused at once), enrol in a background thread.

    The archive is a file the caller saved; the job owns it from here and deletes it when done.
    """
    try:
        archive = zipfile.ZipFile(archive_path)
        config = current_app.config
        limits = ZipLimits(config["IMPORT_MAX_ENTRIES"], config["IMPORT_MAX_EXPANDED_BYTES"])
        sources, refused = sources_from_zip(archive, limits, config["MAX_PHOTO_BYTES"])
    except zipfile.BadZipFile as exc:
        archive_path.unlink(missing_ok=True)
        raise APIError("invalid_archive", "The file is not a readable ZIP archive.", 400) from exc
    except APIError:
        archive.close()
        archive_path.unlink(missing_ok=True)
        raise
    job = ImportJob(id=str(uuid.uuid4()), created_by_pk=created_by.id, runner=this_runner(),
                    photos_total=sum(len(s.photos) for s in sources))
    db.session.add(job)
    db.session.commit()
    app = current_app._get_current_object()
    thread = threading.Thread(target=_run_job, args=(app, job.id, archive, sources, refused, face), daemon=True,
                              name=f"absen-import-{job.id[:8]}")
    thread.start()
    app.extensions.setdefault("absen_import_threads", []).append(thread)
    return job


def _run_job(app, job_id: str, archive: zipfile.ZipFile, sources: list[EmployeeSource], refused: list[ReportRow],
             face: FaceService) -> None:
    with app.app_context(), archive:
        job = db.session.get(ImportJob, job_id)
        job.status = "running"
        db.session.commit()

        def progress(photos: int) -> None:
            db.session.execute(update(ImportJob).where(ImportJob.id == job_id)
                               .values(photos_done=ImportJob.photos_done + photos))
            db.session.commit()

        try:
            report = enroll(sources, face, on_photo=progress)
            report.rows[:0] = refused
            job = db.session.get(ImportJob, job_id)
            job.status, job.report = "done", report.as_dict()
        except Exception as exc:  # recorded on the job: the client polls for it
            log.exception("Import %s failed", job_id)
            db.session.rollback()
            job = db.session.get(ImportJob, job_id)
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
        job.finished_at = utcnow()
        db.session.commit()
        db.session.remove()
    os.unlink(archive.filename)


def job_json(job: ImportJob) -> dict:
    return {"id": job.id, "status": job.status, "photos_total": job.photos_total, "photos_done": job.photos_done,
            "created_at": job.created_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "error": job.error, "report": job.report}


def this_runner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _runner_is_gone(runner: str | None) -> bool:
    """True when the job's process ran on this host and no longer exists (a restart, a crash)."""
    host, _, pid = (runner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another host's process: this one cannot tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def show_job(job: ImportJob) -> dict:
    """The job as JSON. Generated passwords are in the first answer after it is done, then erased.

    A job left queued or running by a process that is gone is marked failed: re-uploading the
    archive resumes it, since photos already enrolled are skipped.
    """
    if job.status in ("queued", "running") and _runner_is_gone(job.runner):
        job.status, job.finished_at = "failed", utcnow()
        job.error = "Interrupted: the server stopped during the import. Upload the archive again to resume."
        db.session.commit()
    shown = job_json(job)
    if job.report and job.report.get("generated_passwords"):
        job.report = {**job.report, "generated_passwords": {}, "passwords_already_shown": True}
        db.session.commit()
    return shown
