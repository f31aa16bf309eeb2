from datetime import timedelta

import pytest
import time_machine

from tests.api.workday import at
from tests.photos import cameraman, encode


@pytest.fixture
def people(app, api, astronaut_jpeg):
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(days=30)  # the clock jumps by hours below
    with time_machine.travel(at(6), tick=False):
        assert api.register(api.hr(), "E1", [astronaut_jpeg], name="Eileen", password="employee-pass").status_code == 201
        assert api.register(api.hr(), "E2", [(encode(cameraman()), "c.jpg")], name="Carl",
                            password="second-pass").status_code == 201
        return {"E1": api.token("E1", "employee-pass"), "E2": api.token("E2", "second-pass"), "hr": api.hr()}
