"""`flask --app run <command>` commands for operators."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from tqdm import tqdm

from models import Role, db

from .cli_accuracy import register_accuracy_cli
from .cli_finetune import register_finetune_cli
from .errors import APIError
from .face import face_service
from .services import bulk
from .services.auth import create_user


def register_cli(app: Flask) -> None:
    register_accuracy_cli(app)
    register_finetune_cli(app)

    @app.cli.command("create-admin")
    @click.argument("username")
    @click.option("--role", type=click.Choice([Role.ADMIN.value, Role.HR.value]), default=Role.ADMIN.value,
                  show_default=True, help="admin, or hr for an HR officer's account.")
    @click.password_option(help="Asked for when not given.")
    def create_admin(username: str, role: str, password: str) -> None:
        """Create an administrator (or HR) account."""
        try:
            user = create_user(username, password, Role(role), current_app.config["MIN_PASSWORD_LENGTH"])
        except APIError as error:
            raise click.ClickException(error.message) from error
        click.echo(f"Created {user.role.value} {user.username!r}.")

    @app.cli.command("enroll-dir")
    @click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
    @click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=Path("enroll-report.csv"),
                  show_default=True, help="Every photo's outcome; .csv or .json.")
    @click.option("--batch-size", type=click.IntRange(1, 256), default=16, show_default=True)
    def enroll_dir(directory: Path, report: Path, batch_size: int) -> None:
        """Enrol every employee folder of DIRECTORY (see app/services/bulk.py for the layout)."""
        sources = bulk.sources_from_directory(directory)
        total = sum(len(s.photos) for s in sources)
        with tqdm(total=total, unit="photo", desc="enrolling", dynamic_ncols=True) as bar:
            result = bulk.enroll(sources, face_service(), batch_size, on_photo=bar.update)
        result.write(report)
        summary = result.summary()
        click.echo(f"{summary['employees_created']} employees created, {summary['photos_enrolled']} photos enrolled, "
                   f"{summary['photos_skipped']} skipped (already enrolled), {summary['photos_refused']} refused. "
                   f"Report: {report}")
        for employee_id, password in result.generated_passwords.items():
            click.echo(f"generated password for {employee_id}: {password}")

    @app.cli.command("init-db")
    def init_db() -> None:
        """Bring the database to the newest migration (the app also does this at start) and say which it is."""
        url = db.engine.url.render_as_string(hide_password=True)  # the log must not carry the password
        click.echo(f"Database ready: {url}")
