"""The kiosk and enrolment pages in headless Chromium (Debian's chromium + chromium-driver, via Selenium),
against the production server over real HTTP. Chromium's fake camera plays a video the test builds from a
photo, so the kiosk's getUserMedia -> capture -> /predict path runs as on a tablet.

Screenshots go to test-output/browser/ (look at them after a run).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.live_server import ADMIN_PASSWORD, running_server, server  # noqa: F401  (server: the fixture)
from tests.photos import DATASETS, astronaut, astronaut_selfie, encode

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "browser"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WAIT_SECONDS = 60  # a check-in on this 2-core machine takes well under a second; the first one loads more

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ready  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def browser_missing() -> str | None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    return f"{' and '.join(missing)} not installed (Debian: apt-get install chromium chromium-driver)" if missing else None


if browser_missing():
    # CI installs the browser (.ci/run), so there a missing one is a failure, not a skip.
    if os.environ.get("CI"):
        raise RuntimeError(browser_missing())
    pytest.skip(browser_missing(), allow_module_level=True)


class Person:
    """Photos of one person: some to enrol through the file input, another to hold up to the kiosk camera."""

    def __init__(self, name: str, enrol: list[tuple[str, bytes]], camera: Image.Image):
        self.name, self.enrol, self.camera = name, enrol, camera


def person() -> Person:
    obama = DATASETS / "people" / "barack_obama"
    if obama.is_dir():  # real photos of a real person, different shots for enrolment and the camera
        return Person("Barack Obama", [(n, (obama / n).read_bytes()) for n in ("obama.jpg", "obama2.jpg")],
                      Image.open(obama / "obama-720p.jpg").convert("RGB"))
    # A fresh clone has no ../shared: scikit-image's astronaut, a different shot of her at the camera.
    return Person("Eileen Collins", [("astronaut.jpg", encode(astronaut()))], astronaut_selfie())


def fake_camera_video(image: Image.Image, path: Path, frames: int = 30) -> Path:
    """An MJPEG file (concatenated JPEG frames) for --use-file-for-fake-video-capture; Chromium loops it."""
    width = 640
    height = round(image.height * width / image.width) // 2 * 2
    frame = encode(image.resize((width, height)), "JPEG", quality=90)
    path.write_bytes(frame * frames)
    return path


@pytest.fixture(scope="module")
def someone() -> Person:
    return person()


@pytest.fixture(scope="module")
def browser(tmp_path_factory, someone):
    folder = tmp_path_factory.mktemp("chromium")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--window-size=1000,1000",
                 f"--use-file-for-fake-video-capture={fake_camera_video(someone.camera, folder / 'camera.mjpeg')}",
                 f"--user-data-dir={folder / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def wait_for(driver, condition, timeout: float = WAIT_SECONDS):
    return WebDriverWait(driver, timeout).until(condition)


def text_of(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def log_in(driver, username: str, password: str) -> None:
    wait_for(driver, ready.visibility_of_element_located((By.ID, "login")))
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()


def screenshot(driver, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000  # a rendered page, not a blank one
    return path


def test_enrol_then_check_in_at_the_kiosk_camera(browser, server, someone, tmp_path):  # noqa: F811
    # HR enrols the person through the form: each photo is checked as it is added.
    browser.get(f"{server}/enrol")
    log_in(browser, "admin", ADMIN_PASSWORD)
    wait_for(browser, ready.visibility_of_element_located((By.ID, "enrol")))
    browser.find_element(By.NAME, "employee_id").send_keys("EMP-100")
    browser.find_element(By.NAME, "name").send_keys(someone.name)
    blank = tmp_path / "wall.png"
    Image.fromarray(np.full((480, 640, 3), 200, np.uint8)).save(blank)  # a photo with no face in it
    files = []
    for filename, data in someone.enrol:
        (tmp_path / filename).write_bytes(data)
        files.append(tmp_path / filename)
    browser.find_element(By.ID, "files").send_keys("\n".join(str(f) for f in [*files, blank]))
    items = "#photos li"
    wait_for(browser, lambda d: all(li.get_attribute("data-result") for li in d.find_elements(By.CSS_SELECTOR, items))
             and len(d.find_elements(By.CSS_SELECTOR, items)) == len(files) + 1)
    results = {li.find_element(By.TAG_NAME, "img").get_attribute("alt"): li.get_attribute("data-result")
               for li in browser.find_elements(By.CSS_SELECTOR, items)}
    assert results == {**{f.name: "accepted" for f in files}, "wall.png": "no_face"}
    assert "no face" in browser.find_element(By.CSS_SELECTOR, "#photos li.no").text.lower()
    screenshot(browser, "1-enrol-photos-checked")

    browser.find_element(By.ID, "submit").click()  # only the accepted photos are sent
    wait_for(browser, lambda d: "Enrolled" in text_of(d, "outcome") or "error" in d.find_element(By.ID, "outcome").get_attribute("class"))
    assert text_of(browser, "outcome") == f"Enrolled {someone.name} (EMP-100) with {len(files)} photo(s)."
    screenshot(browser, "2-enrolled")

    # At the door: HR logs the kiosk in once; the camera shows the person; one press checks them in.
    browser.get(f"{server}/kiosk")
    log_in(browser, "admin", ADMIN_PASSWORD)
    capture = wait_for(browser, ready.element_to_be_clickable((By.ID, "capture")))
    wait_for(browser, lambda d: d.execute_script("return document.getElementById('video').videoWidth") > 0)
    screenshot(browser, "3-kiosk-camera")
    capture.click()
    wait_for(browser, lambda d: text_of(d, "result-title") not in ("", "Checking…"))
    assert text_of(browser, "result-title") == someone.name, text_of(browser, "result-detail")
    assert text_of(browser, "result-detail").startswith("Checked in at ")
    assert "ok" in browser.find_element(By.ID, "result").get_attribute("class").split()
    screenshot(browser, "4-kiosk-recognised")

    # The page resets to the camera by itself, and the kiosk stays logged in across a reload.
    wait_for(browser, ready.invisibility_of_element_located((By.ID, "result")), timeout=15)
    browser.refresh()
    wait_for(browser, ready.element_to_be_clickable((By.ID, "capture")))
    assert not browser.find_element(By.ID, "login").is_displayed()


def test_the_kiosk_refuses_an_employee_account_and_works_on_a_phone_screen(browser, server):  # noqa: F811
    browser.get(f"{server}/kiosk")
    browser.execute_script("localStorage.clear()")
    browser.refresh()
    log_in(browser, "admin", "wrong-password")
    wait_for(browser, lambda d: text_of(d, "login-error"))
    assert text_of(browser, "login-error") == "Wrong username or password."

    browser.set_window_size(390, 844)  # a phone held upright
    try:
        browser.find_element(By.NAME, "password").clear()
        browser.find_element(By.NAME, "username").clear()
        log_in(browser, "admin", ADMIN_PASSWORD)
        capture = wait_for(browser, ready.element_to_be_clickable((By.ID, "capture")))
        width = browser.execute_script("return document.documentElement.clientWidth")
        assert capture.rect["width"] <= width and capture.rect["x"] >= 0  # the button fits the screen
        screenshot(browser, "5-kiosk-phone")
        browser.find_element(By.ID, "logout").click()
        wait_for(browser, ready.visibility_of_element_located((By.ID, "login")))
    finally:
        browser.set_window_size(1000, 1000)


def test_swagger_ui_renders_the_generated_document(browser, server):  # noqa: F811
    browser.get(f"{server}/docs")
    wait_for(browser, ready.presence_of_element_located((By.CSS_SELECTOR, ".opblock-summary-path")))
    paths = {e.get_attribute("data-path") for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert {"/register", "/login", "/predict"} <= paths
    screenshot(browser, "6-swagger-ui")


def test_a_kiosk_that_requires_the_challenge_asks_for_a_head_turn(browser, tmp_path):
    """The camera here is a still photo, so the head never turns: the kiosk asks, then says why it failed."""
    with running_server(tmp_path, PREDICT_CHALLENGE="required") as required:
        browser.get(f"{required}/kiosk")
        browser.execute_script("localStorage.clear()")
        browser.refresh()
        log_in(browser, "admin", ADMIN_PASSWORD)
        capture = wait_for(browser, ready.element_to_be_clickable((By.ID, "capture")))
        wait_for(browser, lambda d: d.execute_script("return document.getElementById('video').videoWidth") > 0)
        capture.click()
        wait_for(browser, lambda d: text_of(d, "result-title").startswith("Now turn your head"))
        assert text_of(browser, "result-title") in ("Now turn your head to your LEFT", "Now turn your head to your RIGHT")
        screenshot(browser, "7-kiosk-challenge")
        wait_for(browser, lambda d: text_of(d, "result-title") not in ("", "Checking…")
                 and not text_of(d, "result-title").startswith("Now turn"))
        assert text_of(browser, "result-title") == "Turn your head the way the screen says, then try again."
        assert "no" in browser.find_element(By.ID, "result").get_attribute("class").split()
