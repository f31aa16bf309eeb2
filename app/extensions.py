"""Extension objects, created unbound and attached by the app factory."""

from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate

from models import db

jwt = JWTManager()
# Storage from RATELIMIT_STORAGE_URI: memory:// counts per worker process; redis:// counts for
# every worker and replica together (what production with several servers needs).
limiter = Limiter(key_func=get_remote_address)
migrate = Migrate()

__all__ = ["db", "jwt", "limiter", "migrate"]
