"""`flask --app run <command>` commands for operators."""

from __future__ import annotations

import click
from flask import Flask, current_app

from models import Role

from .errors import APIError
from .services.auth import create_user


def register_cli(app: Flask) -> None:
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

    @app.cli.command("init-db")
    def init_db() -> None:
        """Create the database tables (the app also does this at start)."""
        click.echo(f"Database ready: {current_app.config['SQLALCHEMY_DATABASE_URI']}")
