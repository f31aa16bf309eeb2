"""Extension objects, created unbound and attached by the app factory."""

from flask_jwt_extended import JWTManager

from models import db

jwt = JWTManager()

__all__ = ["db", "jwt"]
