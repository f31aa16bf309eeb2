"""A work day on a frozen clock: Monday 2026-11-23 in Asia/Jakarta (UTC+7), the default zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from tests.photos import astronaut_selfie, encode

JAKARTA = ZoneInfo("Asia/Jakarta")
MONDAY = datetime(2026, 11, 23, tzinfo=JAKARTA)


def at(hour: int, minute: int = 0) -> datetime:
    return MONDAY.replace(hour=hour, minute=minute)


def selfie(n: int) -> tuple[bytes, str]:
    """A new shot of E1's face: different bytes each time (no replay), same person."""
    return encode(astronaut_selfie(), quality=70 + n), f"selfie{n}.jpg"


def post_at(api, moment: datetime, headers: dict, photo) -> dict:
    with time_machine.travel(moment, tick=False):
        response = api.predict(headers, photo)
    assert response.status_code == 200, response.json
    return response.json
