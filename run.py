"""WSGI entry point: `gunicorn run:app`, `flask --app run <command>`."""

from app import create_app

app = create_app()
